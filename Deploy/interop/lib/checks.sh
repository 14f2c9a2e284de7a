# Deploy/interop/lib/checks.sh - checks shared by the scenarios (SAs up, installed, status, cookie, ping, iperf, SPIs).
# Sourced by Deploy/interop/run.sh (defines functions only; uses its variables: NS_*, WORK, PIDS, VIADUCT...).

FAIL_REASON=""
fail() { FAIL_REASON=$*; return 1; }

check_up() {
  local dir=$1
  wait_for 15 sw_has "$dir" INSTALLED \
    || fail "strongSwan shows no INSTALLED CHILD_SA" || return 1
  sw "$dir" --list-sas >"$dir/list-sas.txt" 2>&1
  grep -q ESTABLISHED "$dir/list-sas.txt" || fail "strongSwan IKE_SA not ESTABLISHED" || return 1
  # strongSwan: "viaduct: #1, ESTABLISHED, IKEv2, 0123456789abcdef_i fedcba9876543210_r*"
  local ike_i ike_r child_in child_out
  ike_i=$(grep -o '[0-9a-f]\{16\}_i' "$dir/list-sas.txt" | head -1 | cut -d_ -f1)
  ike_r=$(grep -o '[0-9a-f]\{16\}_r' "$dir/list-sas.txt" | head -1 | cut -d_ -f1)
  child_in=$(awk '$1 == "in" {gsub(",", "", $2); print $2; exit}' "$dir/list-sas.txt")
  child_out=$(awk '$1 == "out" {gsub(",", "", $2); print $2; exit}' "$dir/list-sas.txt")
  [ -n "$ike_i" ] && [ -n "$ike_r" ] && [ -n "$child_in" ] && [ -n "$child_out" ] \
    || fail "cannot read SPIs from swanctl --list-sas" || return 1
  wait_for 5 grep -q "child SA established" "$dir/viaduct.log" || fail "Viaduct logged no child SA" || return 1
  grep -q "IKE SA established.*spi=\"${ike_i}_i ${ike_r}_r\"" "$dir/viaduct.log" \
    || fail "Viaduct's IKE SPIs differ from strongSwan's (${ike_i}_i ${ike_r}_r)" || return 1
  # Viaduct's inbound SPI is strongSwan's outbound one and vice versa.
  grep -q "child SA established.*spi=\"${child_out}_i ${child_in}_o\"" "$dir/viaduct.log" \
    || fail "Viaduct's child SPIs differ from strongSwan's (in $child_in, out $child_out)" || return 1
  return 0
}

# check_installed DIR: Viaduct's userspace data plane took the Child SA.
check_installed() {
  local dir=$1
  wait_for 5 grep -q "child SA installed.*dataplane=userspace" "$dir/viaduct.log" \
    || fail "Viaduct's userspace data plane did not install the child SA: $(grep -m1 'data plane refused' "$dir/viaduct.log")" || return 1
}

# check_cookie DIR: Viaduct answered strongSwan's first IKE_SA_INIT with a COOKIE and admitted
# the one that carried it back (strongSwan logs "received COOKIE notify" and resends).
check_cookie() {
  local dir=$1
  grep -q "asked for a COOKIE" "$dir/viaduct.log" || fail "Viaduct never asked for a COOKIE" || return 1
  grep -q "received COOKIE notify" "$dir/strongswan/charon.log" || fail "strongSwan did not log receiving the COOKIE" || return 1
  [ "$(grep -c "IKE SA requested by peer" "$dir/viaduct.log")" = 1 ] \
    || fail "Viaduct created $(grep -c "IKE SA requested by peer" "$dir/viaduct.log") responder sessions, expected 1 (only the request with the cookie)" || return 1
  note "COOKIE round trip"
}

# check_status_up DIR: `viaduct status` counts the tunnel up, and its Child SA is the one
# strongSwan shows (it was installed: a Child SA the data plane refused is never shown up).
check_status_up() {
  local dir=$1 text json child_in child_out
  text=$(ip netns exec $NS_V "$VIADUCT" status --socket "$dir/viaduct.sock" 2>&1)
  printf '%s\n' "$text" >"$dir/status.txt"
  printf '%s\n' "$text" | grep -q ": 1 of 1 tunnel up" || fail "viaduct status: $(printf '%s' "$text" | head -1)" || return 1
  json=$(ip netns exec $NS_V "$VIADUCT" status --json --socket "$dir/viaduct.sock" 2>/dev/null)
  child_in=$(awk '$1 == "in" {gsub(",", "", $2); print $2; exit}' "$dir/list-sas.txt")
  child_out=$(awk '$1 == "out" {gsub(",", "", $2); print $2; exit}' "$dir/list-sas.txt")
  [ "$(printf '%s' "$json" | jq -r '.tunnels[0] | "\(.state) \(.child_sas[0].spi_in) \(.child_sas[0].spi_out)"')" \
    = "established $child_out $child_in" ] \
    || fail "viaduct status --json does not show strongSwan's Child SA ($child_out/$child_in): $(printf '%s' "$json" | jq -c '.tunnels[0] | {state, reason, child_sas}')" || return 1
  note "status up: $(printf '%s' "$json" | jq -r '.tunnels[0].child_sas[0] | "\(.encryption)/\(.integrity)"')"
}

NOTE=""
note() { NOTE="${NOTE:+$NOTE, }$*"; }

# check_ping FROM_NS TO_ADDR LABEL: warm up (routes follow the Child SA), then 10 echoes, no loss.
check_ping() {
  local from=$1 to=$2 label=$3 out loss
  wait_for 10 ip netns exec "$from" ping -n -c 1 -W 1 "$to" >/dev/null 2>&1 || fail "no ping reply $label ($to)" || return 1
  out=$(ip netns exec "$from" ping -n -c 10 -i 0.1 -W 1 "$to" 2>&1)
  loss=$(printf '%s\n' "$out" | grep -o '[0-9.]*% packet loss' | cut -d% -f1)
  [ "$loss" = 0 ] || fail "ping $label: ${loss:-?}% loss" || return 1
  note "ping $label 0% loss"
}

# check_iperf DIR SERVER_NS CLIENT_NS ADDR LABEL: 5 s TCP; every 1 s interval must carry data.
check_iperf() {
  local dir=$1 srv=$2 cli=$3 addr=$4 label=$5 json=$1/iperf-$5.json
  ip netns exec "$srv" iperf3 -s -1 -B "$addr" >"$dir/iperf-server-$label.log" 2>&1 &
  PIDS+=($!)
  wait_for 5 sh -c "ip netns exec '$srv' ss -ltn | grep -q ':5201'" || fail "iperf3 server did not start" || return 1
  ip netns exec "$cli" timeout 20 iperf3 -c "$addr" -t 5 -i 1 -J >"$json" 2>"$dir/iperf-client-$label.log" \
    || fail "iperf3 $label failed: $(jq -r '.error // empty' "$json" 2>/dev/null)" || return 1
  local intervals stalled gbps
  intervals=$(jq '[.intervals[].sum.bits_per_second] | length' "$json")
  stalled=$(jq '[.intervals[].sum.bits_per_second | select(. <= 0)] | length' "$json")
  gbps=$(jq '.end.sum_received.bits_per_second / 1e9 * 1000 | floor / 1000' "$json")
  [ "${intervals:-0}" -ge 5 ] || fail "iperf3 $label: only ${intervals:-0} intervals" || return 1
  [ "$stalled" = 0 ] || fail "iperf3 $label stalled: $stalled interval(s) at 0 bit/s" || return 1
  note "iperf3 $label $gbps Gbit/s"
}

# LAN hosts and libipsec's routes: kernel-libipsec's ipsec0 exists once charon runs; its own
# routes live in table 220, which the fwmark trick disables, so the LAN routes go to main.
strongswan_lan_up() {
  lan_up $NS_V $NS_HV v-lan h-lan 1 && lan_up $NS_S $NS_HS s-lan h-lan 2 || return 1
  wait_for 5 ip -n $NS_S link show ipsec0 >/dev/null 2>&1 || { log "no ipsec0"; return 1; }
  ip -n $NS_S route add 198.18.1.0/24 dev ipsec0 && ip -n $NS_S -6 route add 2001:db8:1::/64 dev ipsec0
}

check_traffic_strongswan() {
  local dir=$1 iperf=$2
  check_ping $NS_HV 198.18.2.10 "v4 v->s" && check_ping $NS_HS 198.18.1.10 "v4 s->v" \
    && check_ping $NS_HV 2001:db8:2::10 "v6 v->s" && check_ping $NS_HS 2001:db8:1::10 "v6 s->v" || return 1
  [ "$iperf" = 1 ] || return 0
  check_iperf "$dir" $NS_HS $NS_HV 198.18.2.10 "v->s" && check_iperf "$dir" $NS_HV $NS_HS 198.18.1.10 "s->v" || return 1
  # strongSwan deletes the IKE SA: Viaduct removes the Child SA, takes the interface down and
  # withdraws its static routes (what a BGP daemon and the routing table see).
  sw "$dir" --terminate --ike viaduct --timeout 10 >"$dir/terminate.log" 2>&1
  wait_for 5 sh -c "! ip -n $NS_V route show proto 222 | grep -q '198.18.2.0/24'" \
    || fail "Viaduct kept its route to 198.18.2.0/24 after strongSwan deleted the IKE SA" || return 1
  grep -q 'kernel updated change="~ link [^ ]* down"' "$dir/viaduct.log" \
    || fail "Viaduct did not take the tunnel interface down after the delete" || return 1
  note "link down + routes withdrawn on delete"
}

