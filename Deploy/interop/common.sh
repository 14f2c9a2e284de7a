# Shared by Deploy/interop/run.sh and dos-flood.sh (sourced, not run): logging, the cleanup that
# always runs (processes in PIDS stopped by PID, namespaces in ALL_NS deleted, WORK removed unless
# KEEP=1) and polling. The sourcing script sets PIDS, ALL_NS and WORK before anything starts.

log() { printf '%s\n' "$*" >&2; }

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
    # Per-namespace files for ip netns exec (the fqdn scenario's hosts file).
    [ -d "/etc/netns/$ns" ] && rm -rf "/etc/netns/$ns"
  done
  return 0
}
on_exit() {
  teardown
  # A lane of run.sh --jobs (INTEROP_QUEUE set) leaves its directory to the run that started it.
  if [ -n "${INTEROP_QUEUE:-}" ]; then return 0; fi
  if [ "${KEEP:-0}" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}

wait_for() { # wait_for SECONDS COMMAND...
  local t=$1; shift
  for _ in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}
