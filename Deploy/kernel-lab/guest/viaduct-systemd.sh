#!/bin/bash
# viaduct-systemd.sh: the shipped unit, Deploy/systemd/viaduct@.service, under a real systemd (PID 1).
# Run by `vm-run -s`. gw-a is `viaduct@gw-a.service`: the unit as shipped, running the host-built
# VIADUCT installed at /usr/local/bin/viaduct as Deploy/install.sh would, every hardening option
# as shipped, plus a drop-in with NetworkNamespacePath= to put it in gw-a's namespace. gw-b is a plain
# `viaduct run` in its namespace, as in viaduct-pair.sh (same underlay and helpers, checks.sh).
# The topology is /etc/viaduct/topology.yaml, credentials from `viaduct pki init` in
# /etc/viaduct/pki; gw-a also has a tunnel to an unmanaged peer (gw-c, later gw-d) to change.
#
# Checks: `systemctl start` returns once READY=1 came (active (running), the control socket and
# the tunnel interfaces exist, STATUS text); the tunnel comes up (status --json) and carries
# traffic; the hardening is in effect (own /tmp, no /root, /dev/net/tun present in the private
# /dev); `systemctl reload` after editing topology.yaml applies it (gw-c -> gw-d) without
# touching the gw-a <-> gw-b SAs or the daemon's PID; `kill -9` of the main PID is restarted by
# systemd (NRestarts + 1) and the tunnel comes back; `viaduct apply` with candidates in /tmp and
# in /root (credentials by absolute path under /etc/viaduct) is applied, one whose credentials
# exist only in /tmp is refused with the reason; journald gets the priorities; `systemctl stop`
# removes the SAs. `systemd-analyze security` is printed (informational).
#
# usage (in the VM only: it installs units and writes /etc/viaduct):
#   Deploy/kernel-lab/vm-run -s [-e VIADUCT=path/to/viaduct] Deploy/kernel-lab/guest/viaduct-systemd.sh
# VIADUCT defaults to .build/debug/viaduct (relative to the directory vm-run started in).
# Prints one PASS or FAIL line per check; exits 1 if any check failed, 2 on bad usage.
set -u -o pipefail

VIADUCT=$(realpath -e "${VIADUCT:-.build/debug/viaduct}" 2>/dev/null) || { echo "FAIL no viaduct binary (set VIADUCT)"; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
unit_src=$here/../../systemd/viaduct@.service
modules_src=$here/../../systemd/viaduct-modules.conf
ns_a=vdt-sd-a ns_b=vdt-sd-b
unit=viaduct@gw-a.service
sock=/run/viaduct/gw-a.sock
kind=systemd
run_flags=()
pids=()
work=$(mktemp -d /tmp/vdt-sd.XXXXXX)

. "$here/checks.sh"  # pass, fail, check, in_ns, failures; underlay, start_daemon, ...

cleanup() {
    systemctl stop "$unit" 2>/dev/null
    stop_daemons
    ip netns del "$ns_a" 2>/dev/null
    ip netns del "$ns_b" 2>/dev/null
    return 0
}
save() {
    journalctl -u "$unit" --no-pager -o short-monotonic >"$work/journal-gw-a.txt" 2>&1
    [ -n "${KLAB_OUT:-}" ] && cp -r "$work" "$KLAB_OUT/" 2>/dev/null
    rm -rf "$work"
}
trap 'cleanup; save' EXIT

[ "$(id -u)" = 0 ] || { echo "FAIL viaduct-systemd.sh must run as root"; exit 2; }
[ "$(cat /proc/1/comm)" = systemd ] || { echo "FAIL PID 1 is not systemd (run it with vm-run -s)"; exit 2; }
[ "${VIADUCT_KERNEL_LAB:-}" = 1 ] || { echo "FAIL viaduct-systemd.sh changes /etc: run it in the kernel lab VM"; exit 2; }

prop() { systemctl show -p "$1" --value "$unit"; }
status_json() { "$VIADUCT" status --json --socket "$sock"; }
tunnel() {  # tunnel PEER: "STATE CHILD-SAS" of gw-a's tunnel to PEER, from status --json
    status_json | jq -r --arg p "$1" '.tunnels[] | select(.peer == $p) | "\(.state) \(.child_sas | length)"'
}
wait_tunnel_up() {  # up to 120 s (ECDH and signatures under TCG)
    local _ t
    for _ in $(seq 240); do
        t=$(tunnel gw-b 2>/dev/null)
        [ "$t" = "established 1" ] && return 0
        sleep 0.5
    done
    echo "gw-b tunnel: '$t'"; status_json 2>&1 | jq -c '.tunnels[] | {peer, state, reason}' 2>&1
    return 1
}
wait_links() {  # wait_links EXPECTED: gw-a's vd- interfaces become EXPECTED within 30 s
    local _
    for _ in $(seq 60); do [ "$(vd_links "$ns_a")" = "$1" ] && return 0; sleep 0.5; done
    echo "interfaces: '$(vd_links "$ns_a")', expected '$1'"
    return 1
}
peers() { status_json | jq -r '[.tunnels[].peer] | join(" ")'; }
fresh_esp() {  # fresh_esp STALE-SPI...: exactly two ESP states on gw-a, none of them stale
    local list s; list=$(esp_spis "$ns_a")
    [ "$(wc -w <<<"$list")" = 2 ] || { echo "states: $list"; return 1; }
    for s in "$@"; do grep -qw "$s" <<<"$list" && { echo "stale $s still there: $list"; return 1; }; done
    return 0
}
ping_sites() { in_ns "$ns_a" ping -c 3 -i 0.2 -w 30 -I 198.18.1.1 198.18.2.1; }
in_daemon() { nsenter -t "$(prop MainPID)" -m "$@"; }  # in the daemon's mount namespace

start=$SECONDS
echo "== $(systemctl --version | head -n 1), kernel $(uname -r), viaduct $VIADUCT"

# ---------------------------------------------------------------- setup
check "$kind: underlay and site networks" underlay || exit 1
mkdir -p /etc/viaduct
write_apply_topology /etc/viaduct/topology.yaml gw-c
cp /etc/viaduct/topology.yaml "$work/topology-c.yaml"
write_apply_topology "$work/topology-d.yaml" gw-d
check "$kind: viaduct pki init in /etc/viaduct (relative paths)" \
    eval "cd /etc/viaduct && '$VIADUCT' pki init topology.yaml" || exit 1

# Installed as Deploy/install.sh installs them: the host-built binary at the unit's own path
# (/usr/local/bin; a checkout under /tmp or /root is hidden from the service by PrivateTmp and
# ProtectHome, as a user's build would be on a gateway) and the unit exactly as shipped.
install -D -m 0755 "$VIADUCT" /usr/local/bin/viaduct
cp "$unit_src" /etc/systemd/system/viaduct@.service
check "$kind: the shipped unit, unchanged, runs /usr/local/bin/viaduct (the host-built binary)" eval "
    cmp -s '$unit_src' /etc/systemd/system/viaduct@.service &&
    [ \"\$(grep -c '^ExecStart\\(Pre\\)\\?=/usr/local/bin/viaduct ' /etc/systemd/system/viaduct@.service)\" = 2 ] &&
    cmp -s '$VIADUCT' /usr/local/bin/viaduct" || exit 1
mkdir -p "/etc/systemd/system/$unit.d"
printf '%s\n' '# the kernel lab: gw-a lives in its namespace' '[Service]' \
    "NetworkNamespacePath=/run/netns/$ns_a" >"/etc/systemd/system/$unit.d/klab-netns.conf"
# As Deploy/install.sh installs it: the service itself may not load modules (ProtectKernelModules).
cp "$modules_src" /etc/modules-load.d/viaduct.conf
check "$kind: modules-load.d/viaduct.conf loaded (esp4, xfrm_interface)" eval "
    systemctl restart systemd-modules-load.service &&
    grep -E '^esp4 ' /proc/modules >/dev/null && grep -E '^xfrm_interface ' /proc/modules >/dev/null"
check "$kind: systemctl daemon-reload" systemctl daemon-reload || exit 1

# ---------------------------------------------------------------- start: READY=1
t0=$EPOCHREALTIME
check "$kind: systemctl start $unit" systemctl start "$unit" || {
    systemctl status --no-pager "$unit" | sed 's/^/    /'; journalctl -u "$unit" --no-pager | tail -n 20 | sed 's/^/    /'; exit 1; }
t1=$EPOCHREALTIME
echo "    systemctl start returned after $(( (${t1/[.,]/} - ${t0/[.,]/}) / 1000 )) ms"
check "$kind: Type=notify, and active (running) when start returned" eval "
    [ \"\$(prop Type)\" = notify ] && [ \"\$(prop ActiveState)/\$(prop SubState)\" = active/running ] ||
    { systemctl show -p Type -p ActiveState -p SubState '$unit'; false; }"
check "$kind: control socket $sock there when start returned (READY=1 after the sockets opened)" test -S "$sock"
check "$kind: tunnel interfaces there when start returned (kernel state reconciled before READY=1)" \
    eval "[ \"\$(vd_links $ns_a)\" = 'vd-gw-b vd-gw-c ' ] || { vd_links $ns_a; false; }"
check "$kind: StatusText '$(prop StatusText)'" eval "prop StatusText | grep -E '^[0-9]+ of 2 tunnels up$'"
topology=/etc/viaduct/topology.yaml start_daemon "$work" gw-b "$ns_b" || exit 1
check "$kind: tunnel gw-a <-> gw-b established (status --json: 1 child SA)" wait_tunnel_up || exit 1
check "$kind: StatusText '1 of 2 tunnels up'" eval "[ \"\$(prop StatusText)\" = '1 of 2 tunnels up' ] || { prop StatusText; false; }"
check "$kind: gw-a's Child SA is two kernel states in its namespace" eval "[ \"\$(esp_spis $ns_a | wc -w)\" = 2 ] || { ip -n $ns_a xfrm state; false; }"
check "$kind: ping site 198.18.1.1 -> 198.18.2.1" ping_sites

# ---------------------------------------------------------------- the hardening is in effect
touch /tmp/vdt-sd-host-tmp /root/vdt-sd-home
check "$kind: PrivateTmp: the daemon does not see the host's /tmp" eval "! in_daemon test -e /tmp/vdt-sd-host-tmp"
check "$kind: ProtectHome: the daemon sees nothing in /root" eval "[ -z \"\$(in_daemon ls -A /root 2>/dev/null)\" ]"
check "$kind: ProtectSystem=strict: /usr is read-only for the daemon" eval "! in_daemon touch /usr/vdt-sd-probe 2>/dev/null"
# Opened as the daemon would: from the unit's cgroup (DeviceAllow=, the device policy) and its
# mount namespace (PrivateDevices' /dev). The shell joins the cgroup, then nsenter opens the node.
tun_open() {
    local cg; cg=/sys/fs/cgroup$(prop ControlGroup)
    [ -d "$cg" ] || { echo "no cgroup $cg"; return 1; }
    sh -c 'echo $$ > "$1/cgroup.procs" && exec nsenter -t "$2" -m sh -c "ls -l /dev/net/tun && exec 3<>/dev/net/tun"' \
        sh "$cg" "$(prop MainPID)"
}
check "$kind: PrivateDevices + DeviceAllow: /dev/net/tun opens in the daemon's cgroup and /dev" tun_open
check "$kind: PrivateDevices: no disk in the daemon's /dev" eval "[ -z \"\$(in_daemon ls /dev | grep -E '^(sd|vd|nvme|mem$|kmsg$)')\" ] || { in_daemon ls /dev; false; }"
check "$kind: capabilities: CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only" eval "
    caps=\$(awk '/^CapEff/ { print \$2 }' /proc/\$(prop MainPID)/status); [ \"\$caps\" = 0000000000001400 ] || { echo \"CapEff \$caps\"; false; }"

# ---------------------------------------------------------------- systemctl reload
pid=$(prop MainPID) spis=$(esp_spis "$ns_a") spis_b=$(esp_spis "$ns_b")
cp "$work/topology-d.yaml" /etc/viaduct/topology.yaml
check "$kind: systemctl reload after topology.yaml changed gw-c to gw-d" systemctl reload "$unit"
check "$kind: reload applied: interfaces vd-gw-b vd-gw-d" wait_links 'vd-gw-b vd-gw-d '
check "$kind: reload applied: status --json tunnels gw-b gw-d" eval "[ \"\$(peers)\" = 'gw-b gw-d' ] || { peers; false; }"
check "$kind: reload kept the daemon (MainPID $pid) and the gw-a <-> gw-b SAs (same SPIs both ends)" eval "
    [ \"\$(prop MainPID)\" = $pid ] && [ \"\$(esp_spis $ns_a)\" = '$spis' ] && [ \"\$(esp_spis $ns_b)\" = '$spis_b' ]"
check "$kind: active (running) after the reload" eval "[ \"\$(prop ActiveState)/\$(prop SubState)\" = active/running ]"

# ---------------------------------------------------------------- kill -9: Restart=on-failure
restarts=$(prop NRestarts) pid=$(prop MainPID) stale=$(esp_spis "$ns_a")
kill -KILL "$pid"
restarted() {
    local _ p
    for _ in $(seq 120); do
        p=$(prop MainPID)
        [ "$p" != 0 ] && [ "$p" != "$pid" ] && [ "$(prop ActiveState)/$(prop SubState)" = active/running ] &&
            [ "$(prop NRestarts)" = $((restarts + 1)) ] && return 0
        sleep 0.5
    done
    systemctl show -p MainPID -p ActiveState -p SubState -p NRestarts -p Result "$unit"
    return 1
}
check "$kind: kill -9 $pid: systemd restarted it (NRestarts $restarts -> $((restarts + 1)), active (running))" restarted
check "$kind: after the restart: tunnel gw-a <-> gw-b established again" wait_tunnel_up
check "$kind: after the restart: interfaces vd-gw-b vd-gw-d (from topology.yaml)" wait_links 'vd-gw-b vd-gw-d '
# shellcheck disable=SC2086
check "$kind: after the restart: two SAs on gw-a, none of the killed run's" fresh_esp $stale
check "$kind: after the restart: ping site 198.18.1.1 -> 198.18.2.1" ping_sites

# ---------------------------------------------------------------- viaduct apply from /tmp and /root
apply() { "$VIADUCT" apply "$1" --node gw-a --socket "$sock"; }
sed 's#pki/#/etc/viaduct/pki/#g' "$work/topology-c.yaml" >/tmp/candidate.yaml
sed 's#pki/#/etc/viaduct/pki/#g' "$work/topology-d.yaml" >/root/candidate.yaml
spis=$(esp_spis "$ns_a")
check "$kind: viaduct apply /tmp/candidate.yaml (gw-d -> gw-c; the daemon has its own /tmp)" apply /tmp/candidate.yaml
check "$kind: /tmp candidate applied: interfaces vd-gw-b vd-gw-c" wait_links 'vd-gw-b vd-gw-c '
check "$kind: viaduct apply /root/candidate.yaml (gw-c -> gw-d; the daemon sees no /root)" apply /root/candidate.yaml
check "$kind: /root candidate applied: interfaces vd-gw-b vd-gw-d" wait_links 'vd-gw-b vd-gw-d '
check "$kind: both applies left the gw-a <-> gw-b SAs alone (same SPIs)" eval "[ \"\$(esp_spis $ns_a)\" = '$spis' ]"
mkdir -p "$work/only-tmp"
cp -r /etc/viaduct/pki "$work/only-tmp/"
cp "$work/topology-c.yaml" "$work/only-tmp/candidate.yaml"
out=$(apply "$work/only-tmp/candidate.yaml" 2>&1); rc=$?
if ((rc != 0)) && grep -F "$work/only-tmp/pki/" <<<"$out" >/dev/null && grep -F "PrivateTmp" <<<"$out" >/dev/null; then
    pass "$kind: a candidate whose credentials exist only in /tmp is refused, naming them and why"
else
    fail "$kind: a candidate whose credentials exist only in /tmp (status $rc):"; sed 's/^/    /' <<<"$out"
fi
check "$kind: the refused candidate changed nothing: interfaces vd-gw-b vd-gw-d" wait_links 'vd-gw-b vd-gw-d '

# ---------------------------------------------------------------- journald, exposure, stop
if [ "$(systemctl is-active systemd-journald.service)" = active ]; then
    check "$kind: journalctl -p info shows 'viaduct starting'" \
        eval "journalctl -u $unit -p info -o cat --no-pager | grep 'viaduct starting' >/dev/null"
    check "$kind: journalctl -p warning does not (the daemon's <N> priorities reach journald)" \
        eval "! journalctl -u $unit -p warning -o cat --no-pager | grep 'viaduct starting'"
    echo "    warnings and worse in the journal of $unit: $(journalctl -u "$unit" -p warning -o cat --no-pager | grep -vc '^-- ')"
else
    fail "$kind: systemd-journald is not running"
fi
echo "    systemd-analyze security: $(systemd-analyze security --no-pager "$unit" 2>&1 | tail -n 1)"
check "$kind: systemctl stop $unit: inactive, result success" eval "
    systemctl stop $unit && [ \"\$(prop ActiveState)/\$(prop Result)\" = inactive/success ] ||
    { systemctl show -p ActiveState -p Result -p NRestarts $unit; false; }"
check "$kind: the stopped daemon removed its SAs" eval "[ -z \"\$(esp_spis $ns_a)\" ] || { ip -n $ns_a xfrm state; false; }"
stop_daemons

if ((failures)); then
    echo "FAIL viaduct-systemd: $failures check(s) failed ($((SECONDS - start)) s)"
    exit 1
fi
echo "PASS viaduct-systemd: all checks passed ($((SECONDS - start)) s)"
