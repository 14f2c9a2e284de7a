# Deploy/interop/lib/pair.sh - two Viaduct gateways (viaduct-pair-*).
# Sourced by Deploy/interop/run.sh (defines functions only; uses its variables: NS_*, WORK, PIDS, VIADUCT...).

run_pair() {
  local dir=$1 ike=$2 esp=$3 keytype=$4 expect=$5
  write_pair_topology "$dir" "$ike" "$esp" || fail "topology" || return 1
  "$VIADUCT" pki init "$dir/topology.yaml" --key-type "$keytype" >"$dir/pki.log" 2>&1 || fail "PKI: $(tail -1 "$dir/pki.log")" || return 1
  pair_net_up || fail "namespaces" || return 1
  start_viaduct "$dir" $NS_A gw-a gw-a || fail "viaduct run gw-a did not start" || return 1
  start_viaduct "$dir" $NS_B gw-b gw-b || fail "viaduct run gw-b did not start" || return 1
  local n
  for n in gw-a gw-b; do
    wait_for 15 grep -q "child SA installed.*dataplane=userspace" "$dir/$n.log" \
      || fail "$n installed no child SA: $(grep -m1 -E 'error|refused' "$dir/$n.log")" || return 1
  done
  # The tunnel interface came up (with its static routes) only once the Child SA was installed.
  local l_sa l_up
  l_sa=$(grep -n -m1 "child SA installed" "$dir/gw-a.log" | cut -d: -f1)
  l_up=$(grep -n -m1 'kernel updated change="~ link [^ ]* up"' "$dir/gw-a.log" | cut -d: -f1)
  [ -n "$l_sa" ] && [ -n "$l_up" ] && [ "$l_up" -gt "$l_sa" ] || fail "gw-a's tunnel interface did not come up after its child SA" || return 1
  ip -n $NS_A route show proto 222 | grep "198.18.2.0/24" >/dev/null || fail "gw-a has no static route to 198.18.2.0/24" || return 1
  ip -n $NS_A -6 route show proto 222 | grep "2001:db8:2::/64" >/dev/null || fail "gw-a has no static route to 2001:db8:2::/64" || return 1
  check_ping $NS_HA 198.18.2.10 "v4 a->b" && check_ping $NS_HB 198.18.1.10 "v4 b->a" \
    && check_ping $NS_HA 2001:db8:2::10 "v6 a->b" && check_ping $NS_HB 2001:db8:1::10 "v6 b->a" || return 1
  if [ "$expect" = pair-traffic ]; then
    check_iperf "$dir" $NS_HB $NS_HA 198.18.2.10 "v4 a->b" && check_iperf "$dir" $NS_HA $NS_HB 2001:db8:1::10 "v6 b->a" || return 1
  fi
  # An ESP proposal with a group: a Child SA rekey with PFS (its KE payloads), then an IKE SA rekey,
  # from gw-a; traffic goes on over the new SAs.
  case "$esp" in *-*) pair_rekeys "$dir" || return 1 ;; esac
  return 0
}

# pair_rekeys DIR: `viaduct rekey` of the Child SA, then of the IKE SA, from gw-a; both logs show
# the new SA and LAN<->LAN ping works after each.
pair_rekeys() {
  local dir=$1 before
  before=$(grep -c "child SA installed" "$dir/gw-b.log")
  ip netns exec $NS_A "$VIADUCT" rekey gw-b --child --socket "$dir/gw-a.sock" >/dev/null || fail "viaduct rekey --child failed" || return 1
  wait_for 15 sh -c "[ \$(grep -c 'child SA installed' '$dir/gw-b.log') -gt $before ]" || fail "gw-b installed no rekeyed child SA" || return 1
  check_ping $NS_HA 198.18.2.10 "v4 a->b after the Child SA rekey" || return 1
  ip netns exec $NS_A "$VIADUCT" rekey gw-b --ike --socket "$dir/gw-a.sock" >/dev/null || fail "viaduct rekey --ike failed" || return 1
  wait_for 15 grep -q "IKE SA rekeyed" "$dir/gw-b.log" || fail "gw-b logged no IKE SA rekey" || return 1
  check_ping $NS_HB 198.18.1.10 "v4 b->a after the IKE SA rekey" || return 1
}

# check_fails DIR "strongSwan log regex" "Viaduct log regex"
check_fails() {
  local dir=$1 ss_re=$2 v_re=$3
  wait_for 15 grep -Eq "$v_re" "$dir/viaduct.log" || fail "Viaduct log lacks /$v_re/" || return 1
  wait_for 10 grep -Eq "$ss_re" "$dir/strongswan/charon.log" || fail "strongSwan log lacks /$ss_re/" || return 1
  sw "$dir" --list-sas >"$dir/list-sas.txt" 2>&1
  grep -q INSTALLED "$dir/list-sas.txt" && { fail "strongSwan installed a CHILD_SA anyway"; return 1; }
  grep -q "child SA established" "$dir/viaduct.log" && { fail "Viaduct established a child SA anyway"; return 1; }
  return 0
}

# use_psk DIR MODE: a key file for Viaduct (viaduct pki psk, mode 0600) and the same secret for
# strongSwan; psk-wrong gives strongSwan another one.
use_psk() {
  local dir=$1 mode=$2 secret
  "$VIADUCT" pki psk "$dir/psk" >"$dir/psk.log" 2>&1 || return 1
  secret=$(cat "$dir/psk")
  [ "$mode" = psk-wrong ] && secret="not-the-same-key-${secret}"
  TOPO_TUNNEL_EXTRA="    auth: psk
    psk-file: psk"
  SS_AUTH=psk
  SS_SECRETS="secrets { ike-viaduct { id-1 = $ID_V
    id-2 = $ID_S
    secret = \"$secret\" } }"
}

# check_no_certificates DIR: Viaduct's IKE_AUTH message carried no CERT or CERTREQ payload (the
# payloads are encrypted, so strongSwan's log of what it parsed is the witness), and strongSwan
# authenticated Viaduct with the pre-shared key.
check_no_certificates() {
  local dir=$1 parsed
  parsed=$(grep "parsed IKE_AUTH" "$dir/strongswan/charon.log")
  [ -n "$parsed" ] || fail "strongSwan logged no parsed IKE_AUTH message" || return 1
  grep -q "CERT" <<<"$parsed" && { fail "Viaduct's IKE_AUTH carried a CERT or CERTREQ payload: $(head -1 <<<"$parsed")"; return 1; }
  grep -q "authentication of '$ID_V' with pre-shared key successful" "$dir/strongswan/charon.log" \
    || fail "strongSwan did not log a pre-shared key authentication of $ID_V" || return 1
}

check_capture() {
  local dir=$1
  sleep 0.5
  local n_v malformed
  n_v=$(tshark -r "$dir/capture.pcapng" -Y "ip.src == $IP_V && (udp.port == 500 || udp.port == 4500)" 2>/dev/null | wc -l)
  [ "$n_v" -gt 0 ] || fail "capture holds no Viaduct IKE packet" || return 1
  malformed=$(tshark -r "$dir/capture.pcapng" -Y "ip.src == $IP_V && _ws.malformed" 2>/dev/null | wc -l)
  [ "$malformed" -eq 0 ] || fail "tshark reports $malformed malformed Viaduct packet(s)" || return 1
  tshark -r "$dir/capture.pcapng" -V 2>/dev/null | grep -q "Malformed" && { fail "tshark -V mentions Malformed"; return 1; }
  return 0
}

