#!/bin/sh
# The namespace lab end to end: for each example topology, `viaduct lab up` must bring every
# tunnel up, BGP sessions (BGP topologies) must reach Established over the tunnel interfaces,
# a host behind the first gateway must ping a host behind the others on the learned (or
# static) routes, and `viaduct lab down` must leave no namespace, process or work directory.
#   sudo Deploy/lab/test.sh                       # dci-two-site, mesh-three-dc, hub-branches
#   sudo Deploy/lab/test.sh dci-two-site          # one topology
#   VIADUCT=/path/to/viaduct KEEP=1 (leave the lab up after the last topology)
# Prints PASS/FAIL per check and a last line `N passed, M failed`; exit 1 on any failure.
set -u
cd "$(dirname "$0")/../.."
VIADUCT=${VIADUCT:-$(ls -t .build*/debug/viaduct 2>/dev/null | head -1)}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: Deploy/lab/test.sh needs root (network namespaces)"; exit 0; }
[ -x "$VIADUCT" ] || { echo "FAIL: no viaduct binary (build first, or set VIADUCT=)"; exit 1; }
command -v bird >/dev/null || { echo "SKIP: bird2 is not installed (apt-get install bird2)"; exit 0; }
TOPOLOGIES=${*:-dci-two-site mesh-three-dc hub-branches}
passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

# Polls `cmd` for up to $1 seconds.
within() { t=$1; shift; i=0; while [ "$i" -lt $((t * 4)) ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; i=$((i + 1)); done; return 1; }

bgp_established() { # dir gateway: every BGP protocol of the gateway is Established
    out=$(birdc -s "$1/$2.bird.ctl" show protocols 2>/dev/null | awk '$2 == "BGP"') || return 1
    [ -n "$out" ] && ! echo "$out" | grep -qv Established
}

for name in $TOPOLOGIES; do
    file=Topologies/$name.yaml
    dir=/run/viaduct-lab/$name
    if "$VIADUCT" lab up "$file" --wait 30 >/tmp/vdl-up.$$ 2>&1; then pass "$name: lab up"; else
        fail "$name: lab up: $(tail -5 /tmp/vdl-up.$$)"; rm -f /tmp/vdl-up.$$; continue
    fi
    rm -f /tmp/vdl-up.$$
    gws=$(awk '$1 == "pid" && $3 == "viaduct" { print $4 }' "$dir/lab.state")
    for gw in $gws; do
        if "$VIADUCT" status --socket "$dir/$gw.sock" --json | grep -q '"state":"established"' \
           && ! "$VIADUCT" status --socket "$dir/$gw.sock" --json | grep -Eq '"state":"(down|connecting)"'; then
            pass "$name: $gw tunnels established"
        else
            fail "$name: $gw tunnels: $("$VIADUCT" status --socket "$dir/$gw.sock" 2>&1 | grep why | head -3)"
        fi
        if [ -S "$dir/$gw.bird.ctl" ]; then
            if within 40 bgp_established "$dir" "$gw"; then pass "$name: $gw BGP Established"
            else fail "$name: $gw BGP: $(birdc -s "$dir/$gw.bird.ctl" show protocols | awk '$2 == "BGP"' | tr '\n' ';')"; fi
        fi
    done
    first=$(echo "$gws" | head -1)
    for gw in $(echo "$gws" | tail -n +2); do
        target=$(ip -n "vdl-$gw-host" -4 -o addr show dev eth0 | awk '{ sub("/.*", "", $4); print $4; exit }')
        if within 20 ip netns exec "vdl-$first-host" ping -c 1 -W 1 "$target"; then
            pass "$name: $first host -> $gw host ($target)"
        else
            fail "$name: $first host -> $gw host ($target): no reply; route: $(ip -n "vdl-$first" route get "$target" 2>&1 | head -1)"
        fi
    done
    if [ -n "${KEEP:-}" ] && [ "$name" = "$(echo $TOPOLOGIES | awk '{ print $NF }')" ]; then
        echo "KEEP: lab $name left up in $dir"; continue
    fi
    pids=$(awk '$1 == "pid" { print $2 }' "$dir/lab.state" 2>/dev/null)
    if "$VIADUCT" lab down "$file" >/dev/null 2>&1; then pass "$name: lab down"; else fail "$name: lab down"; fi
    left=""
    for ns in $(ip netns list | awk '{ print $1 }' | grep '^vdl-'); do left="$left netns:$ns"; done
    for p in $pids; do [ -e "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && left="$left pid:$p"; done
    [ -e "$dir" ] && left="$left dir:$dir"
    if [ -z "$left" ]; then pass "$name: nothing left behind"; else fail "$name: left behind:$left"; fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
