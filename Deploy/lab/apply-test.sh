#!/bin/sh
# `viaduct apply` on a running mesh, end to end, in the namespace lab (mesh-three-dc, BGP):
#  1. adding a gateway (dc4) with `viaduct lab up` of a four-DC file into the running lab: every
#     gateway gets `viaduct apply`; a ping between two old sites runs throughout and loses no
#     packet; no existing Child SA is replaced (SPIs unchanged); dc4 is reached on its BGP route;
#  2. removing it again: exactly its tunnels go, nothing else moves, no packet lost;
#  3. an invalid topology is refused with FILE:LINE:COLUMN and the running state is untouched;
#  4. --confirm: not confirmed rolls back, confirmed keeps; --no-wait then viaduct confirm/rollback;
#  5. kill -9 of a daemon in the middle of an apply, then a start with the new file: it converges,
#     with nothing of the removed tunnel left behind.
#   sudo Deploy/lab/apply-test.sh         VIADUCT=/path/to/viaduct KEEP=1 (leave the lab up)
# Prints PASS/FAIL per check and `N passed, M failed`; exit 1 on any failure.
set -u
cd "$(dirname "$0")/../.."
VIADUCT=${VIADUCT:-$(ls -t .build*/debug/viaduct 2>/dev/null | head -1)}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: Deploy/lab/apply-test.sh needs root (network namespaces)"; exit 0; }
[ -x "$VIADUCT" ] || { echo "FAIL: no viaduct binary (build first, or set VIADUCT=)"; exit 1; }
command -v bird >/dev/null || { echo "SKIP: bird2 is not installed"; exit 0; }
. Deploy/lab/checks.sh

NAME=mesh-three-dc
D=/run/viaduct-lab/$NAME
THREE=Topologies/$NAME.yaml
WORK=$(mktemp -d /tmp/vdt-apply.XXXXXX)
FOUR=$WORK/mesh-four-dc.yaml
# dc4 appended at the end of the gateways and of the mesh: existing tunnels keep their
# inside addresses (docs/topology.md).
sed -e 's/^  dc3: \(.*\)$/  dc3: \1\n  dc4: { address: 192.0.2.4, identity: dc4.example.net, certificate: pki\/dc4.pem, key: pki\/dc4.key, asn: 65004, networks: [198.18.4.0\/24] }/' \
    -e 's/mesh: \[dc1, dc2, dc3\]/mesh: [dc1, dc2, dc3, dc4]/' "$THREE" > "$FOUR"
# dc1..dc3 without dc3's tunnels to dc1, for the kill -9 case: dc1 drops dc3 and gains dc4.
TWO=$WORK/mesh-dc1-dc2-dc4.yaml
sed -e 's/mesh: \[dc1, dc2, dc3, dc4\]/mesh: [dc1, dc2, dc4]/' "$FOUR" > "$TWO"

spis() { # gateway: "peer:spi_in ..." of every Child SA, sorted
    "$VIADUCT" status --socket "$D/$1.sock" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(t["peer"] + ":" + c["spi_in"] for t in d["tunnels"] for c in t["child_sas"])))'
}
peers() { "$VIADUCT" status --socket "$D/$1.sock" --json | python3 -c '
import json, sys
print(" ".join(sorted(t["peer"] for t in json.load(sys.stdin)["tunnels"])))'; }
all_up() { "$VIADUCT" status --socket "$D/$1.sock" --json | python3 -c '
import json, sys
t = json.load(sys.stdin)["tunnels"]
sys.exit(0 if t and all(x["state"] == "established" and x["child_sas"] for x in t) else 1)'; }
links() { ip -n "vdl-$1" -br link | awk '{ print $1 }' | grep '^vd-' | sort | tr '\n' ' '; }
loss() { awk -F', ' '/packet loss/ { for (i = 1; i <= NF; i++) if ($i ~ /packet loss/) { split($i, a, "%"); print a[1] } }' "$1"; }

"$VIADUCT" lab down "$THREE" >/dev/null 2>&1
if "$VIADUCT" lab up "$THREE" --wait 40 >"$WORK/up.log" 2>&1 && all_up dc1 && all_up dc2 && all_up dc3; then
    pass "mesh-three-dc up"
else
    fail "mesh-three-dc up: $(tail -5 "$WORK/up.log")"; "$VIADUCT" lab down "$THREE" >/dev/null 2>&1; exit 1
fi
within 30 ip netns exec vdl-dc1-host ping -c 1 -W 1 198.18.2.10
before1=$(spis dc1); before2=$(spis dc2); before3=$(spis dc3)

# 1. Add dc4 under a running ping (20 per second for 15 s).
ip netns exec vdl-dc1-host ping -i 0.05 -c 300 -W 1 198.18.2.10 >"$WORK/ping-add.txt" 2>&1 &
ping_pid=$!
sleep 1
"$VIADUCT" lab up "$FOUR" --name "$NAME" --wait 40 >"$WORK/add.log" 2>&1
check "add dc4: lab up into the running lab applied to every gateway" grep -q "dc1: viaduct apply: 1 to add, 0 to remove, 0 to re-establish, 0 to update in place, 2 untouched" "$WORK/add.log"
for gw in dc1 dc2 dc3 dc4; do check "add dc4: $gw has every tunnel up" within 30 all_up "$gw"; done
check "add dc4: dc1's host reaches dc4's host on the BGP route" within 30 ip netns exec vdl-dc1-host ping -c 1 -W 1 198.18.4.10
wait "$ping_pid"
check "add dc4: no packet lost dc1->dc2 during the apply ($(loss "$WORK/ping-add.txt")% loss)" [ "$(loss "$WORK/ping-add.txt")" = 0 ]
check "add dc4: no existing Child SA replaced on dc1" [ "$(spis dc1 | tr ' ' '\n' | grep -v '^dc4:' | tr '\n' ' ' | sed 's/ $//')" = "$before1" ]
check "add dc4: no existing Child SA replaced on dc2" [ "$(spis dc2 | tr ' ' '\n' | grep -v '^dc4:' | tr '\n' ' ' | sed 's/ $//')" = "$before2" ]
check "add dc4: no existing Child SA replaced on dc3" [ "$(spis dc3 | tr ' ' '\n' | grep -v '^dc4:' | tr '\n' ' ' | sed 's/ $//')" = "$before3" ]

# 2. Remove dc4 under a running ping.
ip netns exec vdl-dc2-host ping -i 0.05 -c 200 -W 1 198.18.3.10 >"$WORK/ping-remove.txt" 2>&1 &
ping_pid=$!
sleep 1
"$VIADUCT" lab up "$THREE" --wait 40 >"$WORK/remove.log" 2>&1
wait "$ping_pid"
check "remove dc4: applied to every gateway" grep -q "dc2: viaduct apply: 0 to add, 1 to remove" "$WORK/remove.log"
check "remove dc4: no packet lost dc2->dc3 ($(loss "$WORK/ping-remove.txt")% loss)" [ "$(loss "$WORK/ping-remove.txt")" = 0 ]
for gw in dc1 dc2 dc3; do
    check "remove dc4: $gw has exactly its old tunnels ($(peers "$gw"))" [ "$(links "$gw")" = "$(echo vd-dc1 vd-dc2 vd-dc3 | tr ' ' '\n' | grep -v "vd-$gw" | tr '\n' ' ')" ]
done
check "remove dc4: its namespaces are gone" sh -c '! ip netns list | grep -q "^vdl-dc4"'
check "remove dc4: no Child SA replaced anywhere" [ "$(spis dc1)|$(spis dc2)|$(spis dc3)" = "$before1|$before2|$before3" ]

# 3. An invalid topology: refused with its position, nothing changes.
printf 'version: 1\ngateways:\n  dc1: { address: 192.0.2.999 }\n' >"$WORK/bad.yaml"
if "$VIADUCT" apply "$WORK/bad.yaml" --node dc1 --socket "$D/dc1.sock" >"$WORK/bad.out" 2>&1; then
    fail "invalid topology: apply succeeded"
else
    check "invalid topology: refused with FILE:LINE:COLUMN" grep -q "bad.yaml:3:19: error" "$WORK/bad.out"
fi
check "invalid topology: running state untouched" [ "$(spis dc1)" = "$before1" ]

# 4. --confirm.
cp "$FOUR" "$D/four.yaml"
if "$VIADUCT" apply "$D/four.yaml" --node dc1 --socket "$D/dc1.sock" --confirm 2 </dev/null >"$WORK/confirm.out" 2>&1; then
    fail "--confirm without an answer: exit status 0"
else
    check "--confirm without an answer: it was applied first" grep -q "applied to dc1" "$WORK/confirm.out"
fi
check "--confirm without an answer: dc1 is back to dc2 dc3" [ "$(peers dc1)" = "dc2 dc3" ]
check "--confirm without an answer: no vd-dc4 interface left" [ "$(links dc1)" = "vd-dc2 vd-dc3 " ]
check "--confirm without an answer: old Child SAs untouched" [ "$(spis dc1)" = "$before1" ]
(sleep 1; echo) | "$VIADUCT" apply "$D/four.yaml" --node dc1 --socket "$D/dc1.sock" --confirm 5 >"$WORK/confirm2.out" 2>&1
check "--confirm answered: kept" sh -c "grep -q confirmed '$WORK/confirm2.out'"
sleep 5
check "--confirm answered: dc4 still configured after the deadline" [ "$(peers dc1)" = "dc2 dc3 dc4" ]
"$VIADUCT" apply "$D/topology.yaml" --node dc1 --socket "$D/dc1.sock" >/dev/null 2>&1
check "plain apply back: dc1 is back to dc2 dc3" [ "$(peers dc1)" = "dc2 dc3" ]

# 4a. --confirm --no-wait, settled from another command (VyOS commit-confirm; Ansible): rollback
#     undoes it at once, confirm keeps it past the deadline, and a second confirm has nothing to do.
check "--no-wait: returns at once, applied" "$VIADUCT" apply "$D/four.yaml" --node dc1 --socket "$D/dc1.sock" --confirm 30 --no-wait
check "--no-wait: dc4 configured while unconfirmed" [ "$(peers dc1)" = "dc2 dc3 dc4" ]
check "rollback: exit 0" "$VIADUCT" rollback --socket "$D/dc1.sock"
check "rollback: dc1 is back to dc2 dc3 at once" [ "$(peers dc1)" = "dc2 dc3" ]
check "rollback: old Child SAs untouched" [ "$(spis dc1)" = "$before1" ]
check "rollback with nothing pending: exit 1" sh -c "! '$VIADUCT' rollback --socket '$D/dc1.sock' 2>/dev/null"
check "--no-wait again: applied" "$VIADUCT" apply "$D/four.yaml" --node dc1 --socket "$D/dc1.sock" --confirm 2 --no-wait
check "confirm: exit 0" "$VIADUCT" confirm --socket "$D/dc1.sock"
sleep 3
check "confirm: dc4 still configured after the deadline" [ "$(peers dc1)" = "dc2 dc3 dc4" ]
check "confirm with nothing pending: exit 1" sh -c "! '$VIADUCT' confirm --socket '$D/dc1.sock' 2>/dev/null"
"$VIADUCT" apply "$D/topology.yaml" --node dc1 --socket "$D/dc1.sock" >/dev/null 2>&1
check "plain apply back again: dc1 is back to dc2 dc3" [ "$(peers dc1)" = "dc2 dc3" ]

# 4b. systemctl reload = SIGHUP: the daemon re-reads the file it was started from and applies it.
#     The metrics endpoint follows: a removed tunnel's gauges go with it.
metrics() { ip netns exec "vdl-$1" python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9469/metrics", timeout=3).read().decode())'; }
peers_are() { [ "$(peers "$1")" = "$2" ]; }
tunnel_gauge() { metrics "$1" | grep "^viaduct_tunnel_up{" | grep "peer=\"$2\""; }
dc1_pid=$(awk '$1 == "pid" && $3 == "viaduct" && $4 == "dc1" { print $2 }' "$D/lab.state" | tail -1)
cp "$D/topology.yaml" "$WORK/three.yaml"
cp "$FOUR" "$D/topology.yaml"
kill -HUP "$dc1_pid"
check "SIGHUP: dc1 re-read its file and added dc4" within 10 peers_are dc1 "dc2 dc3 dc4"
check "SIGHUP: dc4's tunnel is on the metrics endpoint" within 10 tunnel_gauge dc1 dc4
cp "$WORK/three.yaml" "$D/topology.yaml"
kill -HUP "$dc1_pid"
check "SIGHUP: dc1 back to dc2 dc3" within 10 peers_are dc1 "dc2 dc3"
check "SIGHUP: the old tunnels kept their Child SAs" [ "$(spis dc1)" = "$before1" ]
check "metrics: dc4's tunnel gauge went with it" [ -z "$(tunnel_gauge dc1 dc4)" ]
check "metrics: dc2's tunnel is up" [ "$(tunnel_gauge dc1 dc2 | awk '{ print ($NF == 1) }')" = 1 ]
printf 'version: 1\n' >"$D/topology.yaml"
kill -HUP "$dc1_pid"
sleep 1
check "SIGHUP with an invalid file: refused" grep -q "reload refused" "$D/dc1.log"
check "SIGHUP with an invalid file: nothing changed" [ "$(spis dc1)" = "$before1" ]
cp "$WORK/three.yaml" "$D/topology.yaml"

# 5. kill -9 mid-apply. dc1's daemon is restarted with a test option that stalls an apply
#    half-way (after the removed tunnels are out, before the new ones are in), killed there,
#    and started again from the new file, as systemd would.
argv() { echo "ip netns exec vdl-dc1 $VIADUCT run $D/topology.yaml --node dc1 --control-socket $D/dc1.sock --retry-delay 3 --timestamps $*"; }
old=$(awk '$1 == "pid" && $3 == "viaduct" && $4 == "dc1" { print $2 }' "$D/lab.state" | tail -1)
[ -n "$old" ] && kill "$old" 2>/dev/null
within 10 sh -c "! kill -0 $old"
setsid $(argv --apply-pause 5) >>"$D/dc1.log" 2>&1 </dev/null &
pid=$!
echo "pid $pid viaduct dc1" >>"$D/lab.state"
check "kill -9 mid-apply: dc1 restarted with --apply-pause" within 30 all_up dc1
cp "$TWO" "$D/topology.yaml"
"$VIADUCT" apply "$D/topology.yaml" --node dc1 --socket "$D/dc1.sock" >"$WORK/mid.out" 2>&1 &
apply_pid=$!
within 10 grep -q "apply paused" "$D/dc1.log"
check "kill -9 mid-apply: dc3 already taken out when killed" [ "$(links dc1)" = "vd-dc2 " ]
kill -9 "$pid"; wait "$apply_pid" 2>/dev/null
# The killed daemon is this shell's child: reap it, so its sockets (UDP 500/4500, the control
# socket) and TUN devices are gone before the next one binds them, as under systemd.
wait "$pid" 2>/dev/null
setsid $(argv) >>"$D/dc1.log" 2>&1 </dev/null &
pid=$!
echo "pid $pid viaduct dc1" >>"$D/lab.state"
if within 15 "$VIADUCT" status --socket "$D/dc1.sock"; then pass "kill -9 mid-apply: restarted from the new file, dc1 answers"
else fail "kill -9 mid-apply: restarted from the new file, dc1 answers"; tail -20 "$D/dc1.log"; fi
check "kill -9 mid-apply: converged: peers dc2 dc4" [ "$(peers dc1)" = "dc2 dc4" ]
check "kill -9 mid-apply: converged: interfaces vd-dc2 vd-dc4 only" within 10 sh -c "[ \"\$(ip -n vdl-dc1 -br link | awk '{print \$1}' | grep '^vd-' | sort | tr '\n' ' ')\" = 'vd-dc2 vd-dc4 ' ]"
check "kill -9 mid-apply: no address of the dc3 tunnel left" sh -c "! ip -n vdl-dc1 addr | grep -q 'vd-dc3'"
check "kill -9 mid-apply: the dc2 tunnel is back" within 30 sh -c "$VIADUCT status --socket $D/dc1.sock --json | grep -q '\"peer\":\"dc2\".*\"state\":\"established\"'"
check "kill -9 mid-apply: dc1's host reaches dc2's host again" within 30 ip netns exec vdl-dc1-host ping -c 1 -W 1 198.18.2.10

if [ "${KEEP:-0}" != 1 ]; then
    "$VIADUCT" lab down "$THREE" >"$WORK/down.log" 2>&1
    # [/] keeps pgrep from matching this very shell's command line.
    check "lab down: no namespace or process left" sh -c '! ip netns list | grep -q "^vdl-" && ! pgrep -f "[/]run/viaduct-lab/'$NAME'" >/dev/null'
    rm -rf "$WORK"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
