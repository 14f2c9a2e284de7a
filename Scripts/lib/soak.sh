# Scripts/lib/soak.sh - what the soaks measure (sourced, defines functions only): continuous pings and the echoes
# they lost, a process's RSS and open descriptors, Prometheus counters, and the flatness verdict.
# Used by Scripts/soak (Viaduct against strongSwan in namespaces) and Deploy/kernel-lab/guest/soak.sh (Viaduct
# against Viaduct in the VM); Scripts/chaos uses the pings.

SOAK_PING_PIDS=()
# soak_ping_start NS ADDR LOG [PING_ARGS...]: 5 echoes a second from NS to ADDR until soak_ping_stop; -D stamps
# each line with the Unix time, -O prints "no answer yet for icmp_seq=N" for an echo still unanswered when the
# next is sent (0.2 s after it).
soak_ping_start() {
  local ns=$1 addr=$2 out=$3; shift 3
  ip netns exec "$ns" ping -n -D -O -i 0.2 -W 1 "$@" "$addr" >"$out" 2>&1 &
  SOAK_PING_PIDS+=($!)
}
soak_ping_stop() {
  local p
  for p in "${SOAK_PING_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  for p in "${SOAK_PING_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  SOAK_PING_PIDS=()
}

# soak_ping_lost LOG [SINCE]: "LOST SENT": echoes never answered (reported unanswered and no reply came later)
# and echoes sent (the highest sequence number seen), counting only lines stamped at or after SINCE (Unix time).
soak_ping_lost() {
  awk -v since="${2:-0}" '
    { t = $1; gsub(/[][]/, "", t); if (t + 0 < since) next }
    /no answer yet for icmp_seq=/ { s = $NF; sub(/.*=/, "", s); miss[s] = t; if (s + 0 > max) max = s + 0 }
    / bytes from / { for (k = 1; k <= NF; k++) if ($k ~ /^icmp_seq=/) { s = $k; sub(/.*=/, "", s) }
                     got[s] = 1; if (s + 0 > max) max = s + 0 }
    END { n = 0; for (s in miss) if (!(s in got)) n++; print n, max }' "$1"
}

# soak_ping_lost_at LOG: the Unix times (one decimal) at which lost echoes were reported, one a line.
soak_ping_lost_at() {
  awk '
    /no answer yet for icmp_seq=/ { t = $1; gsub(/[][]/, "", t); s = $NF; sub(/.*=/, "", s); miss[s] = t }
    / bytes from / { for (k = 1; k <= NF; k++) if ($k ~ /^icmp_seq=/) { s = $k; sub(/.*=/, "", s) }; got[s] = 1 }
    END { for (s in miss) if (!(s in got)) printf "%.1f seq %s\n", miss[s], s }' "$1" | sort -n
}

# soak_reauth_windows LOG: "START END" (Unix times) of each reauthentication a Viaduct log (--timestamps) shows,
# from "reauthenticating: opening a new IKE SA" to the next "IKE SA reauthenticated".
soak_reauth_windows() {
  local stamp msg start=""
  grep -E 'reauthenticating: opening a new IKE SA|IKE SA reauthenticated' "$1" | while read -r stamp _ msg; do
    case $msg in
      reauthenticating:*) start=$(date -u -d "$stamp" +%s.%3N) ;;
      *) [ -n "$start" ] && echo "$start $(date -u -d "$stamp" +%s.%3N)"; start="" ;;
    esac
  done
}

# soak_lost_in_windows PING_LOG WINDOWS_FILE: "IN OUT": lost echoes sent inside a window (0.3 s of slack either
# side) and outside every window. An echo reported unanswered at T was sent at T - 0.2.
soak_lost_in_windows() {
  soak_ping_lost_at "$1" | awk -v wf="$2" '
    BEGIN { n = 0; while ((getline line < wf) > 0) { split(line, w, " "); s[n] = w[1]; e[n] = w[2]; n++ } }
    { t = $1 - 0.2; hit = 0; for (k = 0; k < n; k++) if (t >= s[k] - 0.3 && t <= e[k] + 0.3) hit = 1
      if (hit) inside++; else outside++ }
    END { print inside + 0, outside + 0 }'
}

# soak_windows_longest WINDOWS_FILE: the longest window in ms ("0" when there is none).
soak_windows_longest() { awk '{ d = ($2 - $1) * 1000; if (d > m) m = d } END { printf "%d\n", m }' "$1"; }

# soak_proc PID: "RSS_KB FDS" of a running process, "0 0" once it is gone.
soak_proc() {
  local rss fds
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
  fds=$(ls "/proc/$1/fd" 2>/dev/null | wc -l)
  echo "${rss:-0} ${fds:-0}"
}

# soak_scrape NS PORT: GET /metrics from a daemon's --metrics 127.0.0.1:PORT in NS (bash's /dev/tcp: no curl).
soak_scrape() {
  ip netns exec "$1" timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3' "$2" 2>/dev/null
}

# soak_metric TEXT NAME: the sum of every sample of the Prometheus metric NAME (all label sets) in TEXT.
soak_metric() {
  awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%d\n", s }' <<<"$1"
}

# soak_flat LABEL VALUE...: the first VALUE is the warm-up figure; every later one must lie within ±5% of it
# (at least ±1, so a descriptor count of 20 may move by one). Prints the verdict; status 1 when not flat.
soak_flat() {
  local label=$1 base=$2 v lo hi tol d dw worst=$2; shift 2
  tol=$(( base * 5 / 100 )); [ "$tol" -ge 1 ] || tol=1
  lo=$((base - tol)) hi=$((base + tol))
  for v in "$@"; do
    [ "$v" -lt "$lo" ] || [ "$v" -gt "$hi" ] && { echo "FAIL $label not flat: warm-up $base, then $v (bound $lo..$hi)"; return 1; }
    d=$(( v > base ? v - base : base - v )) dw=$(( worst > base ? worst - base : base - worst ))
    [ "$d" -gt "$dw" ] && worst=$v
  done
  echo "PASS $label flat: warm-up $base, farthest later sample $worst (bound $lo..$hi)"
}
