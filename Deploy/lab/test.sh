#!/bin/sh
# The namespace lab end to end: for each example topology, `viaduct lab up` must bring every
# tunnel up, BGP sessions (BGP topologies) must reach Established over the tunnel interfaces,
# a host behind the first gateway must ping a host behind the others on the learned (or
# static) routes, and `viaduct lab down` must leave no namespace, process or work directory.
# On dci-two-site also: peer death and recovery, the metrics endpoint, systemd notify (needs jq,
# python3), and two other labs while it is up: mesh-three-dc (same gateway names) must be refused
# naming dci-two-site's file, ipv6-underlay (other names) must come up beside it, and taking
# either down must leave dci-two-site whole. The script holds a flock on descriptor 9 all along:
# no daemon or BIRD the lab starts may hold it.
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
. Deploy/lab/checks.sh
# A lock on descriptor 9, as a calling script would hold: `lab up` runs with it open.
lock=/tmp/vdl-test.$$.lock
exec 9>"$lock"
flock 9
no_fd_leak() { # dir: no process lab.state records holds the lock
    holders=""
    for p in $(awk '$1 == "pid" { print $2 }' "$1/lab.state"); do
        ls -l "/proc/$p/fd" 2>/dev/null | grep -qF "$lock" && holders="$holders $p:$(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-60)"
    done
    if [ -z "$holders" ]; then pass "$name: no daemon or BIRD holds the caller's descriptor 9 ($(awk '$1 == "pid"' "$1/lab.state" | wc -l) processes)"
    else fail "$name: the caller's descriptor 9 ($lock) is held by:$holders"; fi
}
lab_whole() { # dir: every process lab.state records runs in its gateway's namespace, and every gateway has its tunnels established
    awk '$1 == "pid" { print $2, $4 }' "$1/lab.state" | while read -r p g; do
        kill -0 "$p" 2>/dev/null && ip netns pids "vdl-$g" 2>/dev/null | grep -qx "$p" || exit 1
    done || return 1
    for g in $(awk '$1 == "pid" && $3 == "viaduct" { print $4 }' "$1/lab.state"); do
        "$VIADUCT" status --socket "$1/$g.sock" --json | jq -e '[.tunnels[] | select(.state != "established")] | length == 0' >/dev/null || return 1
    done
}
# --- Two labs (dci-two-site is up): one with the same gateway names is refused and changes
# nothing; one with other names comes up beside it; `lab down` of either touches only its own.
other_labs() { # dir file (of the running lab)
    d=$1; f=$2
    abs=$(realpath "$f")
    out=$("$VIADUCT" lab up Topologies/mesh-three-dc.yaml --wait 5 2>&1); rc=$?
    if [ "$rc" -ne 0 ] && echo "$out" | grep -qF "belong to the lab '$name' ($abs)" \
       && echo "$out" | grep -qF "viaduct lab down $abs"; then
        pass "$name: a second lab with the same gateway names is refused: $(echo "$out" | grep -F "belong to" | cut -c1-110)..."
    else fail "$name: lab up mesh-three-dc while $name is up: exit $rc: $(echo "$out" | tail -3 | tr '\n' ';')"; fi
    [ -e /run/viaduct-lab/mesh-three-dc ] && fail "$name: the refused lab left /run/viaduct-lab/mesh-three-dc"
    if lab_whole "$d" && "$VIADUCT" lab status "$f" | grep -q "established"; then pass "$name: still whole after the refusal"
    else fail "$name: after the refused lab up: $("$VIADUCT" lab status "$f" 2>&1 | head -5 | tr '\n' ';')"; fi
    "$VIADUCT" lab down Topologies/mesh-three-dc.yaml >/dev/null 2>&1
    if lab_whole "$d"; then pass "$name: lab down of the refused mesh-three-dc left $name whole"
    else fail "$name: lab down mesh-three-dc removed part of $name: $(ip netns list | tr '\n' ' ')"; fi
    if "$VIADUCT" lab up Topologies/ipv6-underlay.yaml --wait 30 >/tmp/vdl-up2.$$ 2>&1 && lab_whole /run/viaduct-lab/ipv6-underlay; then
        pass "$name: ipv6-underlay (other gateway names) is up beside it"
    else fail "$name: ipv6-underlay beside it: $(tail -3 /tmp/vdl-up2.$$ | tr '\n' ';')"; fi
    rm -f /tmp/vdl-up2.$$
    if "$VIADUCT" lab down Topologies/ipv6-underlay.yaml >/dev/null 2>&1 && ! ip netns list | grep -Eq '^vdl-(west|east|wan-ipv6-underlay)( |$)' \
       && lab_whole "$d"; then pass "$name: ipv6-underlay is down and $name still whole"
    else fail "$name: after lab down ipv6-underlay: $(ip netns list | tr '\n' ' ')"; fi
}

# Polls `cmd` for up to $1 seconds.

bfd_sessions() { # dir gateway: BIRD's BFD sessions (address, interface, state, ...)
    birdc -s "$1/$2.bird.ctl" show bfd sessions 2>/dev/null | awk '$1 ~ /^[0-9a-f.:]+$/ && NF >= 3'
}
bfd_up() { # dir gateway: one BFD session per BGP protocol, all Up
    n=$(birdc -s "$1/$2.bird.ctl" show protocols 2>/dev/null | awk '$2 == "BGP"' | wc -l)
    up=$(bfd_sessions "$1" "$2" | awk '$3 == "Up"' | wc -l)
    [ "$n" -gt 0 ] && [ "$up" -eq "$n" ]
}
bgp_established() { # dir gateway: every BGP protocol of the gateway is Established
    out=$(birdc -s "$1/$2.bird.ctl" show protocols 2>/dev/null | awk '$2 == "BGP"') || return 1
    [ -n "$out" ] && ! echo "$out" | grep -qv Established
}

# --- Peer death and recovery (dci-two-site): kill -9 one daemon; within seconds the survivor's
# status shows the tunnel down with the reason, its interface is down, BIRD has withdrawn the
# peer's networks and the metrics endpoint says down; the same command line started again (with
# NOTIFY_SOCKET, to check systemd readiness) brings everything back with no other command.
tunnel() { # dir gateway peer: the status JSON of the gateway's tunnel to peer
    "$VIADUCT" status --socket "$1/$2.sock" --json 2>/dev/null | jq -c --arg p "$3" '.tunnels[] | select(.peer == $p)'
}
tunnel_down_with_reason() {
    tunnel "$@" | jq -e '.state != "established" and (.reason // "" | length) > 0 and (.last_error.code == "dead-peer" or .last_error.code == "timeout")'
}
tunnel_up() { tunnel "$@" | jq -e '.state == "established" and (.child_sas | length) > 0'; }
link_down() { # namespace interface: administratively down, or gone
    out=$(ip -n "$1" -o link show dev "$2" 2>/dev/null) || return 0
    ! echo "$out" | grep -q '[<,]UP[,>]'
}
link_up() { ! link_down "$@"; }
bird_route_via() { # dir gateway address interface: BIRD's best route to address leaves on interface
    birdc -s "$1/$2.bird.ctl" show route for "$3" 2>/dev/null | grep -q "on $4"
}
no_bird_route_via() { ! bird_route_via "$@"; }
metrics() { # gateway: its /metrics, scraped inside its namespace
    ip netns exec "vdl-$1" python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9469/metrics", timeout=3).read().decode())'
}
metric_is() { # gateway series value (compared as numbers: gauges print 1.0)
    metrics "$1" | awk -v s="$2" -v v="$3" 'index($0, s " ") == 1 && $NF + 0 == v + 0 { found = 1 } END { exit !found }'
}
notified() { grep -qx "$2" "$1" 2>/dev/null; }
notify_pid=""; notify_log=""
peer_death() { # dir survivor victim
    d=$1; survivor=$2; victim=$3
    iface=$(tunnel "$d" "$survivor" "$victim" | jq -r .interface)
    target=$(ip -n "vdl-$victim-host" -4 -o addr show dev eth0 | awk '{ sub("/.*", "", $4); print $4; exit }')
    if metric_is "$survivor" "viaduct_tunnel_up{peer=\"$victim\",interface=\"$iface\"}" 1; then pass "$name: $survivor metrics: tunnel to $victim up"
    else fail "$name: $survivor metrics: $(metrics "$survivor" 2>&1 | grep -E '^viaduct_tunnel_up|Error|refused' | head -3 | tr '\n' ';')"; fi
    pid=$(awk -v g="$victim" '$1 == "pid" && $3 == "viaduct" && $4 == g { p = $2 } END { print p }' "$d/lab.state")
    cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline")
    start=$(date +%s)
    t0=$(date +%s%N)
    kill -9 "$pid"
    # BFD (300 ms x 3) finds the dead peer long before DPD does: BIRD withdraws its networks
    # within about a second, while the survivor's tunnel is still up (the victim's BIRD runs on).
    if within 5 no_bird_route_via "$d" "$survivor" "$target" "$iface"; then
        pass "$name: $victim killed: BFD took BGP down and $survivor BIRD withdrew $target in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    else fail "$name: $victim killed: $survivor BIRD still routes $target 5 s later: $(birdc -s "$d/$survivor.bird.ctl" show bfd sessions | tail -n +3 | tr '\n' ';')"; fi
    # Bound: the topology's DPD interval (10 s) + the lab's retransmissions (1 + 1.8 + 3.2 s) + slack.
    if within 30 tunnel_down_with_reason "$d" "$survivor" "$victim"; then
        pass "$name: $victim killed: $survivor shows the tunnel down after $(( $(date +%s) - start ))s: $(tunnel "$d" "$survivor" "$victim" | jq -r .reason)"
    else fail "$name: $victim killed: $survivor still shows $(tunnel "$d" "$survivor" "$victim" | jq -c '{state, reason}')"; fi
    if within 5 link_down "vdl-$survivor" "$iface"; then pass "$name: $survivor $iface is down"
    else fail "$name: $survivor $iface: $(ip -n "vdl-$survivor" -o link show dev "$iface" 2>&1)"; fi
    if metric_is "$survivor" "viaduct_tunnel_up{peer=\"$victim\",interface=\"$iface\"}" 0 \
       && metric_is "$survivor" "viaduct_tunnel_state{peer=\"$victim\",interface=\"$iface\",state=\"down\"}" 1; then
        pass "$name: $survivor metrics: tunnel to $victim down"
    else fail "$name: $survivor metrics: $(metrics "$survivor" 2>&1 | grep -E '^viaduct_tunnel_(up|state)' | tr '\n' ';')"; fi

    # Restart with the same argv, in its namespace, recorded so `lab down` stops it.
    notify_log=/tmp/vdl-notify.$$.log; sock=/tmp/vdl-notify.$$.sock
    rm -f "$notify_log" "$sock"
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(300)
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n"); f.flush()' "$sock" "$notify_log" 2>/dev/null &
    notify_pid=$!
    within 5 test -S "$sock"
    start=$(date +%s)
    NOTIFY_SOCKET=$sock setsid ip netns exec "vdl-$victim" $cmd >>"$d/$victim.log" 2>&1 </dev/null 9>&- &
    echo "pid $! viaduct $victim" >>"$d/lab.state"
    if within 10 notified "$notify_log" READY=1; then pass "$name: restarted $victim: systemd READY=1 ($(grep STATUS= "$notify_log" | head -1))"
    else fail "$name: restarted $victim: no READY=1 on NOTIFY_SOCKET: $(tr '\n' ' ' < "$notify_log" 2>/dev/null)"; fi
    if within 30 tunnel_up "$d" "$survivor" "$victim"; then pass "$name: $victim restarted: tunnel back after $(( $(date +%s) - start ))s"
    else fail "$name: $victim restarted: $survivor shows $(tunnel "$d" "$survivor" "$victim" | jq -c '{state, reason}')"; fi
    if within 5 link_up "vdl-$survivor" "$iface"; then pass "$name: $survivor $iface is up again"
    else fail "$name: $survivor $iface: $(ip -n "vdl-$survivor" -o link show dev "$iface" 2>&1)"; fi
    if within 40 bird_route_via "$d" "$survivor" "$target" "$iface"; then pass "$name: $survivor BIRD route to $target back after $(( $(date +%s) - start ))s"
    else fail "$name: $survivor BIRD has no route to $target on $iface"; fi
    first=$(echo "$gws" | head -1)
    if within 10 ip netns exec "vdl-$first-host" ping -c 1 -W 1 "$target"; then pass "$name: ping $target works again"
    else fail "$name: ping $target after the restart: no reply"; fi
    if within 5 metric_is "$survivor" "viaduct_tunnel_up{peer=\"$victim\",interface=\"$iface\"}" 1; then pass "$name: $survivor metrics: tunnel to $victim up again"
    else fail "$name: $survivor metrics after the restart: $(metrics "$survivor" 2>&1 | grep -E '^viaduct_tunnel_up' | tr '\n' ';')"; fi
    if within 10 notified "$notify_log" "STATUS=1 of 1 tunnel up"; then pass "$name: restarted $victim: systemd STATUS=1 of 1 tunnel up"
    else fail "$name: restarted $victim: STATUS lines: $(grep STATUS= "$notify_log" | tr '\n' ' ')"; fi
    # SIGHUP is systemd's reload: the daemon keeps running (and its tunnel stays up).
    newpid=$(awk -v g="$victim" '$1 == "pid" && $3 == "viaduct" && $4 == g { p = $2 } END { print p }' "$d/lab.state")
    kill -HUP "$newpid"
    sleep 1
    if kill -0 "$newpid" 2>/dev/null && tunnel_up "$d" "$survivor" "$victim" >/dev/null; then pass "$name: $victim survives SIGHUP (reload)"
    else fail "$name: $victim after SIGHUP: $(tail -3 "$d/$victim.log" | tr '\n' ';')"; fi
}
# A peer that restarts at once, before DPD could notice: its INITIAL_CONTACT must make the
# survivor drop the stale SA right away, and traffic must flow again with no command typed.
peer_restart() { # dir survivor victim
    d=$1; survivor=$2; victim=$3
    pid=$(awk -v g="$victim" '$1 == "pid" && $3 == "viaduct" && $4 == g { p = $2 } END { print p }' "$d/lab.state")
    cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline")
    target=$(ip -n "vdl-$survivor-host" -4 -o addr show dev eth0 | awk '{ sub("/.*", "", $4); print $4; exit }')
    start=$(date +%s)
    lines=$(wc -l < "$d/$survivor.log")
    kill -9 "$pid"
    within 5 sh -c "! kill -0 $pid"
    setsid ip netns exec "vdl-$victim" $cmd >>"$d/$victim.log" 2>&1 </dev/null 9>&- &
    echo "pid $! viaduct $victim" >>"$d/lab.state"
    if within 20 sh -c "tail -n +$((lines + 1)) '$d/$survivor.log' | grep -q 'dropped a stale IKE SA'" && within 10 tunnel_up "$d" "$survivor" "$victim"; then
        pass "$name: $victim restarted at once: $survivor took its INITIAL_CONTACT, tunnel up after $(( $(date +%s) - start ))s"
    else fail "$name: $victim restarted at once: $survivor shows $(tunnel "$d" "$survivor" "$victim" | jq -c '{state, reason}')"; fi
    if within 40 ip netns exec "vdl-$victim-host" ping -c 1 -W 1 "$target"; then pass "$name: $victim host -> $survivor host ($target) again after $(( $(date +%s) - start ))s"
    else fail "$name: $victim host -> $survivor host ($target): no reply after the restart"; fi
}
stopping_notified() { # after lab down: the restarted daemon said STOPPING=1 on SIGTERM
    [ -n "$notify_pid" ] || return 0
    if notified "$notify_log" STOPPING=1; then pass "$name: systemd STOPPING=1 at SIGTERM"
    else fail "$name: no STOPPING=1 at SIGTERM: $(tr '\n' ' ' < "$notify_log")"; fi
    kill "$notify_pid" 2>/dev/null; wait "$notify_pid" 2>/dev/null
    rm -f "$notify_log" "/tmp/vdl-notify.$$.sock"; notify_pid=""
}

for name in $TOPOLOGIES; do
    file=Topologies/$name.yaml
    dir=/run/viaduct-lab/$name
    if "$VIADUCT" lab up "$file" --wait 30 >/tmp/vdl-up.$$ 2>&1; then pass "$name: lab up"; else
        fail "$name: lab up: $(tail -5 /tmp/vdl-up.$$)"; rm -f /tmp/vdl-up.$$; continue
    fi
    rm -f /tmp/vdl-up.$$
    no_fd_leak "$dir"
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
            # bgp.bfd (default 300 ms x 3) between managed gateways: one BFD session per BGP neighbor, Up.
            if within 20 bfd_up "$dir" "$gw"; then pass "$name: $gw BFD sessions Up: $(bfd_sessions "$dir" "$gw" | awk '{ print $1 "@" $2 }' | tr '\n' ' ')"
            else fail "$name: $gw BFD: $(birdc -s "$dir/$gw.bird.ctl" show bfd sessions 2>&1 | tail -n +3 | tr '\n' ';')"; fi
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
    if [ "$name" = dci-two-site ]; then other_labs "$dir" "$file"; fi
    if [ "$name" = dci-two-site ] && [ "$(echo "$gws" | wc -l)" -ge 2 ]; then
        peer_death "$dir" "$(echo "$gws" | head -1)" "$(echo "$gws" | sed -n 2p)"
        peer_restart "$dir" "$(echo "$gws" | sed -n 2p)" "$(echo "$gws" | head -1)"
    fi
    if [ -n "${KEEP:-}" ] && [ "$name" = "$(echo $TOPOLOGIES | awk '{ print $NF }')" ]; then
        [ -n "$notify_pid" ] && kill "$notify_pid" 2>/dev/null
        echo "KEEP: lab $name left up in $dir"; continue
    fi
    pids=$(awk '$1 == "pid" { print $2 }' "$dir/lab.state" 2>/dev/null)
    if "$VIADUCT" lab down "$file" >/dev/null 2>&1; then pass "$name: lab down"; else fail "$name: lab down"; fi
    stopping_notified
    left=""
    for ns in $(ip netns list | awk '{ print $1 }' | grep '^vdl-'); do left="$left netns:$ns"; done
    for p in $pids; do [ -e "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && left="$left pid:$p"; done
    [ -e "$dir" ] && left="$left dir:$dir"
    if [ -z "$left" ]; then pass "$name: nothing left behind"; else fail "$name: left behind:$left"; fi
done
exec 9>&-
rm -f "$lock"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
