#!/usr/bin/env bash
# Deploy/interop/run.sh - Viaduct <-> strongSwan IKEv2 interoperability scenarios.
#
#   Deploy/interop/run.sh [scenario...]      (default: all; must run as root)
#   Deploy/interop/run.sh --list
#   Deploy/interop/run.sh --jobs 2 [scenario...]   (two lanes side by side; see "main" below)
#   Deploy/interop/run.sh --strongswan6 "$(Deploy/interop/strongswan6-root)" [scenario[@strongswan6]...]
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
# CHARON, NS_PREFIX and the namespace names, addresses and identities: lib/names.sh.
. "$HERE/lib/names.sh"

# name | who initiates (viaduct|strongswan|pair) | key type | IKE proposal | ESP proposal | expectation
# up: SAs match and LAN<->LAN ping both ways; traffic: up + 5 s iperf3 each way;
# up-status: up, and `viaduct status` says the tunnel is up with the Child SA strongSwan shows
#   (AES-CBC + HMAC-SHA-256 in the userspace data plane: issue 15, defect 2);
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
# child-recreate: strongSwan deletes the Child SA and creates a new one inside the same IKE SA
#   (swanctl --terminate --child, then --initiate --child: CREATE_CHILD_SA without REKEY_SA, RFC 7296
#   §1.3.1); Viaduct accepts it (same IKE SA, new Child SA, ping both ways). A second --initiate
#   --child while it is installed is refused (NO_ADDITIONAL_SAS), logged and shown in status; the
#   installed Child SA keeps carrying traffic.
# psk-responder, psk-initiator: RFC 7296 §2.15 pre-shared key (auth: psk, a key file made by
#   viaduct pki psk; strongSwan auth = psk with the same secret): up, ping both ways; no CERT payload.
# psk-wrong: strongSwan holds another key: both sides fail with AUTHENTICATION_FAILED and say why.
# rotation-ca: a CA rollover of Viaduct's certificate under a 20/s ping (lib/lifecycle.sh, run_rotation).
# reauth-strongswan: strongSwan reauthenticates (reauth_time 15 s, charon.make_before_break = yes)
#   under a running LAN ping: no echo lost, Viaduct keeps the tunnel and shows the new SAs.
# dynamic-responder: strongSwan is `address: dynamic` in Viaduct's topology (Viaduct has no
#   remote address for it) and initiates from 192.0.2.2; then its address changes to 192.0.2.3 and
#   charon restarts and initiates again (INITIAL_CONTACT): Viaduct files the new IKE SA under the same
#   tunnel by identity, drops the old one, and LAN traffic flows to the new address.
# dynamic-initiator: Viaduct is `address: dynamic` (binds the wildcard) and initiates; strongSwan
#   has remote_addrs = %any.
# viaduct-pair-hybrid: two Viaducts with RFC 9370 hybrid key exchange (x25519, then ML-KEM-768 and ML-KEM-1024 in
#   IKE_INTERMEDIATE exchanges, RFC 9242; ML-KEM-1024 goes as IKE fragments), Child SA and IKE SA rekeys.
# hybrid-responder, hybrid-initiator (strongSwan 6 only): RFC 9370 against strongSwan 6.0.1 with classical
#   additional key exchanges (its ML-KEM is missing, see below), IKE_INTERMEDIATE both ways; traffic.
# viaduct-pair-mlkem: two Viaducts with ML-KEM-768 as the IKE SA's only key exchange
#   (draft-ietf-ipsecme-ikev2-mlkem) and ML-KEM-1024 for Child SA rekey PFS. Debian 13's strongSwan 6.0.1
#   names ML-KEM but refuses it ("negotiated key exchange method ML_KEM_1024 not supported": 6.0.2 adds it).
# fqdn: Viaduct knows strongSwan as east.example.net, from a hosts file in the namespace
#   (/etc/netns/NS/hosts, which ip netns exec binds over /etc/hosts): up at 192.0.2.2; then
#   strongSwan moves to 192.0.2.3, the hosts file says so, and `viaduct apply` (re-resolution)
#   moves the tunnel there without a restart.
SCENARIOS=(
  "responder-ecdsa|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|traffic"
  "initiator-ecdsa|viaduct|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|traffic"
  "responder-rsa|strongswan|rsa3072|aes256gcm16-prfsha384-ecp384|aes256gcm16|up"
  "initiator-rsa|viaduct|rsa3072|aes256gcm16-prfsha384-ecp384|aes256gcm16|up"
  "aes128gcm16-x25519|viaduct|ecdsa-p256|aes128gcm16-prfsha256-x25519|aes128gcm16|up"
  "aes256-sha256-modp3072|strongswan|ecdsa-p256|aes256-sha256-modp3072|aes256-sha256-modp3072|up-status"
  "aes128-sha512-initiator|viaduct|ecdsa-p256|aes256-sha256-modp3072|aes128-sha512-modp3072|up-status"
  "chacha20poly1305-x25519|viaduct|ecdsa-p256|chacha20poly1305-prfsha256-x25519|chacha20poly1305|up"
  "viaduct-pair-traffic|pair|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|pair-traffic"
  "viaduct-pair-chacha20poly1305|pair|ecdsa-p256|chacha20poly1305-prfsha256-x25519|chacha20poly1305|pair-up"
  "wrong-ca|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|wrong-ca"
  "wrong-identity|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|wrong-identity"
  "no-proposal|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|no-proposal"
  "responder-cookie|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|cookie"
  "lifecycle-strongswan|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16-x25519|lifecycle-strongswan"
  "lifecycle-viaduct|viaduct|ecdsa-p256|aes128gcm16-prfsha256-x25519|aes256gcm16-x25519|lifecycle-viaduct"
  "child-recreate|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|child-recreate"
  "psk-responder|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|psk"
  "psk-initiator|viaduct|ecdsa-p256|aes256gcm16-prfsha256-x25519|aes256gcm16|psk"
  "psk-wrong|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|psk-wrong"
  "peer-restart|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|peer-restart"
  "reauth-viaduct|viaduct|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|reauth-viaduct"
  "reauth-strongswan|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|reauth-strongswan"
  "rotation-ca|viaduct|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|rotation"
  "nat-initiator|viaduct|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|nat"
  "nat-responder|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|nat"
  "fragmentation-initiator|viaduct|rsa4096|aes256gcm16-prfsha384-ecp384|aes256gcm16|fragmentation"
  "fragmentation-responder|strongswan|rsa4096|aes256gcm16-prfsha384-ecp384|aes256gcm16|fragmentation"
  "dynamic-responder|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|dynamic-responder"
  "dynamic-initiator|viaduct|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|dynamic-initiator"
  "fqdn|viaduct|ecdsa-p256|aes256gcm16-prfsha384-ecp384|aes256gcm16|fqdn"
  "viaduct-pair-mlkem|pair|ecdsa-p256|aes256gcm16-prfsha384-mlkem768|aes256gcm16-mlkem1024|pair-traffic"
  "viaduct-pair-hybrid|pair|ecdsa-p256|aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_mlkem1024|aes256gcm16-x25519|pair-traffic"
  "hybrid-responder|strongswan|ecdsa-p256|aes256gcm16-prfsha384-ecp384-ke1_x25519-ke2_ecp256|aes256gcm16|traffic"
  "hybrid-initiator|viaduct|ecdsa-p256|aes256gcm16-prfsha256-x25519-ke1_ecp384|aes256gcm16|traffic"
)
# RFC 9370 needs strongSwan 6: these run only as NAME@strongswan6.
SS6_ONLY=(hybrid-responder hybrid-initiator)

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

# ---------------------------------------------------------------- building blocks, checks, scenarios
# lib/: setup.sh (namespaces, PKI, topologies, charon, daemons), checks.sh, and one file per kind of
# scenario (lifecycle.sh, pair.sh, nat.sh, fragmentation.sh). They only define functions.
for part in setup checks lifecycle pair nat fragmentation dynamic; do
  # shellcheck source=/dev/null
  . "$HERE/lib/$part.sh"
done

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
  local dir=$WORK/$name${SS_ROOT:+@strongswan6}
  rm -rf "$dir"; mkdir -p "$dir"
  FAIL_REASON="" NOTE=""
  # Every scenario starts from the same settings (none leaks into the next).
  TOPO_IKE_EXTRA="" SS_TOPO_ADDRESS="" SS_REMOTE_ADDRS="" SS_KEEPALIVE="" SS_DPD="" SS_ENCAP="" VIADUCT_EXTRA=""
  TOPO_IKE_LIFE="" TOPO_ESP_LIFE="" SS_CONN_EXTRA="" SS_CHILD_EXTRA="" SS_CHILDREN_EXTRA="" SS_MBB=""
  TOPO_TUNNEL_EXTRA="" SS_AUTH="" SS_SECRETS="" VDT_TOPO_ADDRESS="" SS_LOCAL_ADDRS=""
  if [ "$initiator" = pair ]; then run_pair "$dir" "$ike" "$esp" "$keytype" "$expect"; return; fi
  if [ "$expect" = nat ]; then run_nat "$dir" "$initiator" "$ike" "$esp" "$keytype"; return; fi
  if [ "$expect" = fragmentation ]; then run_fragmentation "$dir" "$initiator" "$ike" "$esp"; return; fi
  case $expect in dynamic-*|fqdn) run_dynamic "$dir" "$initiator" "$ike" "$esp" "$keytype" "$expect"; return ;; esac
  case $expect in psk|psk-wrong) use_psk "$dir" "$expect" || fail "pre-shared key: $(cat "$dir/psk.log")" || return 1 ;; esac
  write_topology "$dir" "$initiator" "$ike" "$esp" "$expect" || fail "topology" || return 1
  # child-recreate: a second child config with narrower selectors, so strongSwan asks for a second
  # Child SA (it never creates a duplicate of one with the same selectors).
  [ "$expect" = child-recreate ] && SS_CHILDREN_EXTRA="net2 { local_ts = 198.18.2.0/24
                remote_ts = 198.18.1.0/24
                esp_proposals = $esp
                mode = tunnel }"
  make_pki "$dir" "$keytype" "$expect" || fail "PKI: $(tail -1 "$dir/pki.log")" || return 1
  write_charon "$dir" "$ike" "$esp" "$expect" || fail "charon config" || return 1
  net_up || fail "namespaces" || return 1
  local lan=none initiates=$initiator
  case $expect in up|up-status|traffic|cookie|lifecycle-*|peer-restart|reauth-*|child-recreate|psk|rotation) lan=lan ;; esac
  # peer-restart: charon's start_action brings the tunnel up, now and after its restart.
  [ "$expect" = peer-restart ] && initiates=none
  [ "$expect" = cookie ] && VIADUCT_EXTRA="--cookie-threshold 0"
  start_both "$dir" "$initiates" "$lan" || return 1
  case $expect in
    up) check_up "$dir" && check_installed "$dir" && check_traffic_strongswan "$dir" 0 || return 1 ;;
    traffic) check_up "$dir" && check_installed "$dir" && check_traffic_strongswan "$dir" 1 || return 1 ;;
    up-status) check_up "$dir" && check_installed "$dir" && check_traffic_strongswan "$dir" 0 && check_status_up "$dir" || return 1 ;;
    cookie) check_up "$dir" && check_installed "$dir" && check_cookie "$dir" && check_traffic_strongswan "$dir" 0 || return 1 ;;
    lifecycle-strongswan) run_lifecycle_strongswan "$dir" || return 1 ;;
    lifecycle-viaduct) run_lifecycle_viaduct "$dir" || return 1 ;;
    peer-restart) run_peer_restart "$dir" || return 1 ;;
    child-recreate) run_child_recreate "$dir" || return 1 ;;
    psk) check_up "$dir" && check_installed "$dir" && check_traffic_strongswan "$dir" 0 && check_no_certificates "$dir" || return 1 ;;
    psk-wrong) check_fails "$dir" "received AUTHENTICATION_FAILED notify error" \
                "IKE SA failed.*psk-file of the two ends differ" || return 1 ;;
    reauth-viaduct) run_reauth "$dir" viaduct || return 1 ;;
    reauth-strongswan) run_reauth "$dir" strongswan || return 1 ;;
    rotation) run_rotation "$dir" || return 1 ;;
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
# --jobs N (or JOBS=N): N lanes side by side, each a copy of this script with its own namespaces
# (NS_PREFIX + lane number), work directory and charon, taking the next scenario from a shared
# queue (a file under flock) until it is empty. The scenarios mostly wait (handshakes, rekeys,
# pings), so two lanes on two cores take a little more than half the time of one.
#
# --strongswan6 ROOT (or SS6_ROOT=ROOT): the scenarios of SS6_SCENARIOS also run against Debian 13's
# strongSwan 6 from ROOT (Deploy/interop/strongswan6-root makes it), named NAME@strongswan6; charon and
# swanctl run chrooted into ROOT in the scenario's namespace (lib/setup.sh, ss_exec). Viaduct's side is
# the same.
JOBS=${JOBS:-1} SS6_ROOT=${SS6_ROOT:-}
while [ $# -gt 0 ]; do
  case $1 in
    --jobs) JOBS=${2:-}; shift 2 || die "--jobs needs a number" ;;
    --strongswan6) SS6_ROOT=${2:-}; shift 2 || die "--strongswan6 needs a root directory" ;;
    *) break ;;
  esac
done
[[ "$JOBS" =~ ^[1-9][0-9]?$ ]] || die "--jobs/JOBS must be a number from 1 to 99"
[ -z "$SS6_ROOT" ] || [ -x "$SS6_ROOT/usr/lib/ipsec/charon" ] || die "$SS6_ROOT holds no strongSwan (usr/lib/ipsec/charon)"
SS6_SCENARIOS=(responder-ecdsa initiator-ecdsa responder-rsa psk-initiator lifecycle-strongswan lifecycle-viaduct
               child-recreate reauth-strongswan "${SS6_ONLY[@]}")
selected=("$@")
if [ ${#selected[@]} -eq 0 ] && [ -z "${INTEROP_QUEUE:-}" ]; then
  for s in "${SCENARIOS[@]}"; do [[ " ${SS6_ONLY[*]} " == *" ${s%%|*} "* ]] || selected+=("${s%%|*}"); done
  [ -n "$SS6_ROOT" ] && for s in "${SS6_SCENARIOS[@]}"; do selected+=("$s@strongswan6"); done
fi

# next_scenario: pops the queue's first line into $want; fails when the queue is empty.
next_scenario() {
  want=$(flock "$INTEROP_QUEUE.lock" sh -c 'q=$1; first=$(head -1 "$q"); [ -n "$first" ] || exit 1
    tail -n +2 "$q" >"$q.rest" && mv "$q.rest" "$q" && printf "%s\n" "$first"' sh "$INTEROP_QUEUE")
}

if [ "$JOBS" -gt 1 ] && [ -z "${INTEROP_QUEUE:-}" ]; then
  queue=$WORK/queue
  printf '%s\n' "${selected[@]}" >"$queue"; : >"$queue.lock"
  lanes=()
  for i in $(seq "$JOBS"); do
    mkdir -p "$WORK/lane$i"
    INTEROP_QUEUE=$queue NS_PREFIX=$NS_PREFIX$i WORK=$WORK/lane$i KEEP=1 JOBS=1 VIADUCT=$VIADUCT SS6_ROOT=$SS6_ROOT \
      "$0" >"$WORK/lane$i.out" 2> >(sed -u "s/^/[lane $i] /" >&2) &
    lanes+=($!)
    PIDS+=($!)
  done
  status=0
  for p in "${lanes[@]}"; do wait "$p" || status=1; done
  PIDS=()
  passed=0 failed=0
  for i in $(seq "$JOBS"); do
    grep -E '^(PASS|FAIL) ' "$WORK/lane$i.out"
    read -r p _ f _ < <(tail -1 "$WORK/lane$i.out")
    [[ "$p" =~ ^[0-9]+$ && "$f" =~ ^[0-9]+$ ]] || { echo "FAIL lane $i: no summary line"; p=0 f=1; }
    passed=$((passed + p)) failed=$((failed + f))
  done
  echo "$passed passed, $failed failed ($JOBS lanes)"
  [ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
  exit
fi

passed=0 failed=0
run_one() {
  local want=$1 base=${1%@strongswan6} spec="" s
  SS_ROOT=""
  if [ "$base" != "$want" ]; then
    [ -n "$SS6_ROOT" ] || { echo "FAIL $want: needs --strongswan6 ROOT"; failed=$((failed + 1)); return; }
    SS_ROOT=$SS6_ROOT
  elif [[ " ${SS6_ONLY[*]} " == *" $base "* ]]; then
    echo "FAIL $want: needs strongSwan 6 (run it as $base@strongswan6)"; failed=$((failed + 1)); return
  fi
  for s in "${SCENARIOS[@]}"; do [ "${s%%|*}" = "$base" ] && spec=$s; done
  if [ -z "$spec" ]; then echo "FAIL $want: unknown scenario (see --list)"; failed=$((failed + 1)); return; fi
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
  local left
  left=$(leftovers)
  if [ -n "$left" ]; then
    echo "FAIL $want: processes left running after the teardown: $(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-60; echo; done | tr '\n' ';')"
    failed=$((failed + 1))
    for p in $left; do kill -9 "$p" 2>/dev/null; done
  fi
}
if [ -n "${INTEROP_QUEUE:-}" ]; then
  while next_scenario; do run_one "$want"; done
else
  for want in "${selected[@]}"; do run_one "$want"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
