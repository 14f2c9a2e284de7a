#!/usr/bin/env bash
# Deploy/interop/run.sh - Viaduct <-> strongSwan IKEv2 interoperability scenarios.
#
#   Deploy/interop/run.sh [scenario...]      (default: all; must run as root)
#   Deploy/interop/run.sh --list
#
# Each strongSwan scenario builds network namespaces joined by veths (vdt-io-v 192.0.2.1 runs
# `viaduct run`, vdt-io-s 192.0.2.2 runs strongSwan's charon with kernel-libipsec; a LAN host
# behind each: vdt-io-hv 198.18.1.10 and vdt-io-hs 198.18.2.10), a topology with one managed
# gateway (Viaduct) and one `managed: false` gateway (strongSwan), a PKI made with `viaduct pki`,
# and the charon/swanctl configuration. It brings the tunnel up from one side, checks both ends,
# pings LAN<->LAN through the tunnel (Viaduct's userspace ESP <-> libipsec, ESP-in-UDP/4500),
# runs a 5 s iperf3 where the scenario asks for it (every 1 s interval must carry data),
# captures the exchange with tshark, tears everything down, and prints one PASS/FAIL line.
#
# viaduct-pair-* scenarios run two Viaduct gateways (vdt-io-a 192.0.2.1, vdt-io-b 192.0.2.2)
# from one topology, a host behind each (198.18.1.10 + 2001:db8:1::10, 198.18.2.10 +
# 2001:db8:2::10), static routing, IPv4 and IPv6 inside; ping both families both ways and a
# 5 s iperf3 per family. The last line is exactly "N passed, M failed"; the exit status is non-zero
# when anything failed. Namespaces and processes (by PID) are removed even on failure.
#
# nat-* scenarios put a router namespace (vdt-io-r) with an nftables masquerade between the two
# gateways: the side behind it on 192.0.2.0/24 (router 192.0.2.254), the other on
# 198.51.100.0/24 (router 198.51.100.254). nat-initiator: Viaduct behind the NAT initiates;
# nat-responder: strongSwan behind the NAT initiates. Both check NAT detection on both sides,
# ESP in UDP (LAN ping), NAT keepalives in the capture (RFC 3948), then move the NAT mapping
# (the router's public address changes: its masquerade entries are flushed) and check that the
# side not behind the NAT follows the authenticated packets (RFC 7296 §2.23) and traffic recovers.
#
# fragmentation-* scenarios use RSA-4096 leaf certificates issued by an RSA-4096 intermediate CA
# (viaduct pki ca --issuer-cert), so that each IKE_AUTH is about 3.5 KB: both sides must send it
# as RFC 7383 fragments, and both logs must show fragments sent and reassembled.
#
# Environment: VIADUCT (binary; default: the newest of .build*/debug/viaduct), KEEP=1 (keep the
# work directory), WORK (work directory; default mktemp), VERBOSE=1 (print logs of failures),
# NS_PREFIX (namespace name prefix; default vdt-io, so that two runs can share a machine).
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CHARON=${CHARON:-/usr/lib/ipsec/charon}
NS_PREFIX=${NS_PREFIX:-vdt-io}
NS_V=$NS_PREFIX-v
NS_S=$NS_PREFIX-s
NS_HV=$NS_PREFIX-hv
NS_HS=$NS_PREFIX-hs
NS_A=$NS_PREFIX-a
NS_B=$NS_PREFIX-b
NS_HA=$NS_PREFIX-ha
NS_HB=$NS_PREFIX-hb
NS_R=$NS_PREFIX-r
ALL_NS="$NS_V $NS_S $NS_HV $NS_HS $NS_A $NS_B $NS_HA $NS_HB $NS_R"
IP_V=192.0.2.1
IP_S=192.0.2.2
ID_V=viaduct-gw.example.net
ID_S=strongswan-gw.example.net

# name | who initiates (viaduct|strongswan|pair) | key type | IKE proposal | ESP proposal | expectation
# up: SAs match and LAN<->LAN ping both ways; traffic: up + 5 s iperf3 each way;
# up-refused: SAs match, Viaduct's userspace data plane refuses the non-AEAD Child SA (by design);
# lifecycle-strongswan: strongSwan rekeys the Child SA (PFS, x25519) and the IKE SA, then deletes
#   the Child SA and the IKE SA (swanctl --rekey / --terminate); after each step both sides show
#   the same SPIs and LAN<->LAN ping works. lifecycle-viaduct: Viaduct rekeys the Child SA (PFS)
#   and the IKE SA on its own short lifetimes, deletes the Child SA (viaduct terminate --child) and,
#   as the initiator, builds the tunnel again after --retry-delay; strongSwan deletes the new Child SA
#   (swanctl --terminate --child) and Viaduct builds it again; then Viaduct stops (SIGTERM: Delete of
#   the IKE SA).
# peer-restart: charon is killed (SIGKILL) and started again; it initiates with INITIAL_CONTACT
#   and Viaduct drops the stale SA and carries traffic on the new one within a bound.
# cookie: Viaduct demands a COOKIE for every IKE_SA_INIT (RFC 7296 §2.6), strongSwan returns it, then up.
# reauth-viaduct: Viaduct reauthenticates (RFC 7296 §2.8.3, ike.reauthenticate, IKE SA due 15 s after
#   it is up) under a running LAN ping: no echo lost, strongSwan ends with one new IKE SA and Child SA.
# reauth-strongswan: strongSwan reauthenticates (reauth_time 15 s, charon.make_before_break = yes)
#   under a running LAN ping: no echo lost, Viaduct keeps the tunnel and shows the new SAs.
SCENARIOS=(
  "responder-ecdsa|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|traffic"
  "initiator-ecdsa|viaduct|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|traffic"
  "responder-rsa|strongswan|rsa3072|aes256gcm16-prfsha384-ecp384|aes256gcm16|up"
  "initiator-rsa|viaduct|rsa3072|aes256gcm16-prfsha384-ecp384|aes256gcm16|up"
  "aes128gcm16-x25519|viaduct|ecdsa-p256|aes128gcm16-prfsha256-x25519|aes128gcm16|up"
  "aes256-sha256-modp3072|strongswan|ecdsa-p256|aes256-sha256-modp3072|aes256-sha256|up-refused"
  "chacha20poly1305-x25519|viaduct|ecdsa-p256|chacha20poly1305-prfsha256-x25519|chacha20poly1305|up"
  "viaduct-pair-traffic|pair|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|pair-traffic"
  "viaduct-pair-chacha20poly1305|pair|ecdsa-p256|chacha20poly1305-prfsha256-x25519|chacha20poly1305|pair-up"
  "wrong-ca|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|wrong-ca"
  "wrong-identity|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|wrong-identity"
  "no-proposal|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|no-proposal"
  "responder-cookie|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|cookie"
  "lifecycle-strongswan|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16-x25519|lifecycle-strongswan"
  "lifecycle-viaduct|viaduct|ecdsa-p256|aes128gcm16-prfsha256-x25519|aes256gcm16-x25519|lifecycle-viaduct"
  "peer-restart|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|peer-restart"
  "reauth-viaduct|viaduct|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|reauth-viaduct"
  "reauth-strongswan|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|reauth-strongswan"
  "nat-initiator|viaduct|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|nat"
  "nat-responder|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|nat"
  "fragmentation-initiator|viaduct|rsa4096|aes256gcm16-prfsha384-ecp384|aes256gcm16|fragmentation"
  "fragmentation-responder|strongswan|rsa4096|aes256gcm16-prfsha384-ecp384|aes256gcm16|fragmentation"
)

. "$HERE/common.sh"
die() { log "run.sh: $*"; exit 2; }

if [ "${1:-}" = "--list" ]; then
  for s in "${SCENARIOS[@]}"; do echo "${s%%|*}"; done
  exit 0
fi
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
for tool in ip tshark swanctl iperf3 ping jq nft "$CHARON"; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] || die "missing $tool (apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins tshark iperf3 iputils-ping jq iproute2 nftables)"
done
if [ -z "${VIADUCT:-}" ]; then
  VIADUCT=$(ls -t "$REPO"/.build*/debug/viaduct 2>/dev/null | head -1)
fi
[ -n "${VIADUCT:-}" ] && [ -x "$VIADUCT" ] || die "no viaduct binary; build it (swift build) or set VIADUCT"

WORK=${WORK:-$(mktemp -d /tmp/vdt-interop.XXXXXX)}
PIDS=()

# ---------------------------------------------------------------- cleanup (always)
# stop_pid, teardown, on_exit, wait_for, log: common.sh
trap on_exit EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- building blocks
net_up() {
  teardown
  ip netns add $NS_V && ip netns add $NS_S || return 1
  ip link add v-wan netns $NS_V type veth peer name s-wan netns $NS_S || return 1
  ip -n $NS_V addr add $IP_V/24 dev v-wan && ip -n $NS_V link set v-wan up && ip -n $NS_V link set lo up
  ip -n $NS_S addr add $IP_S/24 dev s-wan && ip -n $NS_S link set s-wan up && ip -n $NS_S link set lo up
}

# lan GW_NS HOST_NS GW_IF HOST_IF N: a host namespace behind a gateway, 198.18.N.0/24 and
# 2001:db8:N::/64 (gateway .1 / ::1, host .10 / ::10), forwarding on in the gateway.
lan_up() {
  local gw=$1 host=$2 gif=$3 hif=$4 n=$5
  ip netns add "$host" || return 1
  ip link add "$gif" netns "$gw" type veth peer name "$hif" netns "$host" || return 1
  ip -n "$gw" addr add 198.18.$n.1/24 dev "$gif" && ip -n "$gw" -6 addr add 2001:db8:$n::1/64 dev "$gif" nodad \
    && ip -n "$gw" link set "$gif" up || return 1
  ip -n "$host" addr add 198.18.$n.10/24 dev "$hif" && ip -n "$host" -6 addr add 2001:db8:$n::10/64 dev "$hif" nodad \
    && ip -n "$host" link set "$hif" up && ip -n "$host" link set lo up || return 1
  ip -n "$host" route add default via 198.18.$n.1 && ip -n "$host" -6 route add default via 2001:db8:$n::1 || return 1
  ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

pair_net_up() {
  teardown
  ip netns add $NS_A && ip netns add $NS_B || return 1
  ip link add a-wan netns $NS_A type veth peer name b-wan netns $NS_B || return 1
  ip -n $NS_A addr add $IP_V/24 dev a-wan && ip -n $NS_A link set a-wan up && ip -n $NS_A link set lo up
  ip -n $NS_B addr add $IP_S/24 dev b-wan && ip -n $NS_B link set b-wan up && ip -n $NS_B link set lo up
  lan_up $NS_A $NS_HA a-lan h-lan 1 && lan_up $NS_B $NS_HB b-lan h-lan 2
}

# pki DIR KEYTYPE MODE: the topology's CA + Viaduct's cert (viaduct pki init), strongSwan's cert.
make_pki() {
  local dir=$1 keytype=$2 mode=$3
  "$VIADUCT" pki init "$dir/topology.yaml" --key-type "$keytype" >"$dir/pki.log" 2>&1 || return 1
  local ca=$dir/pki/ca.pem cakey=$dir/pki/ca.key
  if [ "$mode" = wrong-ca ]; then
    "$VIADUCT" pki ca --subject "CN=Unrelated CA,O=Elsewhere" --key-type "$keytype" \
      --out-cert "$dir/pki/other-ca.pem" --out-key "$dir/pki/other-ca.key" >>"$dir/pki.log" 2>&1 || return 1
    ca=$dir/pki/other-ca.pem cakey=$dir/pki/other-ca.key
  fi
  "$VIADUCT" pki issue --ca-cert "$ca" --ca-key "$cakey" --identity $ID_S --san $IP_S --key-type "$keytype" \
    --out-cert "$dir/pki/strongswan.pem" --out-key "$dir/pki/strongswan.key" >>"$dir/pki.log" 2>&1
}

# topology DIR INITIATOR IKE ESP MODE
write_topology() {
  local dir=$1 initiator=$2 ike=$3 esp=$4 mode=$5
  local peer_id=$ID_S
  [ "$mode" = wrong-identity ] && peer_id=someone-else.example.net
  local init_gw=vdt-gw
  [ "$initiator" = strongswan ] && init_gw=ss-gw
  # lifecycle-viaduct: Viaduct rekeys the Child SA every 20 s and the IKE SA after 25 s.
  local ike_life="lifetime: 8h" esp_life="lifetime: 1h"
  if [ "$mode" = lifecycle-viaduct ]; then
    ike_life="lifetime: 1m, rekey-margin: 35s, rekey-jitter: 0s"
    esp_life="lifetime: 1m, rekey-margin: 40s, rekey-jitter: 0s"
  fi
  # reauth-viaduct: the IKE SA is due 15 s after it is up, and reauthenticated, not rekeyed.
  [ "$mode" = reauth-viaduct ] && ike_life="lifetime: 1m, rekey-margin: 45s, rekey-jitter: 0s, reauthenticate: true"
  mkdir -p "$dir/pki"
  cat >"$dir/topology.yaml" <<YAML
# generated by Deploy/interop/run.sh
version: 1
defaults:
  ike: { proposals: [$ike], $ike_life${TOPO_IKE_EXTRA:-} }
  esp: { proposals: [$esp], $esp_life }
pki: { ca: pki/ca.pem }
gateways:
  vdt-gw:
    address: $IP_V
    identity: $ID_V
    certificate: pki/vdt-gw.pem
    key: pki/vdt-gw.key
    networks: [198.18.1.0/24, 2001:db8:1::/64]
  ss-gw:
    address: ${SS_TOPO_ADDRESS:-$IP_S}
    identity: $peer_id
    managed: false
    networks: [198.18.2.0/24, 2001:db8:2::/64]
tunnels:
  - between: [vdt-gw, ss-gw]
    inside: [169.254.10.0/30, 2001:db8:ff::/126]
    initiator: $init_gw
YAML
}

# pair topology DIR IKE ESP: two managed gateways, static routing, dual-stack inside.
write_pair_topology() {
  local dir=$1 ike=$2 esp=$3
  mkdir -p "$dir/pki"
  cat >"$dir/topology.yaml" <<YAML
# generated by Deploy/interop/run.sh
version: 1
defaults:
  ike: { proposals: [$ike], lifetime: 8h }
  esp: { proposals: [$esp], lifetime: 1h }
  dataplane: userspace
pki: { ca: pki/ca.pem }
gateways:
  gw-a:
    address: $IP_V
    identity: gw-a.example.net
    certificate: pki/gw-a.pem
    key: pki/gw-a.key
    networks: [198.18.1.0/24, 2001:db8:1::/64]
  gw-b:
    address: $IP_S
    identity: gw-b.example.net
    certificate: pki/gw-b.pem
    key: pki/gw-b.key
    networks: [198.18.2.0/24, 2001:db8:2::/64]
tunnels:
  - between: [gw-a, gw-b]
    inside: [169.254.20.0/30, 2001:db8:ff::/126]
    routing: static
YAML
}

# charon config DIR IKE ESP MODE
write_charon() {
  local dir=$1 ike=$2 esp=$3 mode=$4
  local ss=$dir/strongswan
  mkdir -p "$ss/run" "$ss/swanctl/x509" "$ss/swanctl/x509ca" "$ss/swanctl/private"
  cp "$dir/pki/strongswan.pem" "$ss/swanctl/x509/"
  cp "$dir/pki/strongswan.key" "$ss/swanctl/private/"
  cp "$dir/pki/ca.pem" "$ss/swanctl/x509ca/"
  # An intermediate CA (fragmentation scenarios) is not a trust anchor: strongSwan sends it.
  [ -f "$dir/pki/intermediate.pem" ] && cp "$dir/pki/intermediate.pem" "$ss/swanctl/x509/"
  [ -f "$dir/pki/other-ca.pem" ] && cp "$dir/pki/other-ca.pem" "$ss/swanctl/x509ca/"
  # No common proposal: strongSwan offers only what Viaduct's topology does not list.
  [ "$mode" = no-proposal ] && ike=aes128-sha1-modp2048
  # peer-restart: charon brings the tunnel up by itself whenever it starts, like a rebooted peer.
  local start_action=none
  [ "$mode" = peer-restart ] && start_action=start
  # reauth-strongswan: RFC 7296 §2.8.3 reauthentication every 15 s, make-before-break.
  local mbb=no reauth=""
  [ "$mode" = reauth-strongswan ] && mbb=yes reauth="reauth_time = 15s
        rand_time = 0s"
  cat >"$ss/strongswan.conf" <<CONF
# generated by Deploy/interop/run.sh. kernel-libipsec (userspace ESP) MUST load before
# kernel-netlink; 5.9 needs the kdf plugin when plugins are listed; dos_protection=no so the
# harness never meets cookies.
charon {
    load = random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey revocation constraints kernel-libipsec kernel-netlink socket-default vici
    install_routes = no
    dos_protection = no
    retransmit_tries = 2
    keep_alive = ${SS_KEEPALIVE:-20s}
    make_before_break = $mbb
    plugins {
        vici { socket = unix://$ss/run/charon.vici }
        kernel-netlink { fwmark = 0x2200 }
    }
    filelog {
        main {
            path = $ss/charon.log
            append = yes
            time_add_ms = yes
            flush_line = yes
            default = 1
            ike = 2
            cfg = 2
        }
    }
}
CONF
  cat >"$ss/swanctl/swanctl.conf" <<CONF
connections {
    viaduct {
        version = 2
        local_addrs = $IP_S
        remote_addrs = ${SS_REMOTE_ADDRS:-$IP_V}
        proposals = $ike
        mobike = no
        encap = ${SS_ENCAP:-yes}
        fragmentation = yes
        dpd_delay = ${SS_DPD:-0s}
        $reauth
        local {
            auth = pubkey
            certs = strongswan.pem
            id = $ID_S
        }
        remote {
            auth = pubkey
            id = $ID_V
        }
        children {
            net {
                local_ts = 0.0.0.0/0,::/0
                remote_ts = 0.0.0.0/0,::/0
                esp_proposals = $esp
                mode = tunnel
                start_action = $start_action
            }
        }
    }
}
CONF
}

sw() { # swanctl against the scenario's charon; command first (swanctl ignores --uri before it)
  local dir=$1; shift
  local cmd=$1; shift
  SWANCTL_DIR=$dir/strongswan/swanctl ip netns exec $NS_S swanctl "$cmd" --uri "unix://$dir/strongswan/run/charon.vici" "$@"
}

CHARON_PID="" VIADUCT_PID=""
start_charon() {
  local dir=$1 ss=$1/strongswan
  rm -f "$ss/run/charon.vici"
  # The pid file is compiled in as /run/charon.pid: give this charon its own /run (ip netns
  # exec already runs it in a private mount namespace).
  ip netns exec $NS_S sh -c "mount --bind '$ss/run' /run && STRONGSWAN_CONF='$ss/strongswan.conf' exec '$CHARON'" \
    >>"$ss/charon.stdout" 2>&1 &
  CHARON_PID=$!
  PIDS+=($!)
  for _ in $(seq 100); do [ -S "$ss/run/charon.vici" ] && break; sleep 0.1; done
  [ -S "$ss/run/charon.vici" ] || { log "charon did not start"; return 1; }
  sw "$dir" --load-all >"$ss/swanctl-load.log" 2>&1
}

# start_viaduct DIR [NS NODE LOGNAME]
start_viaduct() {
  local dir=$1 ns=${2:-$NS_V} node=${3:-vdt-gw} name=${4:-viaduct}
  ip netns exec "$ns" "$VIADUCT" run "$dir/topology.yaml" --node "$node" --log-level debug --timestamps --retry-delay 5 \
    --control-socket "$dir/$name.sock" ${VIADUCT_EXTRA:-} \
    >"$dir/$name.stdout" 2>"$dir/$name.log" &
  VIADUCT_PID=$!
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "daemon started" "$dir/$name.log" 2>/dev/null && return 0; sleep 0.1
    kill -0 "${PIDS[-1]}" 2>/dev/null || break; done
  log "viaduct did not start: $(tail -3 "$dir/$name.log")"
  return 1
}

# The keepalive test comes first: a 4-octet load past a 1-octet payload would abort the BPF program.
start_capture() {
  local dir=$1
  ip netns exec $NS_V tshark -i v-wan -f 'udp port 500 or (udp port 4500 and (udp[8:1] = 0xff or udp[8:4] = 0))' -w "$dir/capture.pcapng" >"$dir/tshark.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "Capturing on" "$dir/tshark.log" 2>/dev/null && return 0; sleep 0.1; done
  log "tshark did not start"; return 1
}


# ---------------------------------------------------------------- checks
FAIL_REASON=""
fail() { FAIL_REASON=$*; return 1; }

check_up() {
  local dir=$1
  wait_for 15 sh -c "SWANCTL_DIR='$dir/strongswan/swanctl' ip netns exec $NS_S swanctl --list-sas --uri 'unix://$dir/strongswan/run/charon.vici' 2>/dev/null | grep -q INSTALLED" \
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

# check_refused DIR: a non-AEAD Child SA is negotiated but the userspace data plane says why it
# cannot carry it.
check_refused() {
  local dir=$1
  wait_for 5 grep -q "data plane refused the child SA.*unsupported-sa" "$dir/viaduct.log" \
    || fail "Viaduct did not refuse the non-AEAD child SA with unsupported-sa" || return 1
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

# ---------------------------------------------------------------- life of a tunnel
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
  wait_for 5 sh -c "! SWANCTL_DIR='$dir/strongswan/swanctl' ip netns exec $NS_S swanctl --list-sas --uri 'unix://$dir/strongswan/run/charon.vici' 2>/dev/null | grep -q INSTALLED" \
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
  wait_for 5 sh -c "! SWANCTL_DIR='$dir/strongswan/swanctl' ip netns exec $NS_S swanctl --list-sas --uri 'unix://$dir/strongswan/run/charon.vici' 2>/dev/null | grep -q ESTABLISHED" \
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

# ---------------------------------------------------------------- two Viaduct gateways
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
  return 0
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

# ---------------------------------------------------------------- NAT between the gateways
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

# ---------------------------------------------------------------- IKE fragmentation
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

# ---------------------------------------------------------------- one scenario
# start_both DIR INITIATOR LAN: the capture, charon (and its LAN hosts and ipsec0 routes when LAN
# is "lan"), Viaduct, then strongSwan's initiation when INITIATOR is strongswan.
start_both() {
  local dir=$1 initiator=$2 lan=$3
  start_capture "$dir" || fail "tshark" || return 1
  start_charon "$dir" || fail "charon: $(tail -2 "$dir/strongswan/charon.log" 2>/dev/null)" || return 1
  if [ "$lan" = lan ]; then strongswan_lan_up || fail "LAN hosts / ipsec0 routes" || return 1; fi
  start_viaduct "$dir" || fail "viaduct run did not start" || return 1
  if [ "$initiator" = strongswan ]; then
    sw "$dir" --initiate --child net --timeout 20 >"$dir/initiate.log" 2>&1 &
    PIDS+=($!)
  fi
}

run_scenario() {
  local spec=$1
  IFS='|' read -r name initiator keytype ike esp expect <<<"$spec"
  local dir=$WORK/$name
  rm -rf "$dir"; mkdir -p "$dir"
  FAIL_REASON="" NOTE=""
  # Every scenario starts from the same settings (none leaks into the next).
  TOPO_IKE_EXTRA="" SS_TOPO_ADDRESS="" SS_REMOTE_ADDRS="" SS_KEEPALIVE="" SS_DPD="" SS_ENCAP="" VIADUCT_EXTRA=""
  if [ "$initiator" = pair ]; then run_pair "$dir" "$ike" "$esp" "$keytype" "$expect"; return; fi
  if [ "$expect" = nat ]; then run_nat "$dir" "$initiator" "$ike" "$esp" "$keytype"; return; fi
  if [ "$expect" = fragmentation ]; then run_fragmentation "$dir" "$initiator" "$ike" "$esp"; return; fi
  write_topology "$dir" "$initiator" "$ike" "$esp" "$expect" || fail "topology" || return 1
  make_pki "$dir" "$keytype" "$expect" || fail "PKI: $(tail -1 "$dir/pki.log")" || return 1
  write_charon "$dir" "$ike" "$esp" "$expect" || fail "charon config" || return 1
  net_up || fail "namespaces" || return 1
  local lan=none initiates=$initiator
  case $expect in up|traffic|cookie|lifecycle-*|peer-restart|reauth-*) lan=lan ;; esac
  # peer-restart: charon's start_action brings the tunnel up, now and after its restart.
  [ "$expect" = peer-restart ] && initiates=none
  [ "$expect" = cookie ] && VIADUCT_EXTRA="--cookie-threshold 0"
  start_both "$dir" "$initiates" "$lan" || return 1
  case $expect in
    up) check_up "$dir" && check_installed "$dir" && check_traffic_strongswan "$dir" 0 || return 1 ;;
    traffic) check_up "$dir" && check_installed "$dir" && check_traffic_strongswan "$dir" 1 || return 1 ;;
    up-refused) check_up "$dir" && check_refused "$dir" || return 1 ;;
    cookie) check_up "$dir" && check_installed "$dir" && check_cookie "$dir" && check_traffic_strongswan "$dir" 0 || return 1 ;;
    lifecycle-strongswan) run_lifecycle_strongswan "$dir" || return 1 ;;
    lifecycle-viaduct) run_lifecycle_viaduct "$dir" || return 1 ;;
    peer-restart) run_peer_restart "$dir" || return 1 ;;
    reauth-viaduct) run_reauth "$dir" viaduct || return 1 ;;
    reauth-strongswan) run_reauth "$dir" strongswan || return 1 ;;
    wrong-ca) check_fails "$dir" "received AUTHENTICATION_FAILED notify error" \
                "IKE SA failed.*notify=AUTHENTICATION_FAILED.*reason=(certificate-invalid|authentication-failed)|IKE SA failed.*reason=(certificate-invalid|authentication-failed).*notify=AUTHENTICATION_FAILED" || return 1 ;;
    wrong-identity) check_fails "$dir" "received AUTHENTICATION_FAILED notify error" \
                "IKE SA failed.*notify=AUTHENTICATION_FAILED.*reason=(identity-mismatch|authentication-failed)|IKE SA failed.*reason=(identity-mismatch|authentication-failed).*notify=AUTHENTICATION_FAILED" || return 1 ;;
    no-proposal) check_fails "$dir" "received NO_PROPOSAL_CHOSEN notify error" \
                "IKE SA failed.*notify=NO_PROPOSAL_CHOSEN.*reason=no-proposal-chosen|IKE SA failed.*reason=no-proposal-chosen.*notify=NO_PROPOSAL_CHOSEN" || return 1 ;;
  esac
  check_capture "$dir" || return 1
  return 0
}

# ---------------------------------------------------------------- main
selected=("$@")
[ ${#selected[@]} -eq 0 ] && for s in "${SCENARIOS[@]}"; do selected+=("${s%%|*}"); done
passed=0 failed=0
for want in "${selected[@]}"; do
  spec=""
  for s in "${SCENARIOS[@]}"; do [ "${s%%|*}" = "$want" ] && spec=$s; done
  if [ -z "$spec" ]; then echo "FAIL $want: unknown scenario (see --list)"; failed=$((failed + 1)); continue; fi
  if run_scenario "$spec"; then
    echo "PASS $want${NOTE:+ ($NOTE)}"; passed=$((passed + 1))
  else
    echo "FAIL $want: $FAIL_REASON"; failed=$((failed + 1))
    if [ "${VERBOSE:-0}" = 1 ]; then
      for f in viaduct gw-a gw-b; do [ -f "$WORK/$want/$f.log" ] && { log "--- $f.log"; tail -20 "$WORK/$want/$f.log" >&2; }; done
      log "--- charon.log"; tail -20 "$WORK/$want/strongswan/charon.log" >&2 2>/dev/null
    fi
  fi
  teardown
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
