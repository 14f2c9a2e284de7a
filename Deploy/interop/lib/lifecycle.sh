# Deploy/interop/lib/lifecycle.sh - life of a tunnel: rekeys and deletes from either side, a restarted peer, reauthentication.
# Sourced by Deploy/interop/run.sh (defines functions only; uses its variables: NS_*, WORK, PIDS, VIADUCT...).

# ss_state DIR: "ike SPI_I SPI_R" per ESTABLISHED IKE SA and "child IN OUT PROPOSAL" per
# INSTALLED Child SA, from swanctl --list-sas.
ss_state() {
  sw "$1" --list-sas 2>/dev/null | awk '
    /, ESTABLISHED, IKEv2, / { i = ""; r = ""
      for (k = 1; k <= NF; k++) { if ($k ~ /_i\*?$/) i = $k; if ($k ~ /_r\*?$/) r = $k }
      gsub(/_i|\*/, "", i); gsub(/_r|\*/, "", r); print "ike", i, r }
    /, INSTALLED, / { child = 1; prop = $NF; next }
    child && $1 == "in" { ci = $2; sub(",", "", ci); next }
    child && $1 == "out" { co = $2; sub(",", "", co); print "child", ci, co, prop; child = 0 }'
}

# ss_settled DIR [OLD_IKE] [OLD_CHILD]: exactly one IKE SA and one Child SA, other than the old ones.
ss_settled() {
  local st
  st=$(ss_state "$1")
  [ "$(grep -c '^ike ' <<<"$st")" = 1 ] && [ "$(grep -c '^child ' <<<"$st")" = 1 ] || return 1
  [ -z "${2:-}" ] || [ "$(grep '^ike ' <<<"$st" | cut -d' ' -f2-3)" != "$2" ] || return 1
  [ -z "${3:-}" ] || [ "$(grep '^child ' <<<"$st" | cut -d' ' -f2-3)" != "$3" ]
}

v_status() { ip netns exec $NS_V "$VIADUCT" status --json --socket "$1/viaduct.sock" 2>/dev/null; }
v_sas() { v_status "$1" | jq -r '"\(.tunnels[0].ike.spis // "-") | \([.tunnels[0].child_sas[] | .spi_in + " " + .spi_out] | join(";"))"'; }

# v_matches DIR IKE_I IKE_R C_IN C_OUT: `viaduct status --json` shows exactly these SAs (its
# inbound Child SPI is strongSwan's outbound one).
v_matches() { [ "$(v_sas "$1")" = "${2}_i ${3}_r | $5 $4" ]; }

SS_IKE="" SS_CHILD="" SS_PROP=""
# check_same DIR LABEL [OLD_IKE] [OLD_CHILD]: strongSwan settles on one IKE SA and one Child SA
# (new ones when the old are given), Viaduct's status shows the same SPIs, and LAN<->LAN ping
# works both ways.
# same_now DIR [OLD_IKE] [OLD_CHILD]: strongSwan has settled and Viaduct shows the same SAs, read
# afresh each time (an exchange may still be running); sets SS_IKE, SS_CHILD, SS_PROP.
same_now() {
  local st c_in c_out ike_i ike_r
  ss_settled "$1" "${2:-}" "${3:-}" || return 1
  st=$(ss_state "$1")
  read -r _ ike_i ike_r <<<"$(grep '^ike ' <<<"$st")"
  read -r _ c_in c_out SS_PROP <<<"$(grep '^child ' <<<"$st")"
  SS_IKE="$ike_i $ike_r" SS_CHILD="$c_in $c_out"
  v_matches "$1" "$ike_i" "$ike_r" "$c_in" "$c_out"
}

check_same() {
  local dir=$1 label=$2 saved=$NOTE
  wait_for 25 same_now "$dir" "${3:-}" "${4:-}" \
    || fail "$label: strongSwan shows '$(ss_state "$dir" | tr '\n' ';')', viaduct status '$(v_sas "$dir")' (wanted new SAs other than '${3:-}' '${4:-}')" || return 1
  check_ping $NS_HV 198.18.2.10 "$label v->s" && check_ping $NS_HS 198.18.1.10 "$label s->v" || return 1
  NOTE=$saved
  note "$label ok"
}

# check_deleted_by_strongswan DIR: swanctl --terminate of the Child SA, then of the IKE SA;
# Viaduct removes each (log and status).
check_deleted_by_strongswan() {
  local dir=$1 c_in=${SS_CHILD% *} c_out=${SS_CHILD#* }
  sw "$dir" --terminate --child net --timeout 10 >"$dir/terminate-child.log" 2>&1
  wait_for 10 grep -q "child SA removed.*spi=\"${c_out}_i ${c_in}_o\"" "$dir/viaduct.log" \
    || fail "Viaduct did not remove the Child SA strongSwan deleted" || return 1
  wait_for 5 sh -c "[ \"\$(ip netns exec $NS_V '$VIADUCT' status --json --socket '$dir/viaduct.sock' | jq '.tunnels[0].child_sas | length')\" = 0 ]" \
    || fail "viaduct status still lists a Child SA after strongSwan's delete" || return 1
  note "child delete ok"
  sw "$dir" --terminate --ike viaduct --timeout 10 >"$dir/terminate-ike.log" 2>&1
  wait_for 10 grep -q "IKE SA deleted" "$dir/viaduct.log" || fail "Viaduct did not log strongSwan's IKE SA delete" || return 1
  wait_for 5 sh -c "[ \"\$(ip netns exec $NS_V '$VIADUCT' status --json --socket '$dir/viaduct.sock' | jq -r '.tunnels[0].ike // \"none\"')\" = none ]" \
    || fail "viaduct status still shows an IKE SA after strongSwan's delete" || return 1
  note "ike delete ok"
}

# lifecycle-strongswan: strongSwan rekeys (Child SA with PFS, IKE SA, Child SA again on the new
# IKE SA) and deletes; Viaduct answers.
run_lifecycle_strongswan() {
  local dir=$1 ike0 child0 child1
  check_up "$dir" && check_installed "$dir" && check_same "$dir" up || return 1
  ike0=$SS_IKE child0=$SS_CHILD
  sw "$dir" --rekey --child net >"$dir/rekey-child.log" 2>&1 || fail "swanctl --rekey --child: $(tail -1 "$dir/rekey-child.log")" || return 1
  check_same "$dir" "child-rekey(ss)" "" "$child0" || return 1
  [ "$SS_IKE" = "$ike0" ] || fail "the IKE SA changed in a Child SA rekey" || return 1
  case $SS_PROP in */CURVE_25519*) ;; *) fail "strongSwan's rekeyed Child SA shows no PFS group: $SS_PROP"; return 1 ;; esac
  child1=$SS_CHILD
  sw "$dir" --rekey --ike viaduct >"$dir/rekey-ike.log" 2>&1 || fail "swanctl --rekey --ike: $(tail -1 "$dir/rekey-ike.log")" || return 1
  check_same "$dir" "ike-rekey(ss)" "$ike0" "" || return 1
  [ "$SS_CHILD" = "$child1" ] || fail "the Child SA changed in an IKE SA rekey" || return 1
  grep -q "IKE SA rekeyed.*spi=\"${SS_IKE% *}_i ${SS_IKE#* }_r\"" "$dir/viaduct.log" || fail "Viaduct logged no IKE SA rekey to $SS_IKE" || return 1
  sw "$dir" --rekey --child net >"$dir/rekey-child2.log" 2>&1
  check_same "$dir" "child-rekey-on-new-ike(ss)" "" "$child1" || return 1
  # Both sides ask for an IKE SA rekey at about the same time (the requests may cross, §2.8.2,
  # or run one after the other): either way both settle on one new IKE SA.
  local ike1=$SS_IKE
  ip netns exec $NS_V "$VIADUCT" rekey ss-gw --ike --socket "$dir/viaduct.sock" >"$dir/rekey-ike-both.log" 2>&1 &
  sw "$dir" --rekey --ike viaduct >>"$dir/rekey-ike-both.log" 2>&1
  wait $! 2>/dev/null
  check_same "$dir" "ike-rekey-both" "$ike1" "" || return 1
  # Crossed IKE SA rekeys for certain: both requests are sent while the underlay link is down,
  # so their retransmissions meet requests already outstanding at the other side (§2.8.2: both
  # or one side notice the collision, depending on which retransmission comes first).
  local ike2=$SS_IKE child2=$SS_CHILD
  ip -n $NS_V link set v-wan down || fail "cannot take the underlay down" || return 1
  ip netns exec $NS_V "$VIADUCT" rekey ss-gw --ike --socket "$dir/viaduct.sock" >"$dir/rekey-ike-crossed.log" 2>&1
  sw "$dir" --rekey --ike viaduct >>"$dir/rekey-ike-crossed.log" 2>&1
  sleep 1
  ip -n $NS_V link set v-wan up
  wait_for 5 sh -c "ip -n $NS_V route get $IP_S >/dev/null 2>&1" || fail "the underlay did not come back" || return 1
  check_same "$dir" "ike-rekey-crossed" "$ike2" "" || return 1
  [ "$SS_CHILD" = "$child2" ] || fail "the Child SA changed in crossed IKE SA rekeys" || return 1
  grep -q "collision" "$dir/strongswan/charon.log" && note "strongSwan saw the collision"
  check_deleted_by_strongswan "$dir"
}

# v_child_count DIR N: `viaduct status --json` lists N Child SAs.
v_child_count() { [ "$(v_status "$1" | jq '.tunnels[0].child_sas | length')" = "$2" ]; }

# child-recreate: strongSwan deletes the Child SA and creates a new one in the same IKE SA
# (RFC 7296 §1.3.1), as its trap, DPD restart and close actions do; then asks for a second one.
run_child_recreate() {
  local dir=$1 ike0 child0 child1
  check_up "$dir" && check_installed "$dir" && check_same "$dir" up || return 1
  ike0=$SS_IKE child0=$SS_CHILD
  sw "$dir" --terminate --child net --timeout 10 >"$dir/terminate-child.log" 2>&1
  wait_for 10 v_child_count "$dir" 0 || fail "viaduct status still lists a Child SA after strongSwan's delete" || return 1
  sw "$dir" --initiate --child net --timeout 20 >"$dir/initiate-child.log" 2>&1 \
    || fail "swanctl --initiate --child (a new Child SA in the same IKE SA) failed: $(grep -m1 -E 'received .* notify|failed to establish' "$dir/initiate-child.log")" || return 1
  check_same "$dir" "peer-created-child" "" "$child0" || return 1
  [ "$SS_IKE" = "$ike0" ] || fail "the IKE SA changed ($ike0 -> $SS_IKE): the Child SA was to be created inside it" || return 1
  child1=$SS_CHILD
  # A second Child SA while one is installed (another child config, `net2`, with narrower selectors:
  # strongSwan never duplicates one with the same): refused, with a reason in Viaduct's log and status.
  sw "$dir" --initiate --child net2 --timeout 20 >"$dir/initiate-child2.log" 2>&1
  grep -q "NO_ADDITIONAL_SAS" "$dir/initiate-child2.log" || fail "strongSwan was not answered NO_ADDITIONAL_SAS: $(tail -1 "$dir/initiate-child2.log")" || return 1
  wait_for 10 grep -q "refused the peer's new Child SA.*NO_ADDITIONAL_SAS" "$dir/viaduct.log" \
    || fail "Viaduct logged no refusal of the second Child SA" || return 1
  [ "$(v_status "$dir" | jq -r '.tunnels[0].refused_child_sa.notify // "none"')" = NO_ADDITIONAL_SAS ] \
    || fail "viaduct status shows no refused Child SA: $(v_status "$dir" | jq -c '.tunnels[0].refused_child_sa')" || return 1
  check_same "$dir" "after-refusal" || return 1
  [ "$SS_CHILD" = "$child1" ] || fail "the installed Child SA changed ($child1 -> $SS_CHILD) after the refusal" || return 1
}

# check_rebuilt DIR LABEL T0_MS DOWNS OLD_IKE OLD_CHILD: the tunnel's only Child SA was deleted at
# T0_MS (ms since the epoch) and its IKE SA left up. Viaduct took the interface down (more than DOWNS
# "link down" lines), logged that it re-establishes the tunnel after --retry-delay (5 s), and, as the
# topology's initiator, built it again (a new IKE SA with a Child SA, the old IKE SA deleted): strongSwan
# settles on one IKE SA and one Child SA other than the old ones, Viaduct's status shows the same and
# LAN<->LAN ping works both ways, within REBUILD_BOUND seconds of T0_MS (the time is printed).
REBUILD_BOUND=15
check_rebuilt() {
  local dir=$1 label=$2 t0=$3 downs=$4 ms
  wait_for 5 sh -c "[ \$(grep -c 'kernel updated change=\"~ link [^ ]* down\"' '$dir/viaduct.log') -gt $downs ]" \
    || fail "$label: Viaduct did not take the tunnel interface down when its last Child SA went" || return 1
  REBUILDS=$((REBUILDS + 1))
  [ "$(grep -c "tunnel has no Child SA left: re-establishing in 5s" "$dir/viaduct.log")" -ge "$REBUILDS" ] \
    || fail "$label: Viaduct did not announce the re-establishment" || return 1
  check_same "$dir" "$label" "$5" "$6" || return 1
  ms=$(( $(date +%s%3N) - t0 ))
  [ "$ms" -le $((REBUILD_BOUND * 1000)) ] || fail "$label: the tunnel came back after ${ms} ms (bound ${REBUILD_BOUND} s)" || return 1
  note "$label: tunnel back (ping both ways) $((ms / 1000)).$((ms % 1000 / 100)) s after the delete (retry delay 5 s)"
}

# lifecycle-viaduct: Viaduct rekeys on its soft lifetimes (Child SA every 20 s with PFS, IKE SA
# after 25 s); the Child SA deleted by either side comes back; then Viaduct stops: SIGTERM deletes
# the IKE SA at strongSwan.
run_lifecycle_viaduct() {
  local dir=$1 ike0 child0 vpid
  REBUILDS=0
  check_up "$dir" && check_installed "$dir" && check_same "$dir" up || return 1
  ike0=$SS_IKE child0=$SS_CHILD
  wait_for 30 sh -c "[ \$(grep -c 'child SA established' '$dir/viaduct.log') -ge 2 ]" || fail "Viaduct did not rekey the Child SA within 30 s" || return 1
  check_same "$dir" "child-rekey(v)" "" "$child0" || return 1
  case $SS_PROP in */CURVE_25519*) ;; *) fail "Viaduct's rekeyed Child SA shows no PFS group at strongSwan: $SS_PROP"; return 1 ;; esac
  grep -q "received CREATE_CHILD_SA request" "$dir/strongswan/charon.log" 2>/dev/null || grep -q "CREATE_CHILD_SA request" "$dir/strongswan/charon.log" \
    || fail "strongSwan logged no CREATE_CHILD_SA request from Viaduct" || return 1
  wait_for 20 grep -q "IKE SA rekeyed" "$dir/viaduct.log" || fail "Viaduct did not rekey the IKE SA within 45 s" || return 1
  check_same "$dir" "ike-rekey(v)" "$ike0" "" || return 1
  grep -q "IKE SA rekeyed.*spi=\"${SS_IKE% *}_i ${SS_IKE#* }_r\"" "$dir/viaduct.log" || fail "Viaduct's IKE rekey log differs from strongSwan's $SS_IKE" || return 1
  # Viaduct's side of DELETE: the Child SA on an operator's command, then the IKE SA by
  # stopping the daemon.
  local c_out=${SS_CHILD#* }  # a Delete names the sender's inbound SPI: strongSwan's outbound one
  local ike1=$SS_IKE child1=$SS_CHILD downs t0
  downs=$(grep -c 'kernel updated change="~ link [^ ]* down"' "$dir/viaduct.log")
  t0=$(date +%s%3N)
  ip netns exec $NS_V "$VIADUCT" terminate ss-gw --child --socket "$dir/viaduct.sock" >"$dir/terminate-child.log" 2>&1 \
    || fail "viaduct terminate --child: $(tail -1 "$dir/terminate-child.log")" || return 1
  wait_for 10 grep -q "received DELETE for ESP CHILD_SA with SPI $c_out" "$dir/strongswan/charon.log" \
    || fail "strongSwan got no DELETE for the Child SA $c_out from Viaduct" || return 1
  wait_for 5 sw_lacks "$dir" INSTALLED \
    || fail "strongSwan kept the Child SA after Viaduct's delete" || return 1
  note "child delete by viaduct ok"
  check_rebuilt "$dir" "rebuilt-after-viaduct-delete" "$t0" "$downs" "$ike1" "$child1" || return 1
  # strongSwan deletes the only Child SA (its IKE SA stays): Viaduct, the initiator, builds the tunnel again.
  local ike2=$SS_IKE child2=$SS_CHILD c_in2=${SS_CHILD% *} c_out2=${SS_CHILD#* }
  downs=$(grep -c 'kernel updated change="~ link [^ ]* down"' "$dir/viaduct.log")
  t0=$(date +%s%3N)
  sw "$dir" --terminate --child net --timeout 10 >"$dir/terminate-child-ss.log" 2>&1
  wait_for 10 grep -q "child SA removed.*spi=\"${c_out2}_i ${c_in2}_o\"" "$dir/viaduct.log" \
    || fail "Viaduct did not remove the Child SA strongSwan deleted" || return 1
  check_rebuilt "$dir" "rebuilt-after-strongswan-delete" "$t0" "$downs" "$ike2" "$child2" || return 1
  local deletes
  deletes=$(grep -c "received DELETE for IKE_SA" "$dir/strongswan/charon.log")
  vpid=$VIADUCT_PID
  kill -TERM "$vpid"
  wait_for 10 sh -c "! kill -0 $vpid 2>/dev/null" || fail "viaduct did not stop on SIGTERM" || return 1
  wait_for 5 sh -c "[ \$(grep -c 'received DELETE for IKE_SA' '$dir/strongswan/charon.log') -gt $deletes ]" \
    || fail "strongSwan got no DELETE from the stopping Viaduct" || return 1
  wait_for 5 sw_lacks "$dir" ESTABLISHED \
    || fail "strongSwan kept the IKE SA after Viaduct's delete" || return 1
  note "ike delete by viaduct ok"
}

# peer-restart: charon dies (SIGKILL) and comes back; it initiates with INITIAL_CONTACT and
# Viaduct must carry traffic on the new SAs within RESTART_BOUND seconds.
RESTART_BOUND=20
run_peer_restart() {
  local dir=$1 ike0 t0 elapsed
  check_up "$dir" && check_installed "$dir" && check_same "$dir" up || return 1
  ike0=$SS_IKE
  kill -KILL "$CHARON_PID"
  wait "$CHARON_PID" 2>/dev/null  # reaped here, so bash does not report the kill
  wait_for 5 sh -c "! kill -0 $CHARON_PID 2>/dev/null" || fail "charon did not die" || return 1
  t0=$(date +%s)
  start_charon "$dir" || fail "charon did not start again" || return 1
  # kernel-libipsec's ipsec0 died with charon; the LAN routes follow the new one.
  wait_for 5 ip -n $NS_S link show ipsec0 >/dev/null 2>&1 || fail "no ipsec0 after the restart" || return 1
  ip -n $NS_S route replace 198.18.1.0/24 dev ipsec0 && ip -n $NS_S -6 route replace 2001:db8:1::/64 dev ipsec0
  check_same "$dir" "after-restart" "$ike0" "" || return 1
  elapsed=$(( $(date +%s) - t0 ))
  grep -q "dropped a stale IKE SA" "$dir/viaduct.log" || fail "Viaduct did not drop the stale IKE SA on INITIAL_CONTACT" || return 1
  [ "$elapsed" -le "$RESTART_BOUND" ] || fail "re-established after ${elapsed}s (bound ${RESTART_BOUND}s)" || return 1
  note "re-established ${elapsed}s after the restart"
}

# reauth-viaduct / reauth-strongswan (RFC 7296 §2.8.3): one side replaces the IKE SA by a new
# IKE_SA_INIT + IKE_AUTH with a new Child SA, make-before-break, while a LAN host pings through
# the tunnel (every echo crosses both directions' Child SAs). No echo may be lost; afterwards
# strongSwan holds exactly one IKE SA and one Child SA, both new, and Viaduct's status the same.
run_reauth() {
  local dir=$1 who=$2 ike0 child0 pid loss
  check_up "$dir" && check_installed "$dir" && check_same "$dir" up || return 1
  ike0=$SS_IKE child0=$SS_CHILD
  ip netns exec $NS_HV ping -n -c 200 -i 0.1 -W 1 198.18.2.10 >"$dir/ping-reauth.txt" 2>&1 &
  pid=$!
  PIDS+=($pid)
  wait_for 25 grep -q "IKE SA reauthenticated" "$dir/viaduct.log" || fail "no reauthentication logged by Viaduct within 25 s" || return 1
  wait "$pid"
  loss=$(grep -o '[0-9.]*% packet loss' "$dir/ping-reauth.txt" | cut -d% -f1)
  [ "$loss" = 0 ] || fail "ping across the reauthentication: ${loss:-?}% loss ($(grep transmitted "$dir/ping-reauth.txt"))" || return 1
  note "$(grep -o '[0-9]* received' "$dir/ping-reauth.txt") echoes across the reauthentication, 0% loss"
  check_same "$dir" "after-reauth" "$ike0" "$child0" || return 1
  # A new IKE SA from IKE_SA_INIT (strongSwan numbers it 2), not a CREATE_CHILD_SA rekey.
  grep -q "IKE SA rekeyed" "$dir/viaduct.log" && { fail "Viaduct rekeyed the IKE SA instead of reauthenticating"; return 1; }
  grep -q "IKE_SA viaduct\[2\] established" "$dir/strongswan/charon.log" \
    || fail "strongSwan logged no second IKE SA (viaduct[2])" || return 1
  if [ "$who" = viaduct ]; then
    grep -q "reauthenticating: opening a new IKE SA" "$dir/viaduct.log" || fail "Viaduct did not start the reauthentication" || return 1
    grep -q "received DELETE for IKE_SA viaduct\[1\]" "$dir/strongswan/charon.log" \
      || fail "strongSwan got no DELETE for the old IKE SA from Viaduct" || return 1
  else
    grep -q "reauthenticating IKE_SA viaduct\[1\]" "$dir/strongswan/charon.log" \
      || fail "strongSwan did not log its reauthentication" || return 1
    grep -q "the peer opened another IKE SA" "$dir/viaduct.log" \
      || fail "Viaduct did not hold the new Child SA's outbound half until the old IKE SA went" || return 1
  fi
  # §2.4: the reauthenticating side's second IKE_AUTH carries no INITIAL_CONTACT (it would make
  # the other side drop the old SA before the new one carries traffic).
  local auth
  auth=$(grep -E "(parsed|generating) IKE_AUTH request 1 \[ IDi" "$dir/strongswan/charon.log" | sed -n 2p)
  [ -n "$auth" ] || fail "strongSwan logged no second IKE_AUTH request" || return 1
  case $auth in *INIT_CONTACT*) fail "the reauthentication's IKE_AUTH carried INITIAL_CONTACT: $auth"; return 1 ;; esac
  note "no INITIAL_CONTACT in the new IKE_AUTH"
  note "new IKE SA $SS_IKE replaces $ike0"
}


# rotation-ca (issue 16): a CA rollover of Viaduct's side against strongSwan under a 20/s LAN ping. A new CA
# is made; strongSwan trusts it too (swanctl --load-creds); Viaduct's CA bundle becomes old + new
# (viaduct pki bundle) and its certificate is reissued by the new CA, files replaced under the running
# daemon, which takes them from disk (inotify). Its next IKE SA, a reauthentication due 25 s after the
# first is up, authenticates with the new certificate: strongSwan verifies it through the new CA. No
# echo may be lost, and the established SAs are not touched by the reload.
run_rotation() {
  local dir=$1 pki=$1/pki ike0 child0 pid loss
  check_up "$dir" && check_installed "$dir" && check_same "$dir" up || return 1
  ike0=$SS_IKE child0=$SS_CHILD
  ip netns exec $NS_HV ping -n -c 700 -i 0.05 -W 1 198.18.2.10 >"$dir/ping-rotation.txt" 2>&1 &
  pid=$!
  PIDS+=($pid)
  {
    "$VIADUCT" pki ca --subject "CN=Viaduct Interop Root 2,O=Viaduct" --key-type ecdsa-p256 \
      --out-cert "$pki/ca2.pem" --out-key "$pki/ca2.key" &&
    cp "$pki/ca2.pem" "$dir/strongswan/swanctl/x509ca/" && sw "$dir" --load-creds &&
    cp "$pki/ca.pem" "$pki/ca1.pem" &&
    "$VIADUCT" pki bundle --out "$pki/ca.pem" "$pki/ca1.pem" "$pki/ca2.pem" &&
    "$VIADUCT" pki issue --ca-cert "$pki/ca2.pem" --ca-key "$pki/ca2.key" --identity $ID_V --san $IP_V \
      --key-type ecdsa-p256 --out-cert "$pki/vdt-gw2.pem" --out-key "$pki/vdt-gw2.key" &&
    mv "$pki/vdt-gw2.key" "$pki/vdt-gw.key" && mv "$pki/vdt-gw2.pem" "$pki/vdt-gw.pem"
  } >"$dir/rotation.log" 2>&1 || fail "rollover steps: $(tail -2 "$dir/rotation.log")" || return 1
  wait_for 10 grep -q "credentials reloaded" "$dir/viaduct.log" \
    || fail "Viaduct did not take the new files from disk: $(grep -m1 'credential reload refused' "$dir/viaduct.log")" || return 1
  note "new certificate taken from disk"
  check_same "$dir" "after-reload" || return 1
  [ "$SS_IKE" = "$ike0" ] && [ "$SS_CHILD" = "$child0" ] || fail "the reload changed the established SAs" || return 1
  wait_for 30 grep -q "IKE SA reauthenticated" "$dir/viaduct.log" || fail "no reauthentication logged by Viaduct within 30 s" || return 1
  check_same "$dir" "after-reauth" "$ike0" "$child0" || return 1
  grep -q 'using trusted ca certificate ".*Viaduct Interop Root 2' "$dir/strongswan/charon.log" \
    || fail "strongSwan did not verify Viaduct's new certificate through the new CA" || return 1
  note "strongSwan verified the new certificate through the new CA"
  wait "$pid"
  loss=$(grep -o '[0-9.]*% packet loss' "$dir/ping-rotation.txt" | cut -d% -f1)
  [ "$loss" = 0 ] || fail "ping across the rollover: ${loss:-?}% loss ($(grep transmitted "$dir/ping-rotation.txt"))" || return 1
  note "$(grep -o '[0-9]* received' "$dir/ping-rotation.txt") echoes at 20/s across the reload and the reauthentication, 0 lost"
}
