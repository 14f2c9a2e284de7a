# Deploy/interop/lib/fragmentation.sh - IKE fragmentation (fragmentation-*).
# Sourced by Deploy/interop/run.sh (defines functions only; uses its variables: NS_*, WORK, PIDS, VIADUCT...).

# make_chain_pki DIR: root CA -> RSA-4096 intermediate -> RSA-4096 leaves for both gateways;
# Viaduct's certificate file holds leaf + intermediate.
make_chain_pki() {
  local dir=$1
  local p=$dir/pki
  # Its own root: the one `pki init` makes has pathlen 0 and cannot sign an intermediate.
  "$VIADUCT" pki ca --subject "CN=Interop Root CA,O=Viaduct" --out-cert "$p/ca.pem" --out-key "$p/ca.key" \
    >"$dir/pki.log" 2>&1 || return 1
  "$VIADUCT" pki ca --issuer-cert "$p/ca.pem" --issuer-key "$p/ca.key" --subject "CN=Interop Intermediate CA,O=Viaduct" \
    --key-type rsa4096 --out-cert "$p/intermediate.pem" --out-key "$p/intermediate.key" >>"$dir/pki.log" 2>&1 || return 1
  "$VIADUCT" pki issue --ca-cert "$p/intermediate.pem" --ca-key "$p/intermediate.key" --identity $ID_V --san $IP_V \
    --key-type rsa4096 --out-cert "$p/vdt-gw.pem" --out-key "$p/vdt-gw.key" --force >>"$dir/pki.log" 2>&1 || return 1
  cat "$p/intermediate.pem" >>"$p/vdt-gw.pem"
  "$VIADUCT" pki issue --ca-cert "$p/intermediate.pem" --ca-key "$p/intermediate.key" --identity $ID_S --san $IP_S \
    --key-type rsa4096 --out-cert "$p/strongswan.pem" --out-key "$p/strongswan.key" >>"$dir/pki.log" 2>&1
}

run_fragmentation() {
  local dir=$1 initiator=$2 ike=$3 esp=$4
  write_topology "$dir" "$initiator" "$ike" "$esp" up || fail "topology" || return 1
  make_chain_pki "$dir" || fail "PKI: $(tail -1 "$dir/pki.log")" || return 1
  write_charon "$dir" "$ike" "$esp" up || fail "charon config" || return 1
  net_up || fail "namespaces" || return 1
  start_both "$dir" "$initiator" lan || return 1
  check_up "$dir" && check_installed "$dir" || return 1
  # Both IKE_AUTH messages went as fragments, and each side reassembled the other's.
  local log=$dir/strongswan/charon.log split reassembled
  split=$(grep -m1 -o "splitting IKE message ([0-9]* bytes) into [0-9]* fragments" "$log")
  [ -n "$split" ] || fail "strongSwan did not fragment its IKE_AUTH" || return 1
  reassembled=$(grep -m1 -o "reassembled fragmented IKE message ([0-9]* bytes)" "$log")
  [ -n "$reassembled" ] || fail "strongSwan reassembled no fragmented message from Viaduct" || return 1
  local sent received
  sent=$(grep -c "IKE fragment sent" "$dir/viaduct.log")
  received=$(grep -c "IKE fragment received" "$dir/viaduct.log")
  [ "$sent" -ge 2 ] && [ "$received" -ge 2 ] \
    || fail "Viaduct sent $sent and received $received IKE fragments (want >= 2 each)" || return 1
  note "strongSwan: $split; $reassembled; Viaduct: $sent fragments sent, $received received"
  check_ping $NS_HV 198.18.2.10 "v4 v->s" && check_ping $NS_HS 198.18.1.10 "v4 s->v" || return 1
  check_capture "$dir" || return 1
}

