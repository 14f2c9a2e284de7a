#!/usr/bin/env bash
# Deploy/interop/dos-flood.sh - an IKE_SA_INIT flood does not stop a legitimate peer (RFC 8019).
#
#   Deploy/interop/dos-flood.sh          (must run as root; about 60 s)
#
# Four network namespaces on one bridge (192.0.2.0/24): a responder `viaduct run` (hub,
# 192.0.2.1), a legitimate initiator `viaduct run` (branch, 192.0.2.2), a flood namespace
# (192.0.2.254) that also routes 198.51.100.0/24 and 203.0.113.0/24, and the switch. The hub's
# topology has the branch and 8 `managed: false` decoy peers (198.51.100.11-18) that never
# show up, all initiating towards the hub, so the hub is responder for every one of them.
#
#   1. baseline: the branch starts, establishes, pings the hub's inside address; time measured.
#   2. flood: `viaduct bench flood` sends well-formed IKE_SA_INITs (real ECP-384 public value,
#      fresh SPI and nonce each) at FLOOD_RATE/s for FLOOD_SECONDS, from 203.0.113.0/24 and
#      198.51.100.0/24, half of them impersonating the branch and the decoys (the addresses
#      that pass the hub's peer filter). The branch restarts during the flood; it must establish
#      (through a COOKIE round trip) and ping across.
#   3. after the flood, the half-open SAs it left expire (30 s); the hub must still show the
#      branch's tunnel established (their failures are not the tunnel's) and ping across.
#   4. the hub's RSS (/proc/PID/status VmRSS) is sampled before, during and after; the peak must
#      stay under RSS_BOUND_MIB.
# Prints the figures (flood packets/s, cookies sent, drops by reason, half-open peak, RSS
# before/peak/after, time to establish without and with the flood) and one PASS/FAIL line.
#
# Environment: VIADUCT (binary; default: the newest of .build*/debug/viaduct), NS_PREFIX
# (default vdt-dos), FLOOD_RATE (default 3000), FLOOD_SECONDS (default 20), RSS_BOUND_MIB
# (default 64), KEEP=1 (keep the work directory), VERBOSE=1 (print the logs on failure), GATE=off
# (the control run: the hub without its admission gate; expected to fail, never in CI).
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NS_PREFIX=${NS_PREFIX:-vdt-dos}
NS_X=$NS_PREFIX-x   # the switch
NS_R=$NS_PREFIX-r   # responder (hub)
NS_L=$NS_PREFIX-l   # legitimate initiator (branch)
NS_F=$NS_PREFIX-f   # flood
ALL_NS="$NS_R $NS_L $NS_F $NS_X"
FLOOD_RATE=${FLOOD_RATE:-3000}
FLOOD_SECONDS=${FLOOD_SECONDS:-20}
RSS_BOUND_MIB=${RSS_BOUND_MIB:-64}
DECOYS=8

log() { printf '%s\n' "$*" >&2; }
die() { log "dos-flood.sh: $*"; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, raw socket)"
for tool in ip ping jq; do command -v "$tool" >/dev/null 2>&1 || die "missing $tool"; done
if [ -z "${VIADUCT:-}" ]; then VIADUCT=$(ls -t "$REPO"/.build*/debug/viaduct 2>/dev/null | head -1); fi
[ -n "${VIADUCT:-}" ] && [ -x "$VIADUCT" ] || die "no viaduct binary; build it (swift build) or set VIADUCT"

WORK=${WORK:-$(mktemp -d /tmp/vdt-dos.XXXXXX)}
PIDS=()
HUB_PID=""
BRANCH_PID=""

stop_pid() {
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
teardown() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  PIDS=()
  for ns in $ALL_NS; do
    ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" && ip netns del "$ns"
  done
  return 0
}
on_exit() {
  teardown
  if [ "${KEEP:-0}" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for SECONDS COMMAND...
  local t=$1; shift
  for _ in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}
now_ms() { date +%s%3N; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

FAIL_REASON=""
fail() { FAIL_REASON=$*; return 1; }

# ---------------------------------------------------------------- network
net_up() {
  teardown
  for ns in $ALL_NS; do ip netns add "$ns" || return 1; ip -n "$ns" link set lo up; done
  ip -n $NS_X link add br0 type bridge && ip -n $NS_X link set br0 up || return 1
  local ns ifn addr
  for spec in "$NS_R:r:192.0.2.1" "$NS_L:l:192.0.2.2" "$NS_F:f:192.0.2.254"; do
    IFS=: read -r ns ifn addr <<<"$spec"
    ip link add "$ifn-wan" netns "$ns" type veth peer name "x-$ifn" netns $NS_X || return 1
    ip -n $NS_X link set "x-$ifn" master br0 && ip -n $NS_X link set "x-$ifn" up || return 1
    ip -n "$ns" addr add "$addr/24" dev "$ifn-wan" && ip -n "$ns" link set "$ifn-wan" up || return 1
  done
  # The spoofed ranges (and the decoy peers in them) are behind the flood namespace.
  for net in 198.51.100.0/24 203.0.113.0/24; do
    ip -n $NS_R route add $net via 192.0.2.254 && ip -n $NS_L route add $net via 192.0.2.254 || return 1
  done
}

# ---------------------------------------------------------------- topology + PKI
write_topology() {
  local dir=$1 i
  mkdir -p "$dir/pki"
  {
    cat <<YAML
# generated by Deploy/interop/dos-flood.sh
version: 1
defaults:
  ike: { proposals: [aes256gcm16-prfsha384-ecp384], lifetime: 8h }
  esp: { proposals: [aes256gcm16], lifetime: 1h }
  dataplane: userspace
pki: { ca: pki/ca.pem }
gateways:
  hub:
    address: 192.0.2.1
    identity: hub.example.net
    certificate: pki/hub.pem
    key: pki/hub.key
    networks: [198.18.1.0/24]
  branch:
    address: 192.0.2.2
    identity: branch.example.net
    certificate: pki/branch.pem
    key: pki/branch.key
    networks: [198.18.2.0/24]
YAML
    for i in $(seq 1 $DECOYS); do
      cat <<YAML
  decoy$i:
    address: 198.51.100.$((10 + i))
    identity: decoy$i.example.net
    managed: false
    networks: [198.18.$((10 + i)).0/24]
YAML
    done
    cat <<YAML
tunnels:
  - between: [hub, branch]
    inside: 169.254.20.0/30
    routing: static
    initiator: branch
YAML
    for i in $(seq 1 $DECOYS); do
      cat <<YAML
  - between: [hub, decoy$i]
    inside: 169.254.30.$((4 * i))/30
    routing: static
    initiator: decoy$i
YAML
    done
  } >"$dir/topology.yaml"
  "$VIADUCT" pki init "$dir/topology.yaml" --key-type ecdsa-p256 >"$dir/pki.log" 2>&1
}

start_hub() {
  local dir=$1
  local control=""
  [ "${GATE:-on}" = off ] && control="--no-admission-gate"
  ip netns exec $NS_R "$VIADUCT" run "$dir/topology.yaml" --node hub --timestamps --control-socket "$dir/hub.sock" $control \
    >"$dir/hub.stdout" 2>"$dir/hub.log" &
  HUB_PID=$!
  PIDS+=($HUB_PID)
  wait_for 10 grep -q "daemon started" "$dir/hub.log" || fail "hub did not start: $(tail -3 "$dir/hub.log")"
}

# start_branch DIR NAME: a fresh branch daemon; prints nothing, sets BRANCH_PID.
start_branch() {
  local dir=$1 name=$2
  ip netns exec $NS_L "$VIADUCT" run "$dir/topology.yaml" --node branch --timestamps --retry-delay 2 \
    --control-socket "$dir/branch.sock" >"$dir/$name.stdout" 2>"$dir/$name.log" &
  BRANCH_PID=$!
  PIDS+=($BRANCH_PID)
}

# establish DIR NAME: starts the branch, returns when its child SA is up and a ping crosses;
# sets ESTABLISH_MS (start to child SA) and PING_OK.
establish() {
  local dir=$1 name=$2 t0 t1
  t0=$(now_ms)
  start_branch "$dir" "$name"
  wait_for 40 grep -qs "child SA established" "$dir/$name.log" || fail "$name: no child SA within 40 s: $(grep -m2 'IKE SA failed' "$dir/$name.log")" || return 1
  t1=$(now_ms)
  ESTABLISH_MS=$((t1 - t0))
  wait_for 10 ip netns exec $NS_L ping -n -c 1 -W 1 169.254.20.1 >/dev/null 2>&1 || fail "$name: no ping across the tunnel" || return 1
  local out loss
  out=$(ip netns exec $NS_L ping -n -c 10 -i 0.1 -W 1 169.254.20.1 2>&1)
  loss=$(printf '%s\n' "$out" | grep -o '[0-9.]*% packet loss' | cut -d% -f1)
  PING_LOSS=${loss:-100}
}

stop_branch() { stop_pid "$BRANCH_PID"; BRANCH_PID=""; }

hub_status() { "$VIADUCT" status --socket "$1/hub.sock" --json 2>/dev/null; }

# ---------------------------------------------------------------- the scenario
run() {
  local dir=$WORK
  net_up || fail "network setup failed" || return 1
  write_topology "$dir" || fail "viaduct pki init failed: $(tail -3 "$dir/pki.log")" || return 1
  start_hub "$dir" || return 1
  sleep 1
  RSS_BEFORE=$(rss_kib $HUB_PID)

  # 1. Baseline.
  establish "$dir" branch-baseline || return 1
  BASE_MS=$ESTABLISH_MS
  BASE_LOSS=$PING_LOSS
  stop_branch
  sleep 1

  # 2. Flood, and the branch again in the middle of it.
  ip netns exec $NS_F "$VIADUCT" bench flood --target 192.0.2.1 --source 203.0.113.0/24 --source 198.51.100.0/24 \
    --impersonate 192.0.2.2 $(for i in $(seq 1 $DECOYS); do printf -- '--impersonate 198.51.100.%d ' $((10 + i)); done) \
    --impersonate-share 0.5 --rate "$FLOOD_RATE" --seconds "$FLOOD_SECONDS" >"$dir/flood.out" 2>"$dir/flood.err" &
  local flood=$!
  PIDS+=($flood)
  RSS_PEAK=$RSS_BEFORE
  local sampler_stop=$dir/sampler.stop
  ( while [ ! -e "$sampler_stop" ]; do rss_kib $HUB_PID; sleep 0.25; done >"$dir/rss.samples" ) &
  PIDS+=($!)
  sleep 3
  hub_status "$dir" >"$dir/status-flood-start.json"
  establish "$dir" branch-flood
  local ok=$?
  FLOOD_MS=${ESTABLISH_MS:-}
  FLOOD_LOSS=${PING_LOSS:-}
  hub_status "$dir" >"$dir/status-flood.json"
  wait "$flood"
  touch "$sampler_stop"
  sleep 0.5
  RSS_PEAK=$(sort -n "$dir/rss.samples" | tail -1)
  [ -n "$RSS_PEAK" ] || RSS_PEAK=0
  [ $ok = 0 ] || return 1
  # What the flood left half-open expires; the branch's tunnel must not notice.
  wait_for 40 sh -c "'$VIADUCT' status --socket '$dir/hub.sock' --json 2>/dev/null | jq -e '.admission.half_open == 0' >/dev/null" \
    || fail "half-open SAs did not expire within 40 s after the flood" || return 1
  RSS_AFTER=$(rss_kib $HUB_PID)
  hub_status "$dir" >"$dir/status-after.json"
  jq -e '.tunnels[] | select(.peer == "branch") | .state == "established"' "$dir/status-after.json" >/dev/null \
    || fail "after the flood the hub no longer shows the branch's tunnel established: $(jq -c '.tunnels[] | select(.peer == "branch") | {state, reason}' "$dir/status-after.json")" || return 1
  local after_out
  after_out=$(ip netns exec $NS_L ping -n -c 10 -i 0.1 -W 1 169.254.20.1 2>&1)
  AFTER_LOSS=$(printf '%s\n' "$after_out" | grep -o '[0-9.]*% packet loss' | cut -d% -f1)

  # 3. Figures and checks.
  local s=$dir/status-after.json
  FLOOD_LINE=$(grep '^flood-result' "$dir/flood.out")
  printf '%s\n' "  flood:        $(grep '^flood:' "$dir/flood.out")"
  printf '%s\n' "  hub gate:     $(jq -r '.admission | "\(.admitted) admitted, \(.cookies_sent) cookies sent, \(.cookies_accepted) cookies accepted, half-open peak \(.half_open_peak), now \(.half_open)"' "$s")"
  printf '%s\n' "  hub drops:    $(jq -r '(.admission.dropped | to_entries | map("\(.key) \(.value)") | join(", ")) as $d | "admission: \(if $d == "" then "none" else $d end); datagrams dropped in all \(.datagrams_dropped) of \(.datagrams_received) received"' "$s")"
  printf '%s\n' "  hub sources:  $(jq -r '.admission | "\(.sources) remembered, \(.source_evictions) evicted"' "$s")"
  printf '%s\n' "  hub RSS:      before $((RSS_BEFORE / 1024)) MiB, peak $((RSS_PEAK / 1024)) MiB, after $((RSS_AFTER / 1024)) MiB (bound $RSS_BOUND_MIB MiB)"
  printf '%s\n' "  establish:    without flood ${BASE_MS} ms (ping loss ${BASE_LOSS}%), during flood ${FLOOD_MS} ms (ping loss ${FLOOD_LOSS}%); after the flood's half-open SAs expired: ping loss ${AFTER_LOSS:-?}%"
  printf '%s\n' "  (debug build, wall-clock figures measured under whatever else this machine runs)"

  local sent cookies
  sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$FLOOD_LINE")
  cookies=$(jq -r '.admission.cookies_sent' "$s")
  [ "${sent:-0}" -gt $((FLOOD_RATE * FLOOD_SECONDS / 4)) ] || fail "the flood sent only ${sent:-0} packets" || return 1
  [ "${cookies:-0}" -gt 0 ] || fail "the hub sent no cookies under the flood" || return 1
  [ "$((RSS_PEAK / 1024))" -lt "$RSS_BOUND_MIB" ] || fail "hub RSS peaked at $((RSS_PEAK / 1024)) MiB (bound $RSS_BOUND_MIB MiB)" || return 1
  [ "$(jq -r '.admission.cookies_accepted' "$s")" -ge 1 ] || fail "the branch never came back with a cookie" || return 1
  [ "$(jq -r '.admission.half_open_peak' "$s")" -le 256 ] || fail "half-open SAs above the gate's hard limit (256)" || return 1
  [ "$FLOOD_LOSS" = 0 ] || fail "ping across the tunnel during the flood lost $FLOOD_LOSS%" || return 1
  [ "${AFTER_LOSS:-100}" = 0 ] || fail "ping across the tunnel after the flood lost ${AFTER_LOSS:-100}%" || return 1
  return 0
}

if run; then
  echo "PASS dos-flood: legitimate peer established during a $FLOOD_RATE/s IKE_SA_INIT flood; hub RSS under $RSS_BOUND_MIB MiB"
  exit 0
else
  echo "FAIL dos-flood: $FAIL_REASON"
  if [ "${VERBOSE:-0}" = 1 ]; then
    for f in "$WORK"/hub.log "$WORK"/branch-flood.log "$WORK"/flood.err; do
      [ -f "$f" ] && { log "---- $f"; tail -30 "$f" >&2; }
    done
  fi
  exit 1
fi
