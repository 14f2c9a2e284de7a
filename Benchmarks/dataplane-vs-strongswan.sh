#!/usr/bin/env bash
# One TCP stream LAN↔LAN through strongSwan's userspace ESP (charon + kernel-libipsec, ESP in
# UDP/4500 over its ipsec0 TUN) on both gateways, then through Viaduct's userspace data plane
# (`viaduct bench dataplane`), in the same topology, and the two side by side:
#
#   host-a 198.18.1.10 ─ gw-a [ipsec0] ═ ESP in UDP 192.0.2.1:4500 ⇄ 192.0.2.2:4500 ═ [ipsec0] gw-b ─ host-b 198.18.2.10
#
# Namespaces vdt-cmp-{ha,gwa,gwb,hb} (Viaduct's own run uses vdt-bench-*); underlay veth MTU
# 1500, ipsec0 MTU 1400 (libipsec's default, the bench's TUN MTU). One Child SA
# 198.18.1.0/24 ⇄ 198.18.2.0/24, AES-256-GCM for IKE and ESP, ECDSA P-256 certificates from a
# throwaway PKI (strongSwan's pki). Each run prints the Gbit/s iperf3 received and the CPU of
# the two charons (utime+stime over the run, % of one core); then best and median.
#
# Usage (root): Benchmarks/dataplane-vs-strongswan.sh [--seconds S] [--runs R] [--strongswan-only]
#   env: SECONDS (or SECONDS_PER_RUN) / RUNS (defaults 10 and 3), VIADUCT (defaults to a release build),
#        CHARON (/usr/lib/ipsec/charon), KEEP=1 keeps the work directory (configs, charon logs).
set -euo pipefail
cd "$(dirname "$0")/.."

# SECONDS is bash's own clock: it is taken from the environment only when exported there.
seconds=$(printenv SECONDS || true)
seconds=${SECONDS_PER_RUN:-${seconds:-10}} runs=${RUNS:-3} strongswan_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --strongswan-only) strongswan_only=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ $seconds =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] || { echo "--seconds and --runs must be ≥ 1" >&2; exit 2; }

CHARON=${CHARON:-/usr/lib/ipsec/charon}
[ "$(id -u)" = 0 ] || { echo "needs root (creates network namespaces vdt-cmp-*)" >&2; exit 1; }
for tool in ip iperf3 jq swanctl pki ping "$CHARON"; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] \
    || { echo "missing $tool (apt-get install strongswan-charon strongswan-swanctl strongswan-pki libcharon-extra-plugins iperf3 jq iproute2 iputils-ping)" >&2; exit 1; }
done
[ -n "$(find /usr/lib/ipsec/plugins -name 'libstrongswan-kernel-libipsec.so' 2>/dev/null)" ] \
  || { echo "missing strongSwan's kernel-libipsec plugin (apt-get install libcharon-extra-plugins)" >&2; exit 1; }

if [ "$strongswan_only" = 0 ]; then
  if [ -z "${VIADUCT:-}" ]; then
    if [ -x .build-release/release/viaduct ]; then VIADUCT=.build-release/release/viaduct
    else VIADUCT=$(swift build -c release --show-bin-path 2>/dev/null)/viaduct; fi
  fi
  [ -x "$VIADUCT" ] || { echo "no Viaduct release build at $VIADUCT: swift build -c release --product viaduct (or set VIADUCT=..., or --strongswan-only)" >&2; exit 1; }
  # `viaduct bench dataplane` deletes vdt-bench-* before it builds: never under someone's run.
  for cmdline in /proc/[0-9]*/cmdline; do
    if { tr '\0' ' ' <"$cmdline"; } 2>/dev/null | grep -q 'viaduct bench dataplane'; then   # (exited meanwhile: skipped)
      echo "another 'viaduct bench dataplane' is running (PID $(basename "$(dirname "$cmdline")")): wait for it, or --strongswan-only" >&2; exit 1
    fi
  done
fi

HA=vdt-cmp-ha GWA=vdt-cmp-gwa GWB=vdt-cmp-gwb HB=vdt-cmp-hb
ALL_NS="$HA $GWA $GWB $HB"
WORK=$(mktemp -d /tmp/vdt-cmp.XXXXXX)
PIDS=()
# shellcheck source=Deploy/interop/common.sh
. Deploy/interop/common.sh   # log, stop_pid, teardown (PIDS, ALL_NS), on_exit (WORK), wait_for
trap on_exit EXIT
trap 'exit 130' INT TERM
teardown   # namespaces left by an interrupted earlier run

# --- topology (as DataplaneBenchmarkLab builds it, Sources/Tools/Bench) ---
for ns in $ALL_NS; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n $GWA link add wan type veth peer name wan netns $GWB
ip -n $GWA link add lan type veth peer name eth0 netns $HA
ip -n $GWB link add lan type veth peer name eth0 netns $HB
ip -n $GWA addr add 192.0.2.1/24 dev wan
ip -n $GWB addr add 192.0.2.2/24 dev wan
for site in 1 2; do
  gw=$([ $site = 1 ] && echo $GWA || echo $GWB) host=$([ $site = 1 ] && echo $HA || echo $HB)
  ip -n "$gw" addr add 198.18.$site.1/24 dev lan
  ip -n "$host" addr add 198.18.$site.10/24 dev eth0
  ip -n "$gw" link set wan up; ip -n "$gw" link set lan up
  ip -n "$host" link set eth0 up
  ip -n "$host" route add default via 198.18.$site.1
  ip netns exec "$gw" sysctl -q -w net.ipv4.ip_forward=1
done

# --- throwaway PKI: ECDSA P-256 CA and one certificate per gateway ---
pkidir=$WORK/pki; mkdir -p "$pkidir"
# pki reports each default plugin it cannot load: its stderr goes to a log, shown if it fails.
pki() { command pki "$@" 2>>"$WORK/pki.log" || { log "pki $1 failed: $(grep -v 'failed to load' "$WORK/pki.log" | tail -3)"; exit 1; }; }
pki --gen --type ecdsa --size 256 --outform pem >"$pkidir/ca.key"
pki --self --ca --lifetime 2 --in "$pkidir/ca.key" --type ecdsa --dn "CN=vdt-cmp CA,O=Viaduct benchmark" --outform pem >"$pkidir/ca.pem"
for gw in gw-a gw-b; do
  pki --gen --type ecdsa --size 256 --outform pem >"$pkidir/$gw.key"
  pki --req --in "$pkidir/$gw.key" --type ecdsa --dn "CN=$gw.example,O=Viaduct benchmark" --san "$gw.example" --outform pem >"$pkidir/$gw.req"
  pki --issue --cacert "$pkidir/ca.pem" --cakey "$pkidir/ca.key" --type pkcs10 --in "$pkidir/$gw.req" \
    --lifetime 2 --san "$gw.example" --outform pem >"$pkidir/$gw.pem"
done

# --- one charon per gateway, each with its own /run (pid file and sockets are compiled in) ---
# write_charon NAME NS LOCAL REMOTE LOCAL_NET REMOTE_NET PEER_NAME START_ACTION
write_charon() {
  local name=$1 ns=$2 local_ip=$3 remote_ip=$4 local_net=$5 remote_net=$6 peer=$7 start=$8
  local d=$WORK/$name
  mkdir -p "$d/run" "$d/swanctl/x509" "$d/swanctl/x509ca" "$d/swanctl/private"
  cp "$pkidir/$name.pem" "$d/swanctl/x509/"; cp "$pkidir/$name.key" "$d/swanctl/private/"
  cp "$pkidir/ca.pem" "$d/swanctl/x509ca/"
  # kernel-libipsec must load before kernel-netlink; 5.9 needs kdf when plugins are listed.
  # install_routes = no + the fwmark: the LAN route to ipsec0 is added by hand below.
  cat >"$d/strongswan.conf" <<CONF
charon {
    load = random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey constraints kernel-libipsec kernel-netlink socket-default vici
    install_routes = no
    plugins {
        vici { socket = unix://$d/run/charon.vici }
        kernel-netlink { fwmark = 0x2200 }
    }
    filelog {
        main { path = $d/charon.log
               time_add_ms = yes
               default = 1 }
    }
}
CONF
  cat >"$d/swanctl/swanctl.conf" <<CONF
connections {
    cmp {
        version = 2
        local_addrs = $local_ip
        remote_addrs = $remote_ip
        proposals = aes256gcm16-prfsha256-ecp256
        encap = yes
        mobike = no
        dpd_delay = 0s
        local { auth = pubkey
                certs = $name.pem
                id = $name.example }
        remote { auth = pubkey
                 id = $peer.example }
        children {
            net { local_ts = $local_net
                  remote_ts = $remote_net
                  esp_proposals = aes256gcm16
                  mode = tunnel
                  start_action = $start }
        }
    }
}
CONF
}
start_charon() { # start_charon NAME NS -> sets CHARON_PID
  local name=$1 ns=$2 d=$WORK/$1
  # ip netns exec gives the command a private (slave) mount namespace: /run bound there only.
  ip netns exec "$ns" sh -c "mount --bind '$d/run' /run && STRONGSWAN_CONF='$d/strongswan.conf' exec '$CHARON'" \
    >"$d/charon.stdout" 2>&1 &
  CHARON_PID=$!
  PIDS+=("$CHARON_PID")
  wait_for 10 test -S "$d/run/charon.vici" || { log "charon $name did not start: $(tail -3 "$d/charon.stdout")"; exit 1; }
  sw "$name" "$ns" --load-all >"$d/swanctl-load.log" 2>&1 || { log "swanctl --load-all ($name): $(tail -3 "$d/swanctl-load.log")"; exit 1; }
}
sw() { # sw NAME NS COMMAND ARGS...: swanctl against that charon (command before --uri)
  local name=$1 ns=$2 cmd=$3; shift 3
  SWANCTL_DIR=$WORK/$name/swanctl ip netns exec "$ns" swanctl "$cmd" --uri "unix://$WORK/$name/run/charon.vici" "$@"
}
cpu_ticks() { # utime + stime of the PIDs, in clock ticks (/proc/PID/stat fields 14 and 15)
  local total=0 pid rest
  for pid in "$@"; do
    rest=$(sed 's/^.*) //' "/proc/$pid/stat")   # skip "pid (comm) ": comm may hold spaces
    total=$(( total + $(awk '{print $12 + $13}' <<<"$rest") ))
  done
  echo "$total"
}

write_charon gw-a $GWA 192.0.2.1 192.0.2.2 198.18.1.0/24 198.18.2.0/24 gw-b none
write_charon gw-b $GWB 192.0.2.2 192.0.2.1 198.18.2.0/24 198.18.1.0/24 gw-a none
start_charon gw-b $GWB; PID_B=$CHARON_PID
start_charon gw-a $GWA; PID_A=$CHARON_PID
for pid in $PID_A $PID_B; do
  [ "$(cat "/proc/$pid/comm")" = charon ] || { log "PID $pid is $(cat "/proc/$pid/comm"), not charon"; exit 1; }
done
for ns in $GWA $GWB; do wait_for 5 ip -n "$ns" link show ipsec0 >/dev/null 2>&1 || { log "no ipsec0 in $ns"; exit 1; }; done
ip -n $GWA route add 198.18.2.0/24 dev ipsec0
ip -n $GWB route add 198.18.1.0/24 dev ipsec0

sw gw-a $GWA --initiate --child net --timeout 15 >"$WORK/initiate.log" 2>&1 \
  || { log "swanctl --initiate failed: $(tail -5 "$WORK/initiate.log")"; exit 1; }
for side in "gw-a $GWA" "gw-b $GWB"; do
  # shellcheck disable=SC2086
  wait_for 10 sh -c "SWANCTL_DIR=$WORK/${side% *}/swanctl ip netns exec ${side#* } swanctl --list-sas --uri unix://$WORK/${side% *}/run/charon.vici 2>/dev/null | grep -q INSTALLED" \
    || { log "no INSTALLED Child SA on ${side% *}"; exit 1; }
done
wait_for 10 ip netns exec $HA ping -c 1 -W 1 198.18.2.10 >/dev/null \
  || { log "host-a cannot ping host-b through the tunnel"; exit 1; }
proposal=$(sw gw-a $GWA --list-sas 2>/dev/null | grep -o 'AES_GCM_16-256' | head -1 || true)
mtu=$(ip -n $GWA -o link show ipsec0 | grep -o 'mtu [0-9]*' | awk '{print $2}')

ip netns exec $HB iperf3 -s >/dev/null 2>&1 &
IPERF_PID=$!; PIDS+=("$IPERF_PID")
sleep 0.3

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }'; }
best() { sort -g | tail -1; }
hz=$(getconf CLK_TCK)
echo "strongSwan $("$CHARON" --version 2>/dev/null | head -1 | awk '{print $NF}') kernel-libipsec, 1 TCP stream host-a → host-b, ESP ${proposal:-AES_GCM_16-256} in UDP/4500, ipsec0 MTU $mtu, $seconds s per run"
ss_results=()
for i in $(seq "$runs"); do
  before=$(cpu_ticks "$PID_A" "$PID_B"); start=$(date +%s.%N)
  ip netns exec $HA iperf3 -c 198.18.2.10 -t "$seconds" -J >"$WORK/iperf-$i.json" \
    || { log "iperf3 run $i failed: $(jq -r '.error // empty' "$WORK/iperf-$i.json" 2>/dev/null)"; exit 1; }
  wall=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }')
  after=$(cpu_ticks "$PID_A" "$PID_B")
  gbps=$(jq -r '.end.sum_received.bits_per_second / 1e9' "$WORK/iperf-$i.json")
  retr=$(jq -r '.end.sum_sent.retransmits // 0' "$WORK/iperf-$i.json")
  cpu=$(awk -v t=$(( after - before )) -v hz="$hz" -v w="$wall" 'BEGIN { printf "%.0f", t / hz / w * 100 }')
  printf '  run %d: %6.2f Gbit/s   charon CPU (both) %4s%% of one core   TCP retransmits %s\n' "$i" "$gbps" "$cpu" "$retr"
  ss_results+=("$gbps")
done
ss_best=$(printf '%s\n' "${ss_results[@]}" | best)
ss_median=$(printf '%s\n' "${ss_results[@]}" | median)
printf '  best %.2f Gbit/s, median %.2f Gbit/s\n' "$ss_best" "$ss_median"

# strongSwan down before Viaduct measures: nothing of it left to compete for the cores.
teardown
[ "$strongswan_only" = 1 ] && exit 0

echo
"$VIADUCT" bench dataplane --seconds "$seconds" --runs "$runs" | tee "$WORK/viaduct.txt"
vd_best=$(grep -o 'best [0-9.]*' "$WORK/viaduct.txt" | awk '{print $2}')
vd_median=$(grep -o 'median [0-9.]*' "$WORK/viaduct.txt" | awk '{print $2}')
if [ -z "$vd_best" ] || [ -z "$vd_median" ]; then
  log "could not read best/median from viaduct bench dataplane"; exit 1
fi

echo
echo "1 TCP stream LAN↔LAN, AES-256-GCM ESP in UDP, $runs × $seconds s (uptime: $(uptime | sed 's/.*load average/load average/'))"
printf '  %-32s best %6.2f Gbit/s   median %6.2f Gbit/s\n' "strongSwan kernel-libipsec" "$ss_best" "$ss_median"
printf '  %-32s best %6.2f Gbit/s   median %6.2f Gbit/s\n' "Viaduct userspace data plane" "$vd_best" "$vd_median"
awk -v v="$vd_median" -v s="$ss_median" 'BEGIN { if (s > 0) printf "  Viaduct / strongSwan (medians): %.1f×\n", v / s; else print "  strongSwan median is 0: no ratio" }'
