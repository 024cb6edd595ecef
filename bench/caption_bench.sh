#!/usr/bin/env bash
# Caption-metric benchmark: whole-process `glamm-eval captions` (PTB tokenizer + BLEU-1..4 + METEOR + ROUGE-L +
# CIDEr-D, JSON record written) on the COCO val2017 leave-one-out set (5000 images, 20,014 references), pinned to
# 2 cores. Prints each run's wall and CPU time and peak RSS, then the medians and the worst RSS. The load average is
# printed too: on a shared machine the wall time is only meaningful when the load is below the core count.
#
# usage: bench/caption_bench.sh [GLAMM_EVAL_BINARY] [RUNS]
#   GLAMM_EVAL_BINARY  default: build/glamm-eval, then any build-*/glamm-eval under the repository
#   RUNS               default 5
# env: GLAMM_SHARED (default: <repo>/../shared), CORES (default "0,1")
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-}"
if [[ -z "$bin" ]]; then
  for c in "$repo/build/glamm-eval" "$repo"/build-*/glamm-eval; do
    if [[ -x "$c" ]]; then bin="$c"; break; fi
  done
fi
[[ -x "$bin" ]] || { echo "glamm-eval not found; pass its path as the first argument" >&2; exit 2; }
runs="${2:-5}"
shared="${GLAMM_SHARED:-$repo/../shared}"
cores="${CORES:-0,1}"
golden="$shared/golden/captions"
meteor="$shared/data/meteor"
for f in "$golden/coco_val2017_loo_gt.json" "$golden/coco_val2017_loo_results.json" "$meteor/english.synsets"; do
  [[ -f "$f" ]] || { echo "missing $f (set GLAMM_SHARED)" >&2; exit 2; }
done
command -v taskset >/dev/null || { echo "taskset not found" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
args=(captions --gt "$golden/coco_val2017_loo_gt.json" --res "$golden/coco_val2017_loo_results.json"
      --meteor-resources "$meteor" --threads 2 -q --json "$tmp/result.json")

echo "binary: $bin"
echo "cores:  $cores   runs: $runs   load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" "${args[@]}" > /dev/null 2>&1  # warm the page cache
times=()
cpus=()
max_rss=0
for ((i = 1; i <= runs; i++)); do
  LC_ALL=C taskset -c "$cores" /usr/bin/time -f "%e %U %S %M" -o "$tmp/time.txt" "$bin" "${args[@]}" > "$tmp/out.txt" 2> /dev/null
  read -r wall user sys rss < "$tmp/time.txt"
  times+=("$wall")
  cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')")
  (( rss > max_rss )) && max_rss=$rss
  echo "run $i: ${wall} s wall, ${user} s user + ${sys} s sys, peak RSS $((rss / 1024)) MiB"
done
median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
median_cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
echo "metrics: $(grep -E '^(Bleu_4|METEOR|ROUGE_L|CIDEr):' "$tmp/out.txt" | tr '\n' ' ')"
echo "median wall: ${median} s   median CPU (user+sys): ${median_cpu} s   peak RSS: $((max_rss / 1024)) MiB   (target <= 1 s; pycocoevalcap ~ 19 s)"
