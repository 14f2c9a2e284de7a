#!/usr/bin/env bash
# Instructions per IKE_SA + first Child SA setup (both ends, in process), counted with callgrind:
# repeatable whatever else the machine is doing, unlike timings. `viaduct bench handshake
# --count N` runs exactly N setups after its PKI set-up; two counts, and the difference divided by
# the extra setups cancels start-up. Prints the total and the top inclusive functions per setup.
# Usage: Benchmarks/handshake-instructions.sh [VIADUCT_BINARY] [IKE_PROPOSAL]
#        (a release build is the fair figure: swift build -c release --product viaduct)
set -euo pipefail
cd "$(dirname "$0")/.."
viaduct=${1:-$(swift build -c release --show-bin-path)/viaduct}
ike=${2:-aes256gcm16-prfsha256-ecp256}
[ -x "$viaduct" ] || { echo "build first: swift build -c release --product viaduct" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF Swift 6 emits; keep the symbol table, drop debug info.
strip --strip-debug -o "$work/viaduct" "$viaduct"; viaduct=$work/viaduct
ir() { valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1" "$viaduct" bench handshake --ike "$ike" --count "$1" \
         >/dev/null 2>"$work/err.$1"
       grep -o "Collected : [0-9]*" "$work/err.$1" | awk '{print $3}'; }
n1=10; n2=60
a=$(ir $n1); b=$(ir $n2)
echo "instructions per setup ($ike, ECDSA P-256, both ends): $(( (b - a) / (n2 - n1) ))"
# Where they go: inclusive counts of the longer run divided by its setups (start-up included,
# so small entries near the top are the PKI set-up, not the handshake).
callgrind_annotate --inclusive=yes "$work/cg.$n2" 2>/dev/null | awk -v n=$n2 '
  /^ *[0-9,]+ \(/ { c=$1; gsub(",", "", c); $1=""; $2=""; sub(/^ +/, ""); sub(/ \[.*$/, "");
                    if (c / n > 100000 && !seen[$0]++) printf "%12d  %s\n", c / n, substr($0, 1, 110) }' | head -60
