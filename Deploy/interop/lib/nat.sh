# Deploy/interop/lib/nat.sh - NAT between the gateways (nat-*).
# Sourced by Deploy/interop/run.sh (defines functions only; uses its variables: NS_*, WORK, PIDS, VIADUCT...).

# nat_net_up INSIDE_NS INSIDE_IF INSIDE_IP OUTSIDE_NS OUTSIDE_IF OUTSIDE_IP: INSIDE (192.0.2.0/24)
# reaches OUTSIDE (198.51.100.0/24) through the router namespace, which masquerades to its
# public address 198.51.100.254 (198.51.100.253 once the mapping moves).
nat_net_up() {
  local ins=$1 iif=$2 iip=$3 outs=$4 oif=$5 oip=$6
  teardown
  ip netns add "$ins" && ip netns add "$outs" && ip netns add $NS_R || return 1
  ip link add "$iif" netns "$ins" type veth peer name r-in netns $NS_R || return 1
  ip link add "$oif" netns "$outs" type veth peer name r-out netns $NS_R || return 1
  ip -n "$ins" addr add "$iip"/24 dev "$iif" && ip -n "$ins" link set "$iif" up && ip -n "$ins" link set lo up || return 1
  ip -n "$ins" route add default via 192.0.2.254 || return 1
  ip -n "$outs" addr add "$oip"/24 dev "$oif" && ip -n "$outs" link set "$oif" up && ip -n "$outs" link set lo up || return 1
  ip netns exec $NS_R sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.promote_secondaries=1 \
    net.ipv4.conf.default.promote_secondaries=1 || return 1
  ip -n $NS_R addr add 192.0.2.254/24 dev r-in && ip -n $NS_R link set r-in up || return 1
  ip netns exec $NS_R sysctl -qw net.ipv4.conf.r-out.promote_secondaries=1
  ip -n $NS_R addr add 198.51.100.254/24 dev r-out && ip -n $NS_R link set r-out up && ip -n $NS_R link set lo up || return 1
  ip netns exec $NS_R nft -f - <<'NFT' || return 1
table ip vdt-nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "r-out" masquerade
    }
}
NFT
}

# nat_move: the NAT's public address changes. Removing the old address makes the kernel drop
# every masquerade mapping made with it, so the next packets leave from 198.51.100.253.
nat_move() {
  ip -n $NS_R addr add 198.51.100.253/24 dev r-out && ip -n $NS_R addr del 198.51.100.254/24 dev r-out
}

# run_nat DIR INITIATOR IKE ESP KEYTYPE: the side behind the NAT initiates.
run_nat() {
  local dir=$1 initiator=$2 ike=$3 esp=$4 keytype=$5
  local IP_V IP_S behind
  if [ "$initiator" = viaduct ]; then
    IP_V=192.0.2.1 IP_S=198.51.100.2 behind=viaduct
    # Viaduct behind the NAT: keepalives every 2 s, DPD soon (it is what strongSwan follows).
    TOPO_IKE_EXTRA=", nat-keepalive: 2s, dpd: 2s" SS_TOPO_ADDRESS=$IP_S SS_REMOTE_ADDRS=%any
    SS_KEEPALIVE=20s SS_DPD=0s
  else
    IP_V=198.51.100.1 IP_S=192.0.2.2 behind=strongswan
    # strongSwan behind the NAT: Viaduct knows it by the NAT's public addresses.
    TOPO_IKE_EXTRA="" SS_TOPO_ADDRESS="[198.51.100.254, 198.51.100.253]" SS_REMOTE_ADDRS=$IP_V
    # charon sends a keepalive only after keep_alive without any outbound packet, and its DPD
    # (sent after dpd_delay without inbound) is outbound too: with both at 2 s the DPDs can
    # suppress every keepalive. DPD at 5 s leaves room for two keepalives in between.
    SS_KEEPALIVE=2s SS_DPD=5s
  fi
  SS_ENCAP=no
  write_topology "$dir" "$initiator" "$ike" "$esp" up || fail "topology" || return 1
  make_pki "$dir" "$keytype" up || fail "PKI: $(tail -1 "$dir/pki.log")" || return 1
  write_charon "$dir" "$ike" "$esp" up || fail "charon config" || return 1
  if [ "$behind" = viaduct ]; then
    nat_net_up $NS_V v-wan $IP_V $NS_S s-wan $IP_S || fail "namespaces" || return 1
  else
    nat_net_up $NS_S s-wan $IP_S $NS_V v-wan $IP_V || fail "namespaces" || return 1
  fi
  start_both "$dir" "$initiator" lan || return 1
  check_up "$dir" && check_installed "$dir" || return 1
  # NAT detected on both sides: strongSwan says where; Viaduct floated to 4500 without forced
  # encapsulation, and its userspace data plane took the (ESP-in-UDP) Child SA.
  local ss_nat="remote host is behind NAT"
  [ "$behind" = strongswan ] && ss_nat="local host is behind NAT"
  grep -q "$ss_nat" "$dir/strongswan/charon.log" || fail "strongSwan did not log '$ss_nat'" || return 1
  grep -q "faking NAT" "$dir/strongswan/charon.log" && { fail "strongSwan faked the NAT (encap should be off)"; return 1; }
  grep -Eq 'IKE SA established.*local="?[0-9.]+:4500.*remote="?[0-9.]+:4500' "$dir/viaduct.log" \
    || fail "Viaduct did not float IKE to 4500 (NAT not detected)" || return 1
  note "NAT detected both sides"
  check_ping $NS_HV 198.18.2.10 "v4 v->s" && check_ping $NS_HS 198.18.1.10 "v4 s->v" || return 1
  # RFC 3948 keepalives from the side behind the NAT (2 s period there), seen on Viaduct's link;
  # polled, since the capture reaches the file in tshark's own time.
  local ka=0 filter
  if [ "$behind" = viaduct ]; then
    filter="ip.src == $IP_V && udp.srcport == 4500 && udp.length == 9"
  else
    filter="ip.dst == $IP_V && udp.dstport == 4500 && udp.length == 9"
  fi
  for _ in $(seq 20); do
    sleep 1
    ka=$(tshark -r "$dir/capture.pcapng" -Y "$filter" 2>/dev/null | wc -l)
    [ "$ka" -ge 2 ] && break
  done
  [ "$ka" -ge 2 ] || fail "only $ka NAT keepalive(s) from the $behind side in the capture" || return 1
  note "$ka keepalives from $behind"
  # The NAT mapping moves; the side not behind it follows authenticated IKE (the DPD of the
  # side behind it) and LAN traffic flows again.
  nat_move || fail "cannot move the NAT mapping" || return 1
  if [ "$behind" = viaduct ]; then
    wait_for 20 grep -q "remote endpoint changed from 198.51.100.254\[4500\] to 198.51.100.253\[4500\]" "$dir/strongswan/charon.log" \
      || fail "strongSwan did not follow the new NAT mapping" || return 1
  else
    wait_for 20 grep -q "peer address changed.*from=198.51.100.254:4500.*to=198.51.100.253:4500" "$dir/viaduct.log" \
      || fail "Viaduct did not follow the new NAT mapping" || return 1
    grep -q "child SA destination updated" "$dir/viaduct.log" \
      || fail "Viaduct's data plane did not follow the new NAT mapping" || return 1
  fi
  check_ping $NS_HV 198.18.2.10 "v4 v->s after move" && check_ping $NS_HS 198.18.1.10 "v4 s->v after move" || return 1
  check_capture "$dir" || return 1
}

