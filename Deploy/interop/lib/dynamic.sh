# Deploy/interop/lib/dynamic.sh - dynamic and named addresses (issue 14): a peer Viaduct accepts
# from any address and tells by its identity, Viaduct itself on an address nobody knows, and a peer
# known by a DNS name whose answer changes. Userspace data plane, LAN traffic both ways.
# Sourced by Deploy/interop/run.sh (defines functions only; uses its variables: NS_*, WORK, PIDS, VIADUCT...).

IP_S2=192.0.2.3
HOSTS_DIR=/etc/netns/$NS_V

# The hosts file `ip netns exec $NS_V` binds over /etc/hosts (written in place, so the running
# daemon's bind mount sees each change).
write_hosts() { mkdir -p "$HOSTS_DIR" && printf '127.0.0.1 localhost\n%s east.example.net\n' "$1" >"$HOSTS_DIR/hosts"; }

# ss_move: strongSwan's underlay address becomes 192.0.2.3 (192.0.2.2 is gone). The old one
# goes first: deleting a primary address takes the secondaries of its subnet with it.
ss_move() {
  ip -n $NS_S addr del $IP_S/24 dev s-wan && ip -n $NS_S addr add $IP_S2/24 dev s-wan
}

# v_peer_address DIR: the tunnel's peer address in `viaduct status --json`.
v_peer_address() { v_status "$1" | jq -r '.tunnels[0].peer_address'; }

run_dynamic() {
  local dir=$1 initiator=$2 ike=$3 esp=$4 keytype=$5 mode=$6 ike0 t0
  SS_LOCAL_ADDRS=%any
  case $mode in
    dynamic-responder) SS_TOPO_ADDRESS=dynamic ;;
    dynamic-initiator) VDT_TOPO_ADDRESS=dynamic SS_REMOTE_ADDRS=%any ;;
    fqdn) SS_TOPO_ADDRESS=east.example.net ;;
  esac
  write_topology "$dir" "$initiator" "$ike" "$esp" up || fail "topology" || return 1
  make_pki "$dir" "$keytype" up || fail "PKI: $(tail -1 "$dir/pki.log")" || return 1
  write_charon "$dir" "$ike" "$esp" up || fail "charon config" || return 1
  net_up || fail "namespaces" || return 1
  # After net_up: its teardown removes the namespaces' /etc/netns files.
  if [ "$mode" = fqdn ]; then write_hosts $IP_S || fail "cannot write $HOSTS_DIR/hosts" || return 1; fi
  start_both "$dir" "$initiator" lan || return 1
  check_up "$dir" && check_installed "$dir" && check_same "$dir" up || return 1
  case $mode in
    dynamic-responder)
      grep -Eq 'dynamic peer identified.*peer="?ss-gw' "$dir/viaduct.log" \
        || fail "Viaduct did not identify the dynamic peer by its identity" || return 1
      ike0=$SS_IKE
      kill -KILL "$CHARON_PID"
      wait "$CHARON_PID" 2>/dev/null
      ss_move || fail "cannot move strongSwan to $IP_S2" || return 1
      t0=$(date +%s)
      start_charon "$dir" || fail "charon did not start again" || return 1
      wait_for 5 ip -n $NS_S link show ipsec0 >/dev/null 2>&1 || fail "no ipsec0 after the restart" || return 1
      ip -n $NS_S route replace 198.18.1.0/24 dev ipsec0 && ip -n $NS_S -6 route replace 2001:db8:1::/64 dev ipsec0
      sw "$dir" --initiate --child net --timeout 20 >"$dir/initiate2.log" 2>&1 &
      PIDS+=($!)
      check_same "$dir" "from $IP_S2" "$ike0" "" || return 1
      grep -q "dropped a stale IKE SA" "$dir/viaduct.log" || fail "Viaduct kept the IKE SA from the old address" || return 1
      wait_for 5 sh -c "ip netns exec $NS_V '$VIADUCT' status --json --socket '$dir/viaduct.sock' | jq -r '.tunnels[0].peer_address' | grep -q '^$IP_S2'" \
        || fail "viaduct status shows the peer at $(v_peer_address "$dir"), not $IP_S2" || return 1
      note "moved to $IP_S2 in $(( $(date +%s) - t0 ))s"
      ;;
    dynamic-initiator)
      grep -q 'local="0.0.0.0' "$dir/viaduct.log" || grep -q 'local=0.0.0.0' "$dir/viaduct.log" \
        || fail "Viaduct did not run on the wildcard address" || return 1
      note "Viaduct on the wildcard address"
      ;;
    fqdn)
      ike0=$SS_IKE
      ss_move || fail "cannot move strongSwan to $IP_S2" || return 1
      write_hosts $IP_S2 || fail "cannot rewrite $HOSTS_DIR/hosts" || return 1
      t0=$(date +%s)
      ip netns exec $NS_V "$VIADUCT" apply "$dir/topology.yaml" --node vdt-gw --socket "$dir/viaduct.sock" >"$dir/apply.log" 2>&1 \
        || fail "viaduct apply: $(tail -2 "$dir/apply.log")" || return 1
      check_same "$dir" "at $IP_S2" "$ike0" "" || return 1
      grep -Eq "IKE SA established.*remote=\"?$IP_S2" "$dir/viaduct.log" \
        || fail "Viaduct did not establish with $IP_S2" || return 1
      note "tunnel moved to $IP_S2 $(( $(date +%s) - t0 ))s after apply"
      ;;
  esac
  check_capture "$dir"
}
