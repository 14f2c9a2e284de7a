# Shared by the namespace lab's test scripts (sourced, POSIX sh): PASS/FAIL lines and their count.
#   pass WHAT | fail WHAT           one line, counted
#   check WHAT COMMAND...           PASS when COMMAND exits 0, else FAIL
#   within SECONDS COMMAND...       retries COMMAND every 0.25 s until it succeeds (0) or time is up (1)
# The script ends with: echo "$passed passed, $failed failed"
passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
within() { t=$1; shift; i=0; while [ "$i" -lt $((t * 4)) ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; i=$((i + 1)); done; return 1; }
