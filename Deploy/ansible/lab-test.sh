#!/bin/sh
# The Ansible role against the namespace lab's gateways (mesh-three-dc): the connection is
# local (the lab's daemons answer on their control sockets under /run/viaduct-lab), the
# package is not installed (Scripts/package-install-test proves that), everything else is
# the role as a fleet runs it, `serial: 1`:
#  1. an MTU change rolls out to dc1, dc2, dc3, each applied with --confirm, checked, confirmed;
#  2. a change dc2 cannot take (its candidate expects the wrong identity from dc1, so the
#     re-established tunnel fails authentication): dc1 takes it, dc2 is rolled back, the play
#     stops, and dc3 is never touched; dc2's tunnels come back.
#   sudo Deploy/ansible/lab-test.sh      VIADUCT=/path/to/viaduct
# Prints PASS/FAIL per check and `N passed, M failed`; exit 1 on any failure.
set -u
cd "$(dirname "$0")/../.."
VIADUCT=${VIADUCT:-$(ls -t .build*/debug/viaduct 2>/dev/null | head -1)}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: Deploy/ansible/lab-test.sh needs root (network namespaces)"; exit 0; }
[ -x "$VIADUCT" ] || { echo "FAIL: no viaduct binary (build first, or set VIADUCT=)"; exit 1; }
command -v ansible-playbook >/dev/null || { echo "FAIL: ansible-playbook is missing (Scripts/deps installs ansible-core)"; exit 1; }
VIADUCT=$(realpath "$VIADUCT")
. Deploy/lab/checks.sh

NAME=mesh-three-dc
D=/run/viaduct-lab/$NAME
TOPOLOGY=Topologies/$NAME.yaml
WORK=$(mktemp -d /tmp/vdt-ansible.XXXXXX)
mtus() { for p in $2; do ip -n "vdl-$1" -o link show "vd-$p" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; done | sort -u | tr '\n' ' '; }
up() { "$VIADUCT" status --socket "$D/$1.sock" --check >/dev/null 2>&1; }
applies() { grep -c "applying plan" "$D/$1.log"; }

# The topologies the fleet gets: an MTU change, then one whose dc1 identity is wrong (for dc2 only).
sed 's/^defaults:$/defaults:\n  mtu: 1300/' "$TOPOLOGY" >"$WORK/mtu1300.yaml"
sed 's/^defaults:$/defaults:\n  mtu: 1280/' "$TOPOLOGY" >"$WORK/mtu1280.yaml"
sed 's/identity: dc1.example.net/identity: impostor.example.net/' "$WORK/mtu1280.yaml" >"$WORK/mtu1280-bad-dc2.yaml"
cat >"$WORK/inventory.ini" <<INV
[viaduct_gateways]
dc1
dc2
dc3

[viaduct_gateways:vars]
ansible_connection=local
ansible_python_interpreter=/usr/bin/python3
viaduct_binary=$VIADUCT
viaduct_config_dir=$D
viaduct_manage_service=false
viaduct_health_seconds=16
INV
mkdir -p "$WORK/host_vars"
for n in dc1 dc2 dc3; do printf 'viaduct_socket: %s/%s.sock\n' "$D" "$n" >"$WORK/host_vars/$n.yml"; done
mkdir -p "$WORK/group_vars"
play() {  # play TOPOLOGY LOG: the fleet's topology as a group var, so a host var can override it
    printf 'viaduct_topology: %s\n' "$1" >"$WORK/group_vars/viaduct_gateways.yml"
    ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False \
        ansible-playbook -i "$WORK/inventory.ini" Deploy/ansible/site.yml -e ansible_become=false >"$2" 2>&1
}

"$VIADUCT" lab down "$TOPOLOGY" >/dev/null 2>&1
if "$VIADUCT" lab up "$TOPOLOGY" --wait 40 >"$WORK/up.log" 2>&1 && up dc1 && up dc2 && up dc3; then
    pass "mesh-three-dc up"
else
    fail "mesh-three-dc up: $(tail -5 "$WORK/up.log")"; "$VIADUCT" lab down "$TOPOLOGY" >/dev/null 2>&1; exit 1
fi
# The example topology leaves the MTU to `mtu: auto` (the path MTU minus the ESP overhead): one
# value on every tunnel, and not the 1300 the rollout is about to set.
auto=$(mtus dc1 'dc2 dc3' | tr -d ' ')
check "MTU before: mtu: auto gives $auto on every tunnel" \
    sh -c "[ '$(mtus dc1 'dc2 dc3')$(mtus dc2 'dc1 dc3')$(mtus dc3 'dc1 dc2')' = '$auto $auto $auto ' ] && [ '$auto' -gt 1300 ]"

# 1. The MTU change, gateway by gateway.
if play "$WORK/mtu1300.yaml" "$WORK/play1.log"; then pass "rollout: the play succeeded"; else fail "rollout: the play failed: $(tail -20 "$WORK/play1.log")"; fi
check "rollout: dc1, dc2, dc3 all at MTU 1300" [ "$(mtus dc1 'dc2 dc3')$(mtus dc2 'dc1 dc3')$(mtus dc3 'dc1 dc2')" = "1300 1300 1300 " ]
check "rollout: gateway by gateway (serial), each confirmed" sh -c "[ \$(grep -A1 'TASK \[viaduct : Keep it\]' '$WORK/play1.log' | grep -c '^changed: \[dc[123]\]') -eq 3 ]"
check "rollout: nothing left awaiting confirmation" sh -c "! '$VIADUCT' confirm --socket '$D/dc1.sock' 2>/dev/null && ! '$VIADUCT' confirm --socket '$D/dc3.sock' 2>/dev/null"
check "rollout: the confirmed file is the one the lab starts from" cmp -s "$WORK/mtu1300.yaml" "$D/topology.yaml"
check "rollout: every tunnel up" sh -c "'$VIADUCT' status --socket '$D/dc1.sock' --check && '$VIADUCT' status --socket '$D/dc2.sock' --check && '$VIADUCT' status --socket '$D/dc3.sock' --check" 
play "$WORK/mtu1300.yaml" "$WORK/play1b.log"
check "rollout: run again, nothing applied or confirmed" sh -c "grep -q 'dc3 *: ok=' '$WORK/play1b.log' && ! grep -A1 'TASK \\[viaduct : Apply\\|TASK \\[viaduct : Keep it\\]' '$WORK/play1b.log' | grep -q '^changed'"

# 2. A change dc2 cannot take: the play stops at dc2, dc2 is rolled back, dc3 is not touched.
printf 'viaduct_topology: %s\n' "$WORK/mtu1280-bad-dc2.yaml" >>"$WORK/host_vars/dc2.yml"
dc3_applies=$(applies dc3)
if play "$WORK/mtu1280.yaml" "$WORK/play2.log"; then fail "injected failure: the play succeeded"; else pass "injected failure: the play failed"; fi
check "injected failure: it stopped at dc2 with the reason" grep -q "dc2 did not take the change" "$WORK/play2.log"
check "injected failure: dc1 took the change (MTU 1280)" [ "$(mtus dc1 'dc2 dc3')" = "1280 " ]
check "injected failure: dc2 rolled back (MTU 1300)" [ "$(mtus dc2 'dc1 dc3')" = "1300 " ]
check "injected failure: dc3 never touched (no apply, MTU 1300)" sh -c "[ \$(grep -c 'applying plan' '$D/dc3.log') -eq $dc3_applies ] && [ '$(mtus dc3 'dc1 dc2')' = '1300 ' ]"
check "injected failure: dc3 not even contacted by the play" sh -c "! grep -q 'ok: \[dc3\]\|changed: \[dc3\]' '$WORK/play2.log'"
check "injected failure: dc2's tunnels come back after the rollback" within 60 up dc2
check "injected failure: dc2 has nothing left to confirm" sh -c "! '$VIADUCT' confirm --socket '$D/dc2.sock' 2>/dev/null"

"$VIADUCT" lab down "$TOPOLOGY" >/dev/null 2>&1
check "lab down" sh -c "! ip netns list | grep -q '^vdl-dc[123] '"
[ "$failed" -eq 0 ] && rm -rf "$WORK" || echo "logs kept in $WORK"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
