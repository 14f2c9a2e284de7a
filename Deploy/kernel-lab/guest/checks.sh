# Sourced by the guest scripts (smoke.sh, viaduct-pair.sh, viaduct-vs-strongswan.sh): one PASS or
# FAIL line per check, `failures` counting the FAILs, and a command run in a namespace.
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() {  # check DESCRIPTION COMMAND...: PASS/FAIL on the command's status, its output shown on FAIL
    local desc=$1 output; shift
    if output=$("$@" 2>&1); then pass "$desc"; return 0; fi
    fail "$desc"
    printf '%s\n' "$output" | tail -n 20 | sed 's/^/    /'
    return 1
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
