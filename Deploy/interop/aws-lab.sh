#!/usr/bin/env bash
# Deploy/interop/aws-lab.sh - Topologies/cloud-vpn-redundant.yaml against a far side set up like AWS
# site-to-site VPN: two tunnel endpoints, a pre-shared key per tunnel, BGP over 169.254.x/30, failover.
#
#   sudo Deploy/interop/aws-lab.sh        (VIADUCT=binary, KEEP=1 keeps the work directory,
#                                          NS_PREFIX=vdt-aws names the namespaces)
#
# The far side, as AWS documents its generic customer gateway: two endpoints (203.0.113.9 and .10,
# here each a strongSwan 5.9 charon with kernel-libipsec in its own namespace) that accept IKEv2 from
# the customer gateway with a pre-shared key each, identities their public addresses, AES/SHA-2/DH
# 14-24 proposals, DPD 10 s, IKE SA 8 h and Child SA 1 h, traffic selectors 0.0.0.0/0, and that do not
# initiate. Each runs BGP (AS 64512, hold time 30 s as AWS's) with the customer gateway over its
# tunnel's inside /30 and announces the VPC, 198.19.0.0/24 (a host at 198.19.0.10); the two share the
# VPC's routes over iBGP, as one virtual private gateway does, and a tunnel that goes down takes its
# BGP session down at once (strongSwan's updown hook disables it: AWS withdraws the tunnel's routes).
#
# Our side: the topology file itself, with its addresses, keys and timers, only the underlay moved to
# these namespaces (onprem 192.0.2.50 behind a router, its LAN 198.18.50.0/24 with a host at .10),
# `viaduct run` (userspace data plane) and BIRD with `viaduct bgp --format bird`.
#
# Checks: both tunnels up; BGP Established over both on both sides; the host pings the VPC host;
# then, under a 20/s ping, AWS takes the tunnel that carries the traffic down (its IKE SA deleted and
# its configuration unloaded, like AWS's tunnel maintenance): the traffic moves to the other tunnel,
# and the outage (lost echoes x 50 ms) is printed and must stay under 2 s; then the endpoint comes
# back, Viaduct re-establishes the tunnel (after --retry-delay) and BGP is Established on both again.
# Prints PASS/FAIL lines and "N passed, M failed"; exit status non-zero on any failure.
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CHARON=${CHARON:-/usr/lib/ipsec/charon}
P=${NS_PREFIX:-vdt-aws}
NS_R=$P-r NS_C=$P-cgw NS_H=$P-h NS_T1=$P-t1 NS_T2=$P-t2 NS_VPC=$P-vpc
ALL_NS="$NS_R $NS_C $NS_H $NS_T1 $NS_T2 $NS_VPC"
. "$HERE/common.sh"
die() { log "aws-lab.sh: $*"; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
for tool in ip swanctl bird birdc ping jq "$CHARON"; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] || die "missing $tool (Scripts/deps installs it)"
done
VIADUCT=${VIADUCT:-$(ls -t "$REPO"/.build*/debug/viaduct 2>/dev/null | head -1)}
[ -n "$VIADUCT" ] && [ -x "$VIADUCT" ] || die "no viaduct binary; build it (swift build) or set VIADUCT"
WORK=${WORK:-$(mktemp -d /tmp/vdt-aws.XXXXXX)}
PIDS=()
trap on_exit EXIT
trap 'exit 130' INT TERM

passed=0 failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
flunk() { echo "FAIL $*"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

# ---------------------------------------------------------------- the network
# router: 192.0.2.254 (to onprem) and 203.0.113.254 on a bridge with both AWS endpoints.
# VPC: a bridge in the VPC namespace joins the endpoints' inside legs (198.19.0.2, .3) and the VPC host.
net_up() {
  local ns
  for ns in $ALL_NS; do ip netns add "$ns" && ip -n "$ns" link set lo up || return 1; done
  ip -n $NS_R link add br-aws type bridge && ip -n $NS_R addr add 203.0.113.254/24 dev br-aws && ip -n $NS_R link set br-aws up
  ip link add wan0 netns $NS_C type veth peer name r-cgw netns $NS_R || return 1
  ip -n $NS_R addr add 192.0.2.254/24 dev r-cgw && ip -n $NS_R link set r-cgw up
  ip -n $NS_C addr add 192.0.2.50/24 dev wan0 && ip -n $NS_C link set wan0 up && ip -n $NS_C route add default via 192.0.2.254
  ip -n $NS_VPC link add br0 type bridge && ip -n $NS_VPC addr add 198.19.0.10/24 dev br0 && ip -n $NS_VPC link set br0 up
  local t ns_t n
  for t in 1 2; do
    ns_t=$P-t$t n=$((8 + t))
    ip link add wan0 netns "$ns_t" type veth peer name r-t$t netns $NS_R || return 1
    ip -n $NS_R link set r-t$t master br-aws && ip -n $NS_R link set r-t$t up
    ip -n "$ns_t" addr add 203.0.113.$n/24 dev wan0 && ip -n "$ns_t" link set wan0 up
    ip -n "$ns_t" route add default via 203.0.113.254
    ip link add vpc0 netns "$ns_t" type veth peer name t$t netns $NS_VPC || return 1
    ip -n $NS_VPC link set t$t master br0 && ip -n $NS_VPC link set t$t up
    ip -n "$ns_t" addr add 198.19.0.$((1 + t))/24 dev vpc0 && ip -n "$ns_t" link set vpc0 up
    ip netns exec "$ns_t" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  done
  # The VPC's route table sends on-premises traffic to the gateway (endpoint 1, which hands it to
  # endpoint 2 over iBGP when its own tunnel is down).
  ip -n $NS_VPC route add 198.18.50.0/24 via 198.19.0.2
  ip netns exec $NS_R sysctl -qw net.ipv4.ip_forward=1
  ip link add lan0 netns $NS_C type veth peer name h0 netns $NS_H || return 1
  ip -n $NS_C addr add 198.18.50.1/24 dev lan0 && ip -n $NS_C link set lan0 up
  ip -n $NS_H addr add 198.18.50.10/24 dev h0 && ip -n $NS_H link set h0 up && ip -n $NS_H route add default via 198.18.50.1
  ip netns exec $NS_C sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# ---------------------------------------------------------------- our side: the shipped topology
our_side() {
  local d=$WORK/onprem
  mkdir -p "$d/secrets"
  # The shipped file with only the data plane made explicit (this kernel has no ESP).
  sed 's/^defaults:$/defaults:\n  dataplane: userspace/' "$REPO/Topologies/cloud-vpn-redundant.yaml" >"$d/topology.yaml"
  "$VIADUCT" pki init "$d/topology.yaml" >"$d/pki.log" 2>&1 || { log "$(tail -3 "$d/pki.log")"; return 1; }
  local t
  for t in 1 2; do "$VIADUCT" pki psk "$d/secrets/cloud-tun$t.psk" >>"$d/pki.log" 2>&1 || return 1; done
  "$VIADUCT" bgp "$d/topology.yaml" --node onprem --format bird >"$d/viaduct-bgp.conf" 2>"$d/bgp.log" || return 1
  cat >"$d/bird.conf" <<CONF
router id 192.0.2.50;
protocol device { scan time 5; }
protocol direct lan { ipv4; interface "lan0"; }
protocol kernel kernel4 { ipv4 { import none; export where source = RTS_BGP; }; }
include "$d/viaduct-bgp.conf";
CONF
  ip netns exec $NS_C "$VIADUCT" run "$d/topology.yaml" --node onprem --log-level debug --timestamps --retry-delay 5 \
    --control-socket "$d/viaduct.sock" >"$d/viaduct.stdout" 2>"$d/viaduct.log" &
  PIDS+=($!)
  ip netns exec $NS_C bird -f -c "$d/bird.conf" -s "$d/bird.ctl" >"$d/bird.log" 2>&1 &
  PIDS+=($!)
}

# ---------------------------------------------------------------- the far side, as AWS
# aws_conf T: strongswan.conf, swanctl.conf (pre-shared key from our file), bird.conf of endpoint T.
aws_side() {
  local t=$1 d=$WORK/aws-t$1 ip=203.0.113.$((8 + $1)) other=198.19.0.$((4 - $1))
  local inside_us=169.254.2$1.2 inside_cgw=169.254.2$1.1
  mkdir -p "$d/run" "$d/swanctl/x509" "$d/swanctl/x509ca" "$d/swanctl/private"
  cat >"$d/updown.sh" <<SH
#!/bin/sh
# strongSwan's updown hook: like AWS, a tunnel that goes down withdraws its BGP session at once.
case "\$PLUTO_VERB" in
  up-client) birdc -s '$d/bird.ctl' enable cgw >/dev/null ;;
  down-client) birdc -s '$d/bird.ctl' disable cgw >/dev/null ;;
esac
exit 0
SH
  chmod 0755 "$d/updown.sh"
  cat >"$d/strongswan.conf" <<CONF
charon {
    load = random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey revocation constraints kernel-libipsec kernel-netlink socket-default vici updown
    install_routes = no
    dos_protection = no
    plugins {
        vici { socket = unix://$d/run/charon.vici }
        kernel-netlink { fwmark = 0x2200 }
    }
    filelog { main { path = $d/charon.log
        append = yes
        time_add_ms = yes
        flush_line = yes
        default = 1
        ike = 2 } }
}
CONF
  # AWS's generic customer gateway settings: IKEv2, AES-128/256(-GCM), SHA-1/SHA-2, DH 14-24 (and 19-21),
  # IKE SA 28800 s, Child SA 3600 s, DPD 10 s; AWS answers and never initiates by default.
  cat >"$d/swanctl/swanctl.conf" <<CONF
connections {
    cgw {
        version = 2
        local_addrs = $ip
        remote_addrs = 192.0.2.50
        proposals = aes128-sha1-modp2048,aes256-sha256-modp3072,aes256gcm16-prfsha384-ecp384,aes128gcm16-prfsha256-ecp256
        rekey_time = 28800s
        dpd_delay = 10s
        encap = no
        mobike = no
        local { auth = psk
            id = $ip }
        remote { auth = psk
            id = onprem.example.net }
        children {
            vgw {
                local_ts = 0.0.0.0/0
                remote_ts = 0.0.0.0/0
                esp_proposals = aes128-sha1-modp2048,aes256-sha256-modp3072,aes256gcm16-ecp384
                life_time = 3600s
                rekey_time = 3300s
                updown = $d/updown.sh
                start_action = none
                dpd_action = clear
            }
        }
    }
}
secrets {
    ike-cgw {
        id-1 = $ip
        id-2 = onprem.example.net
        secret = "$(cat "$WORK/onprem/secrets/cloud-tun$t.psk")"
    }
}
CONF
  cat >"$d/bird.conf" <<CONF
router id $ip;
protocol device { scan time 5; }
protocol direct vpc { ipv4; interface "vpc0"; }
protocol kernel kernel4 { ipv4 { import none; export where source = RTS_BGP; }; }
# The customer gateway, over the tunnel (AWS: AS 64512, hold time 30 s).
protocol bgp cgw {
    local $inside_us as 64512;
    neighbor $inside_cgw as 65010;
    interface "ipsec0";
    direct;
    hold time 30;
    keepalive time 10;
    connect retry time 5;
    ipv4 { import all; export where source = RTS_DEVICE; };
}
# The other endpoint of the same gateway: the customer's routes, whichever tunnel learned them.
protocol bgp vgw {
    local 198.19.0.$((1 + t)) as 64512;
    neighbor $other as 64512;
    direct;
    hold time 9;
    keepalive time 3;
    connect retry time 2;
    ipv4 { import all; export where source = RTS_BGP && proto = "cgw"; next hop self; };
}
CONF
  STRONGSWAN_CONF=$d/strongswan.conf ip netns exec "$P-t$t" sh -c 'mount --bind "$1" /run && exec "$2"' sh "$d/run" "$CHARON" \
    >"$d/charon.stdout" 2>&1 &
  PIDS+=($!)
  wait_for 10 test -S "$d/run/charon.vici" || { log "charon t$t did not start"; return 1; }
  aws_swanctl "$t" --load-all >"$d/load.log" 2>&1 || { log "swanctl t$t: $(tail -2 "$d/load.log")"; return 1; }
  wait_for 5 ip -n "$P-t$t" link show ipsec0 >/dev/null 2>&1 || { log "no ipsec0 in t$t"; return 1; }
  ip -n "$P-t$t" addr add $inside_us/30 dev ipsec0 || return 1
  ip netns exec "$P-t$t" bird -f -c "$d/bird.conf" -s "$d/bird.ctl" >"$d/bird.log" 2>&1 &
  PIDS+=($!)
}
aws_swanctl() { # T COMMAND ARGS: swanctl against endpoint T's charon
  local t=$1 d=$WORK/aws-t$1; shift
  local cmd=$1; shift
  SWANCTL_DIR=$d/swanctl ip netns exec "$P-t$t" swanctl "$cmd" --uri "unix://$d/run/charon.vici" "$@"
}

# ---------------------------------------------------------------- checks
bgp_up() { # SOCKET PROTOCOL
  birdc -s "$1" show protocols "$2" 2>/dev/null | grep -q Established
}
tunnel_up() { # PEER
  "$VIADUCT" status --socket "$WORK/onprem/viaduct.sock" --json 2>/dev/null \
    | jq -e --arg p "$1" '.tunnels[] | select(.peer == $p) | .state == "established" and (.child_sas | length) > 0' >/dev/null
}
all_bgp_up() {
  bgp_up "$WORK/onprem/bird.ctl" vd_cloud_tun1 && bgp_up "$WORK/onprem/bird.ctl" vd_cloud_tun2 \
    && bgp_up "$WORK/aws-t1/bird.ctl" cgw && bgp_up "$WORK/aws-t2/bird.ctl" cgw
}
# Which of our tunnel interfaces carries the traffic to the VPC host.
carrier() { ip -n $NS_C route get 198.19.0.10 2>/dev/null | grep -o 'dev vd-cloud-tun[12]' | grep -o '[12]$'; }

# ---------------------------------------------------------------- the run
net_up || die "namespaces"
our_side || die "our side (topology, PKI, keys, viaduct run, BIRD)"
for t in 1 2; do aws_side "$t" || die "AWS endpoint $t"; done

if wait_for 30 tunnel_up cloud-tun1 && wait_for 10 tunnel_up cloud-tun2; then
  pass "both tunnels up: PSK, $(grep -o 'proposal=[^ ]*' "$WORK/onprem/viaduct.log" | sort -u | head -2 | tr '\n' ' ')"
else
  flunk "tunnels: $("$VIADUCT" status --socket "$WORK/onprem/viaduct.sock" 2>&1 | head -6 | tr '\n' ';')"; finish
fi
if wait_for 60 all_bgp_up; then pass "BGP Established over both tunnels, on both sides"
else flunk "BGP: $(birdc -s "$WORK/onprem/bird.ctl" show protocols 2>&1 | grep BGP | tr '\n' ';')"; finish; fi
if wait_for 20 sh -c "ip -n $NS_C route get 198.19.0.10 | grep -q vd-cloud-tun" \
   && ip netns exec $NS_H ping -c 3 -i 0.2 -W 2 198.19.0.10 >/dev/null; then
  pass "host 198.18.50.10 pings the VPC host 198.19.0.10 over tunnel $(carrier)"
else flunk "no ping over the tunnels: $(ip -n $NS_C route | tr '\n' ';')"; finish; fi

# AWS takes the carrying tunnel down under a 20/s ping.
down=$(carrier) up=$((3 - down))
ip netns exec $NS_H ping -i 0.05 -W 1 -c 300 198.19.0.10 >"$WORK/ping.log" 2>&1 &
ping_pid=$!
PIDS+=($ping_pid)
sleep 3
aws_swanctl "$down" --terminate --ike cgw --timeout 5 >"$WORK/terminate.log" 2>&1
aws_swanctl "$down" --unload-conn --name cgw >/dev/null 2>&1
if wait_for 10 sh -c "[ \"\$(ip -n $NS_C route get 198.19.0.10 2>/dev/null | grep -o 'dev vd-cloud-tun[12]')\" = 'dev vd-cloud-tun$up' ]"; then
  pass "our BIRD moved the route to the VPC onto tunnel $up"
else flunk "route after the delete: $(ip -n $NS_C route get 198.19.0.10 2>&1)"; fi
wait "$ping_pid"
received=$(grep -o '[0-9]* received' "$WORK/ping.log" | grep -o '^[0-9]*')
lost=$((300 - ${received:-0}))
if [ "${received:-0}" -gt 0 ] && [ "$lost" -le 40 ]; then
  pass "traffic failed over from tunnel $down to tunnel $up: $lost of 300 echoes lost at 20/s, an outage of about $((lost * 50)) ms"
else flunk "failover: $lost of 300 echoes lost ($(tail -2 "$WORK/ping.log" | tr '\n' ' '))"; fi

# The endpoint comes back; Viaduct re-establishes the tunnel and BGP follows.
aws_swanctl "$down" --load-all >/dev/null 2>&1
if wait_for 40 tunnel_up "cloud-tun$down" && wait_for 60 all_bgp_up; then
  pass "tunnel $down re-established by Viaduct and BGP Established over both tunnels again"
else flunk "after the endpoint came back: $("$VIADUCT" status --socket "$WORK/onprem/viaduct.sock" 2>&1 | head -8 | tr '\n' ';')"; fi
finish
