#!/usr/bin/env bash
# COCOeval benchmark: whole-process `glamm-eval coco` (read the two JSON files, decode the RLE strings, evaluate,
# accumulate, summarize, write the record) on synthetic sets of spec mask-metrics.md §6.1, pinned to 2 cores.
# In one run it prints, per set:
#   - the yardstick: Python's json.load of the same two files (median of RUNS fresh processes);
#   - glamm-eval segm and bbox with --threads 1 and --threads 2: median wall, median CPU (user + sys), peak RSS
#     (/usr/bin/time -v), and the ratio of the median wall to the yardstick;
#   - on bench5k: the 12 segm stats checked against the spec's pycocotools values (exact), and pycocotools 2.0.6
#     itself (COCO + loadRes + evaluate + accumulate + summarize, one run per iouType) when Python can import it,
#     with the ratio;
#   - on the larger sets: the ratio of their time to bench5k's (the cost should grow linearly: <= 10x for 10x
#     the detections or images) and peak RSS against the inputs' JSON size.
# The load average is printed before and after: wall times mean something only when it is below the core count.
#
# usage: bench/coco_bench.sh [BUILD_DIR] [RUNS]     (BUILD_DIR default: build; RUNS default 5)
# env: SETS         sets to run, of bench5k (5000 images, ~25k GT / ~25k results), dt10x (the same images, ~250k
#                   results), img50k (50,000 images, ~250k GT / ~250k results); default "bench5k"
#      DATA_DIR     where the sets live / are generated (default <repo>/bench/data, git-ignored); DATA (a folder
#                   with gt.json and dt.json) overrides bench5k's folder
#      CORES        CPUs to pin to (default "0,1"); PYTHON (default /usr/bin/python3 when present, else python3)
#      PYCOCOTOOLS  a folder to put on PYTHONPATH for pycocotools (e.g. a PythonAPI folder built from the public
#                   cocoapi source; never part of this repository); SKIP_REFERENCE=1 skips pycocotools
#      GLAMM_SHARED (default <repo>/../shared) for tools/gen_segm_bench.py, which generates a missing set (needs
#                   numpy; bench5k about a minute, the larger sets several minutes each)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build}"
runs="${2:-5}"
bin="$build/glamm-eval"
[[ -x "$bin" ]] || { echo "build glamm-eval in $build first" >&2; exit 2; }
shared="${GLAMM_SHARED:-$repo/../shared}"
data_dir="${DATA_DIR:-$repo/bench/data}"
cores="${CORES:-0,1}"
sets="${SETS:-bench5k}"
py="${PYTHON:-}"
[[ -n "$py" ]] || { [[ -x /usr/bin/python3 ]] && py=/usr/bin/python3 || py=python3; }
ref_path="${PYCOCOTOOLS:-}"

set_dir() {
  case "$1" in
    bench5k) echo "${DATA:-$data_dir/bench5k}" ;;
    dt10x) echo "$data_dir/bench5k_dt10x" ;;
    img50k) echo "$data_dir/bench50k" ;;
    *) echo "unknown set '$1' (bench5k, dt10x, img50k)" >&2; exit 2 ;;
  esac
}
gen_args() {
  case "$1" in
    bench5k) echo "--images 5000 --seed 0" ;;
    dt10x) echo "--images 5000 --dt 50 --seed 0" ;;
    img50k) echo "--images 50000 --seed 0" ;;
  esac
}
ensure_set() {
  local dir; dir="$(set_dir "$1")"
  [[ -f "$dir/gt.json" && -f "$dir/dt.json" ]] && return
  local gen="$shared/tools/gen_segm_bench.py"
  [[ -f "$gen" ]] || { echo "missing $gen (set GLAMM_SHARED)" >&2; exit 2; }
  "$py" -c 'import numpy' 2>/dev/null || { echo "the generator needs numpy (apt-get install python3-numpy)" >&2; exit 2; }
  echo "generating set $1 into $dir ($(gen_args "$1")) ..."
  # shellcheck disable=SC2046
  "$py" "$gen" "$dir" $(gen_args "$1")
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
med() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# time_cmd OUT_PREFIX CMD...: RUNS runs pinned to $cores; sets med_wall, med_cpu, max_rss_mib.
# The wall time is read from the nanosecond clock around the command (/usr/bin/time's own has 10 ms steps); the
# stage times that glamm-eval prints with GLAMM_STAGE_TIMES=1 are kept in $tmp/stages.txt (one line per run).
time_cmd() {
  local walls=() cpus=() rss_max=0 i wall user sys rss t0 t1
  : > "$tmp/stages.txt"
  for ((i = 1; i <= runs; i++)); do
    t0=$(date +%s%N)
    GLAMM_STAGE_TIMES=1 LC_ALL=C taskset -c "$cores" /usr/bin/time -v -o "$tmp/time.txt" "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"
    t1=$(date +%s%N)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')
    { { grep '^stage-time' "$tmp/err.txt" || true; } | awk '{printf "%s ", $2}'; echo; } >> "$tmp/stages.txt"
    user=$(awk -F': ' '/User time/ {print $2}' "$tmp/time.txt")
    sys=$(awk -F': ' '/System time/ {print $2}' "$tmp/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
    walls+=("$wall"); cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')")
    (( rss > rss_max )) && rss_max=$rss
  done
  med_wall=$(printf '%s\n' "${walls[@]}" | med)
  # Median of each stage column (load, evaluate, accumulate for coco).
  med_stages=""
  local k
  for k in 1 2 3; do
    med_stages+="$(awk -v k="$k" 'NF >= k {print $k}' "$tmp/stages.txt" | med) "
  done
  med_cpu=$(printf '%s\n' "${cpus[@]}" | med)
  max_rss_mib=$((rss_max / 1024))
}

echo "binary:  $bin (allocator: $(ldd "$bin" | grep -q libmimalloc && echo mimalloc || echo "C library malloc"))"
echo "machine: $(nproc) cores available, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
echo "cores:   $cores   runs: $runs   sets: $sets   python: $py"
echo "load average at start: $(loadavg)"

declare -A base_wall eval_phase
for set in $sets; do
  ensure_set "$set"
  dir="$(set_dir "$set")"
  gt="$dir/gt.json" dt="$dir/dt.json"
  json_mib=$(du -cm "$gt" "$dt" | awk 'END {print $1}')
  echo
  echo "== set $set ($dir: $json_mib MiB of JSON), load average $(loadavg)"
  cat "$gt" "$dt" > /dev/null  # warm the page cache
  cat > "$tmp/yard.py" <<'EOF'
import json, sys
for f in sys.argv[1:]:
    with open(f) as fh:
        json.load(fh)
EOF
  time_cmd "$py" "$tmp/yard.py" "$gt" "$dt"
  yard=$med_wall
  echo "yardstick json.load of both files: median ${yard} s wall, CPU ${med_cpu} s, peak RSS ${max_rss_mib} MiB"
  for iou in segm bbox; do
    for threads in 1 2; do
      args=(coco --gt "$gt" --dt "$dt" --iou-type "$iou" --threads "$threads" -q --json "$tmp/result_${iou}.json")
      "$bin" "${args[@]}" > /dev/null 2>&1  # warm-up
      time_cmd "$bin" "${args[@]}"
      awk -v s="$set" -v i="$iou" -v t="$threads" -v w="$med_wall" -v c="$med_cpu" -v r="$max_rss_mib" -v y="$yard" \
        'BEGIN {printf "glamm-eval %-4s --threads %d: median %.3f s wall, CPU %.3f s, peak RSS %d MiB, %.2fx the yardstick\n", i, t, w, c, r, w / y}'
      read -r st_load st_eval st_acc <<< "$med_stages"
      echo "    stages (median): load ${st_load} s, evaluate ${st_eval} s, accumulate ${st_acc} s"
      key="$iou.$threads"
      eval_phase[$key]=$st_eval
      if [[ "$set" == bench5k ]]; then
        base_wall[$key]=$med_wall
      elif [[ -n "${base_wall[$key]:-}" ]]; then
        awk -v w="$med_wall" -v b="${base_wall[$key]}" -v r="$max_rss_mib" -v j="$json_mib" \
          'BEGIN {printf "    vs bench5k: %.2fx the time; peak RSS %.2fx the JSON size\n", w / b, r / j}'
      fi
    done
    awk -v a="${eval_phase[$iou.1]}" -v b="${eval_phase[$iou.2]}" -v i="$iou" \
      'BEGIN {printf "    %s evaluation phase: --threads 2 is %.2fx faster than --threads 1\n", i, a / b}'
    [[ "$iou" == segm ]] && seg_wall=$med_wall || box_wall=$med_wall  # --threads 2 figures for the reference ratio
  done

  if [[ "$set" == bench5k ]]; then
    # The 12 segm stats must equal pycocotools 2.0.6's on this set exactly (mask-metrics.md §6.1).
    "$py" - "$tmp/result_segm.json" <<'EOF'
import json, sys
expected = [0.16727706697835262, 0.337122474838592, 0.14222559935490314, 0.15617560435137193, 0.15834389528452777,
            0.19399252109968015, 0.08498659517426273, 0.34880593936894205, 0.34880593936894205, 0.34067526957751454,
            0.3432065217391304, 0.37081790642881185]
got = json.load(open(sys.argv[1]))["details"]["stats"]
if len(got) != 12 or got != expected:
    delta = max(abs(a - b) for a, b in zip(got, expected))
    print(f"STATS MISMATCH vs spec 6.1 (max abs delta {delta:.3g}): {got}")
    sys.exit(1)
print("segm stats: all 12 equal the spec 6.1 values (pycocotools 2.0.6) exactly")
EOF
    if [[ "${SKIP_REFERENCE:-0}" != 1 ]] && PYTHONPATH="$ref_path${PYTHONPATH:+:$PYTHONPATH}" "$py" -c 'import pycocotools' 2>/dev/null; then
      cat > "$tmp/ref.py" <<'EOF'
import contextlib, io, json, sys, time
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
t = time.time()
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2])
    e = COCOeval(gt, dt, sys.argv[3]); e.evaluate(); e.accumulate(); e.summarize()
print(f"{time.time() - t:.3f}")
with open(sys.argv[4]) as f:
    ours = json.load(f)["details"]["stats"]
print("equal" if list(map(float, e.stats)) == ours else "DIFFERENT: %s vs %s" % (list(e.stats), ours))
EOF
      for iou in segm bbox; do
        [[ "$iou" == segm ]] && ours=$seg_wall || ours=$box_wall
        PYTHONPATH="$ref_path${PYTHONPATH:+:$PYTHONPATH}" taskset -c "$cores" "$py" "$tmp/ref.py" "$gt" "$dt" "$iou" \
          "$tmp/result_${iou}.json" > "$tmp/ref.txt"
        ref=$(head -1 "$tmp/ref.txt")
        awk -v i="$iou" -v r="$ref" -v m="$ours" -v eq="$(tail -1 "$tmp/ref.txt")" \
          'BEGIN {printf "pycocotools 2.0.6 %s, same process steps, one run: %.2f s -> glamm-eval --threads 2 is %.1fx faster; 12 stats %s\n", i, r, r / m, eq}'
      done
    else
      echo "pycocotools is not importable (set PYCOCOTOOLS to a folder holding it): reference not timed here;" \
           "spec 6.1 anchor for segm: pycocotools 2.0.6 7.48 s"
    fi
  fi
done
echo
echo "load average at end: $(loadavg)"
