#!/usr/bin/env bash
# Instructions per AES-256-GCM seal, counted with callgrind (repeatable whatever else the machine
# is doing, unlike timings): `viaduct bench crypto --seal-count N` against Benchmarks/aead_reference.c,
# which makes the plain EVP calls on the provider's cipher (EVP_CIPHER_fetch). Viaduct runs on
# OpenSSL's built-in method table instead (docs/dataplane.md, Performance), so a negative
# "overhead" is what skipping the provider's per-call parameter lookups saves. Each is run with two
# counts; the difference divided by the extra seals cancels start-up.
# Usage: Benchmarks/aead-overhead.sh [VIADUCT_BINARY]   (a release build is the fair comparison)
set -euo pipefail
cd "$(dirname "$0")/.."
viaduct=${1:-$(swift build -c release --show-bin-path)/viaduct}
[ -x "$viaduct" ] || { echo "build first: swift build -c release" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/ref" Benchmarks/aead_reference.c -lcrypto
# valgrind 3.19 cannot read the DWARF Swift 6 emits; instruction counts need no symbols.
strip -o "$work/viaduct" "$viaduct"; viaduct=$work/viaduct
ir() { valgrind --tool=callgrind --callgrind-out-file="$work/cg" "$@" >/dev/null 2>"$work/err"
       grep -o "Collected : [0-9]*" "$work/err" | awk '{print $3}'; }
printf '%-7s %12s %12s %9s\n' bytes openssl viaduct overhead
for size in 64 1400 9000; do
  r1=$(ir "$work/ref" 1000 "$size"); r2=$(ir "$work/ref" 6000 "$size")
  v1=$(ir "$viaduct" bench crypto --seal-count 1000 --size "$size"); v2=$(ir "$viaduct" bench crypto --seal-count 6000 --size "$size")
  ref=$(( (r2 - r1) / 5000 )); ours=$(( (v2 - v1) / 5000 ))
  printf '%-7s %9s Ir %9s Ir %8.1f%%\n' "$size" "$ref" "$ours" "$(awk -v a="$ours" -v b="$ref" 'BEGIN { print (a - b) * 100 / b }')"
done
