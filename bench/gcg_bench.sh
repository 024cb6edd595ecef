#!/usr/bin/env bash
# GCG benchmark: whole-process `glamm-eval gcg` (AP + mIoU + recall matching with a similarity table + caption
# metrics incl. METEOR and CIDEr, JSON record written) on a synthetic 5000-image GranD-f-format set (5 GT and 5
# predicted masks per image, 640x480) made by bench/gen_gcg_bench, pinned to 2 cores. Prints each run's wall and
# CPU time and peak RSS, the medians, and the ratio to the official Python mIoU alone (~92 s on such data, spec
# mask-metrics.md §6.1). The load average is printed: wall times mean something only when it is below the cores.
#
# usage: bench/gcg_bench.sh [BUILD_DIR] [RUNS]     (BUILD_DIR default: build; RUNS default 5)
# env: GLAMM_SHARED (for METEOR's resources; default <repo>/../shared), CORES (default "0,1"),
#      IMAGES (default 5000), DATA (default <repo>/bench/data/gcg<IMAGES>, git-ignored)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build}"
runs="${2:-5}"
bin="$build/glamm-eval"
gen="$build/bench/gen_gcg_bench"
[[ -x "$bin" && -x "$gen" ]] || { echo "build glamm-eval and gen_gcg_bench in $build first" >&2; exit 2; }
shared="${GLAMM_SHARED:-$repo/../shared}"
meteor="$shared/data/meteor"
[[ -f "$meteor/english.synsets" ]] || { echo "missing $meteor (set GLAMM_SHARED)" >&2; exit 2; }
images="${IMAGES:-5000}"
data="${DATA:-$repo/bench/data/gcg$images}"
cores="${CORES:-0,1}"
if [[ ! -f "$data/val_text_similarity.tsv" ]]; then
  echo "generating $images images into $data ..."
  "$gen" "$data" --images "$images" --seed 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
args=(gcg --split val --gt-dir "$data" --pred "$data/predictions" --text-sim "$data/val_text_similarity.tsv"
      --meteor-resources "$meteor" --threads 2 -q --json "$tmp/result.json")
echo "binary: $bin"
echo "cores:  $cores   runs: $runs   load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" "${args[@]}" > /dev/null 2>&1  # warm the page cache
times=(); cpus=(); max_rss=0
for ((i = 1; i <= runs; i++)); do
  LC_ALL=C taskset -c "$cores" /usr/bin/time -f "%e %U %S %M" -o "$tmp/time.txt" "$bin" "${args[@]}" > "$tmp/out.txt" 2> /dev/null
  read -r wall user sys rss < "$tmp/time.txt"
  times+=("$wall"); cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')")
  (( rss > max_rss )) && max_rss=$rss
  echo "run $i: ${wall} s wall, ${user} s user + ${sys} s sys, peak RSS $((rss / 1024)) MiB"
done
med() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
median=$(printf '%s\n' "${times[@]}" | med)
median_cpu=$(printf '%s\n' "${cpus[@]}" | med)
grep '^GCG' "$tmp/out.txt" || true
echo "median wall: ${median} s   median CPU: ${median_cpu} s   peak RSS: $((max_rss / 1024)) MiB   (target < 3 s)"
awk -v m="$median" 'BEGIN {printf "official Python mIoU alone ~92 s: ratio %.0fx\n", 92 / m}'
