#!/usr/bin/env bash
# COCOeval segm benchmark: whole-process `glamm-eval coco` (load 15 MB of JSON, decode ~50k RLE strings, evaluate,
# accumulate, summarize) on the synthetic 5000-image set of spec mask-metrics.md §6.1, pinned to 2 cores. Prints
# each run's wall and CPU time and peak RSS (/usr/bin/time -v), the medians, checks the 12 stats against the
# spec's expected values (exact), and the ratio to the spec's anchors (pycocotools 2.0.6 7.48 s, detectron2
# COCOeval_opt 2.11 s). When python3 can import pycocotools, the reference is timed on the same files too.
# The load average is printed: wall times mean something only when it is below the number of cores.
#
# usage: bench/coco_bench.sh [BUILD_DIR] [RUNS]     (BUILD_DIR default: build; RUNS default 5)
# env: GLAMM_SHARED (default <repo>/../shared, for tools/gen_segm_bench.py), CORES (default "0,1"),
#      DATA (default <repo>/bench/data/bench5k, git-ignored), THREADS (default 2)
# The generator needs python3 with numpy (Debian: apt-get install python3-numpy); it takes about a minute.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build}"
runs="${2:-5}"
bin="$build/glamm-eval"
[[ -x "$bin" ]] || { echo "build glamm-eval in $build first" >&2; exit 2; }
shared="${GLAMM_SHARED:-$repo/../shared}"
data="${DATA:-$repo/bench/data/bench5k}"
cores="${CORES:-0,1}"
threads="${THREADS:-2}"
if [[ ! -f "$data/gt.json" || ! -f "$data/dt.json" ]]; then
  gen="$shared/tools/gen_segm_bench.py"
  [[ -f "$gen" ]] || { echo "missing $gen (set GLAMM_SHARED)" >&2; exit 2; }
  py=python3
  python3 -c 'import numpy' 2>/dev/null || py=/usr/bin/python3
  "$py" -c 'import numpy' 2>/dev/null || { echo "the generator needs numpy (apt-get install python3-numpy)" >&2; exit 2; }
  echo "generating the 5000-image benchmark into $data (about a minute) ..."
  "$py" "$gen" "$data" --images 5000 --seed 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
args=(coco --gt "$data/gt.json" --dt "$data/dt.json" --iou-type segm --threads "$threads" -q --json "$tmp/result.json")
echo "binary:  $bin"
echo "machine: $(nproc) cores available, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
echo "cores:   $cores   threads: $threads   runs: $runs   load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" "${args[@]}" > /dev/null 2>&1  # warm the page cache
times=(); cpus=(); max_rss=0
for ((i = 1; i <= runs; i++)); do
  LC_ALL=C taskset -c "$cores" /usr/bin/time -v -o "$tmp/time.txt" "$bin" "${args[@]}" > "$tmp/out.txt" 2> /dev/null
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + p[k]; print s}' "$tmp/time.txt")
  user=$(awk -F': ' '/User time/ {print $2}' "$tmp/time.txt")
  sys=$(awk -F': ' '/System time/ {print $2}' "$tmp/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
  times+=("$wall"); cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')")
  (( rss > max_rss )) && max_rss=$rss
  echo "run $i: ${wall} s wall, ${user} s user + ${sys} s sys, peak RSS $((rss / 1024)) MiB"
done
med() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
median=$(printf '%s\n' "${times[@]}" | med)
median_cpu=$(printf '%s\n' "${cpus[@]}" | med)
cat "$tmp/out.txt"
echo "median wall: ${median} s   median CPU: ${median_cpu} s   peak RSS: $((max_rss / 1024)) MiB   (target <= 0.7 s, < 400 MiB)"
awk -v m="$median" 'BEGIN {printf "vs spec anchors: pycocotools 2.0.6 7.48 s -> %.1fx faster; detectron2 COCOeval_opt 2.11 s -> %.1fx faster\n", 7.48 / m, 2.11 / m}'

# The 12 stats must equal pycocotools 2.0.6's on this set exactly (mask-metrics.md §6.1).
python3 - "$tmp/result.json" <<'EOF'
import json, sys
expected = [0.16727706697835262, 0.337122474838592, 0.14222559935490314, 0.15617560435137193, 0.15834389528452777,
            0.19399252109968015, 0.08498659517426273, 0.34880593936894205, 0.34880593936894205, 0.34067526957751454,
            0.3432065217391304, 0.37081790642881185]
got = json.load(open(sys.argv[1]))["details"]["stats"]
delta = max(abs(a - b) for a, b in zip(got, expected))
if len(got) != 12 or got != expected:
    print(f"STATS MISMATCH vs spec 6.1 (max abs delta {delta:.3g}): {got}")
    sys.exit(1)
print("stats: all 12 equal the spec 6.1 values (pycocotools 2.0.6) exactly")
EOF

# The reference itself, when available.
if python3 -c 'import pycocotools' 2>/dev/null; then
  cat > "$tmp/ref.py" <<'EOF'
import sys, time, io, contextlib
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
t = time.time()
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2])
    e = COCOeval(gt, dt, "segm"); e.evaluate(); e.accumulate(); e.summarize()
print(f"{time.time() - t:.3f}")
EOF
  ref=$(taskset -c "$cores" python3 "$tmp/ref.py" "$data/gt.json" "$data/dt.json")
  awk -v r="$ref" -v m="$median" 'BEGIN {printf "pycocotools measured here: %.2f s -> ratio %.1fx\n", r, r / m}'
else
  echo "pycocotools is not importable by python3: reference not timed here (anchors above are from spec 6.1)"
fi
