#!/usr/bin/env bash
# METEOR on long looping captions: `glamm-eval meteor` with one segment whose hypothesis is
# "a dog runs on the beach " repeated to 5, 20 and 40 KB (what a language model stuck in a loop writes) against the
# caption "a dog runs on the beach", plus a 20 KB hypothesis against a 10 KB looping reference. Prints wall time and
# peak RSS of the whole process (/usr/bin/time -v), for the binary given and optionally for an older binary
# (e.g. one built before the delta-state aligner), which is run under a 4 GB address-space limit and 60 s timeout.
#   bench/meteor_long_bench.sh [GLAMM_EVAL_BINARY (default build/glamm-eval)] [OLD_BINARY]
# METEOR resources: found by the binary (its share/glamm-eval/meteor) or via GLAMM_METEOR_RESOURCES.
set -euo pipefail
new=${1:-build/glamm-eval}
old=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

loop() {  # loop BYTES: the looping caption cut to about BYTES bytes
  awk -v n="$1" 'BEGIN { w = "a dog runs on the beach "; s = ""; while (length(s) + length(w) <= n) s = s w; sub(/ $/, "", s); print s }'
}
for kb in 5 20 40; do
  printf '%s ||| a dog runs on the beach\n' "$(loop $((kb * 1000)))" > "$tmp/hyp${kb}k.txt"
done
printf '%s ||| %s\n' "$(loop 20000)" "$(loop 10000)" > "$tmp/both20k.txt"

measure() {  # measure LABEL BINARY INPUT [limits]: one run, prints wall s, peak RSS MiB and the corpus score
  local label=$1 bin=$2 input=$3 limited=${4:-}
  local log="$tmp/time.log" out="$tmp/out.txt" rc=0
  if [[ -n $limited ]]; then
    ( ulimit -v 4000000; timeout 60 /usr/bin/time -v "$bin" meteor -q < "$input" > "$out" 2> "$log" ) || rc=$?
  else
    /usr/bin/time -v "$bin" meteor -q < "$input" > "$out" 2> "$log" || rc=$?
  fi
  local wall rss score
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + p[i]; print s }' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log")
  score=$(sed -n 's/^corpus METEOR: //p' "$out")
  if [[ $rc -ne 0 ]]; then score="failed (exit $rc: killed, out of memory or timed out)"; fi
  printf '%-34s %-14s %8s s %8s MiB  %s\n' "$label" "$(basename "$bin")" "${wall:-?}" "${rss:-?}" "${score:-?}"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
printf '%-34s %-14s %10s %12s  %s\n' case binary wall "peak RSS" "corpus METEOR"
for kb in 5 20 40; do
  measure "hypothesis ${kb} KB, reference 23 B" "$new" "$tmp/hyp${kb}k.txt"
  if [[ -n $old ]]; then
    if [[ $kb -le 20 ]]; then measure "hypothesis ${kb} KB, reference 23 B" "$old" "$tmp/hyp${kb}k.txt" limited
    else echo "hypothesis ${kb} KB: old binary not run (needs > 9.5 GB)"; fi
  fi
done
measure "hypothesis 20 KB, reference 10 KB" "$new" "$tmp/both20k.txt"
if [[ -n $old ]]; then measure "hypothesis 20 KB, reference 10 KB" "$old" "$tmp/both20k.txt" limited; fi
