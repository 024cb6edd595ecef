#!/usr/bin/env bash
# The offline install check of the Python package glamm_eval (docs/python.md, "Installing"); .ci/run calls it after
# the README's test command.
#
# Usage: scripts/python_install_check.sh [--python PYTHON] [--keep]
#   --python PYTHON  the interpreter the virtual environment is made from (default /usr/bin/python3, Debian's, whose
#                    python3-setuptools, python3-wheel and numpy the offline install uses)
#   --keep           keep the temporary folder (the venv, the wheel) and say where it is
#
# In a temporary folder: make a fresh virtual environment (--system-site-packages, no PyPI), install the checkout
# with `pip install --no-build-isolation --no-index`, then, from outside the checkout with GLAMM_SHARED and PYTHONPATH
# unset: import every submodule, check that libtorch is not mapped into the process, run a small computation through
# glamm_eval.mask and glamm_eval.coco, score METEOR with the installed resources; build a wheel with
# `pip wheel --no-build-isolation --no-index` and check its contents (the .py files, the extension, the derived METEOR
# resources as real files, the plugins that were built); check that the checkout gained nothing but the ignored
# build-python/ folder (the CMake build of the package, kept for the next run: with ccache a rebuild takes seconds);
# clean up. Prints the time of each step. Exit status 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

python=/usr/bin/python3
keep=0
while (($#)); do
  case "$1" in
    --python) python=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "python_install_check: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$python" ] || python=$(command -v python3)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
seconds_since() {  # seconds_since START_MS: "12.3"
  local ms=$(( $(now_ms) - $1 ))
  printf '%d.%d' $((ms / 1000)) $(((ms % 1000) / 100))
}
t_start=$(now_ms)
step_start=$t_start
step() {  # step NAME: print the time since the previous step
  printf 'python_install_check: %-34s %7s s\n' "$1" "$(seconds_since "$step_start")"
  step_start=$(now_ms)
}
fail() { echo "python_install_check: FAILED: $*" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/glamm-python-check.XXXXXX")
cleanup() {
  if ((keep)); then echo "python_install_check: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# What the checkout looks like before (untracked and ignored entries included), to show that pip left nothing
# behind but build-python/, and never wrote into the CMake build/ folder.
in_git=0
git -C "$repo" rev-parse --is-inside-work-tree > /dev/null 2>&1 && in_git=1
state() {
  if ((in_git)); then
    git -C "$repo" status --porcelain --ignored --untracked-files=normal | grep -v '^!! build-python/$' | sort || true
  else
    ls -A "$repo" | grep -v '^build-python$' || true
  fi
  [ -d "$repo/build" ] && ls -A "$repo/build" | sed 's|^|build/|' || true
}
state > "$tmp/state.before"

export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The package must find its resources and plugins by itself: no variable pointing elsewhere.
unset PYTHONPATH GLAMM_SHARED PIP_INDEX_URL PIP_EXTRA_INDEX_URL GLAMM_METEOR_RESOURCES GLAMM_METEOR_PARAPHRASE \
  GLAMM_OVERLAY_PLUGIN GLAMM_BERT_PLUGIN GLAMM_RUNNER_PLUGIN

"$python" -m venv --system-site-packages "$tmp/venv"
venv_python=$tmp/venv/bin/python
step "venv"

# --no-cache-dir: build from the checkout every time (pip keeps no wheel of it in the user's cache).
if ! "$venv_python" -m pip install --no-build-isolation --no-index --no-cache-dir "$repo" > "$tmp/install.log" 2>&1; then
  cat "$tmp/install.log" >&2
  fail "pip install --no-build-isolation --no-index from the checkout"
fi
grep -q '^Successfully installed glamm-eval-' "$tmp/install.log" || { cat "$tmp/install.log" >&2; fail "pip did not install glamm-eval"; }
step "pip install (offline)"

# Outside the checkout, as a user would: no PYTHONPATH, no GLAMM_SHARED, cwd a fresh folder.
mkdir "$tmp/elsewhere"
cp "$repo/CMakeLists.txt" "$tmp/cmakelists"  # to compare glamm_eval.__version__ with project(VERSION)
(cd "$tmp/elsewhere" && "$venv_python" - "$tmp" "$repo") <<'EOF'
import importlib
import json
import math
import os
import pkgutil
import re
import sys

tmp, repo = sys.argv[1], os.path.realpath(sys.argv[2])
import numpy as np

import glamm_eval

where = os.path.realpath(glamm_eval.__file__)
venv = os.path.realpath(os.path.join(tmp, "venv"))
assert where.startswith(venv + os.sep), f"glamm_eval imported from {where}, not from the venv {venv}"
assert not where.startswith(repo + os.sep), f"glamm_eval imported from the checkout: {where}"
package_dir = os.path.dirname(where)

version = re.search(r"project\(\s*glamm_eval\s+VERSION\s+(\S+)", open(os.path.join(tmp, "cmakelists")).read()).group(1)
assert glamm_eval.__version__ == version, (glamm_eval.__version__, version)

# Every submodule (the .py files of the package and the extension's own submodules).
# (libglamm_*.so next to _core are the plugins, shared libraries loaded on demand: not Python modules.)
names = sorted(m.name for m in pkgutil.iter_modules(glamm_eval.__path__) if not m.name.startswith("libglamm_"))
assert {"_core", "mask", "coco"} <= set(names), names
for name in names:
    importlib.import_module(f"glamm_eval.{name}")
from glamm_eval import _core
for name in ("mask", "coco", "caption", "tasks"):
    assert hasattr(_core, name), f"glamm_eval._core has no submodule {name}"
print(f"imported glamm_eval {glamm_eval.__version__} from {package_dir}: {', '.join(names)}")

# No libtorch in the process: the BERT and runner plugins are loaded only when asked.
with open("/proc/self/maps") as maps:
    torch_maps = sorted({line.split()[-1] for line in maps if re.search(r"lib(torch|c10)", line)})
assert not torch_maps, f"libtorch is mapped after importing glamm_eval: {torch_maps}"
print("libtorch not loaded")

# The plugins in the package load (their libraries resolve), each in a child process (libglamm_bert.so and
# libglamm_runner.so map libtorch, which this process must not).
import subprocess
plugins = sorted(f for f in os.listdir(package_dir) if f.startswith("libglamm_") and f.endswith(".so"))
assert "libglamm_overlay.so" in plugins, plugins
for plugin in plugins:
    subprocess.run([sys.executable, "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])", os.path.join(package_dir, plugin)],
                   check=True)
print(f"plugins load: {', '.join(plugins)}")

# glamm_eval.mask: encode/decode/area/toBbox/iou/merge on a 5x6 mask (pycocotools.mask semantics).
from glamm_eval import mask as maskUtils
m = np.zeros((5, 6), dtype=np.uint8, order="F")
m[1:4, 2:5] = 1
rle = maskUtils.encode(m)
assert int(maskUtils.area(rle)) == 9, maskUtils.area(rle)
assert list(maskUtils.toBbox(rle)) == [2.0, 1.0, 3.0, 3.0], maskUtils.toBbox(rle)
assert (maskUtils.decode(rle) == m).all()
box = maskUtils.frPyObjects(np.array([[2.0, 1.0, 3.0, 2.0]]), 5, 6)  # the top two rows of the square
iou = maskUtils.iou([rle], box, [0])
assert iou.shape == (1, 1) and iou[0, 0] == 6 / 9, iou
assert int(maskUtils.area(maskUtils.merge([rle, box[0]]))) == 9
print("glamm_eval.mask: ok")

# glamm_eval.coco: COCO/COCOeval, the pycocotools way, on two images: one detection matches its ground truth
# exactly, the other misses, so precision is 1 up to recall 0.5 and 0 beyond: AP = 51/101 at every IoU threshold.
from glamm_eval.coco import COCO, COCOeval
gt = {
    "images": [{"id": 1, "width": 40, "height": 30}, {"id": 2, "width": 40, "height": 30}],
    "categories": [{"id": 7, "name": "thing"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 7, "bbox": [5, 5, 10, 10], "area": 100.0, "iscrowd": 0},
        {"id": 2, "image_id": 2, "category_id": 7, "bbox": [5, 5, 10, 10], "area": 100.0, "iscrowd": 0},
    ],
}
gt_path = os.path.join(tmp, "gt.json")
with open(gt_path, "w") as f:
    json.dump(gt, f)
cocoGt = COCO(gt_path)
cocoDt = cocoGt.loadRes([
    {"image_id": 1, "category_id": 7, "bbox": [5, 5, 10, 10], "score": 0.9},
    {"image_id": 2, "category_id": 7, "bbox": [25, 15, 10, 10], "score": 0.8},
])
cocoEval = COCOeval(cocoGt, cocoDt, "bbox")
cocoEval.evaluate()
cocoEval.accumulate()
cocoEval.summarize()
stats = np.asarray(cocoEval.stats)
ap = 51 / 101
expected = [ap, ap, ap, ap, -1, -1, 0.5, 0.5, 0.5, 0.5, -1, -1]
assert stats.shape == (12,) and np.allclose(stats, expected, rtol=0, atol=1e-12), stats
assert cocoEval.eval["precision"].shape == (10, 101, 1, 4, 3), cocoEval.eval["precision"].shape
print("glamm_eval.coco: ok")

# METEOR with the resources installed in the package (derived from WordNet: "sat" matches "sits" through
# english.exceptions + english.synsets). 0.9500000000000001 is what `glamm-eval meteor` prints for this pair.
resources = os.path.join(package_dir, "share", "glamm-eval", "meteor")
for name in ("english.synsets", "english.exceptions", "english.words", "english.prefixes"):
    path = os.path.join(resources, name)
    assert os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) > 0, f"missing {path}"
from glamm_eval import caption as caption_module
import warnings
with warnings.catch_warnings():  # "paraphrase off: not comparable with pycocoevalcap" (expected here)
    warnings.simplefilter("ignore", RuntimeWarning)
    meteor = caption_module.Meteor(paraphrase="off")  # no paraphrase table is installed (docs/meteor-resources.md)
source = os.path.realpath(str(meteor.source))
assert source.startswith(os.path.realpath(package_dir) + os.sep), f"METEOR resources from {source}, not the package"
score, scores = meteor.compute_score({1: ["a cat sits on the mat"]}, {1: ["a cat sat on the mat"]})
assert score == 0.9500000000000001 and list(scores) == [score], (score, scores)
print(f"glamm_eval.caption.Meteor with the installed resources ({source}): {score}")
EOF
step "import + checks (outside checkout)"

mkdir "$tmp/wheel"
if ! "$venv_python" -m pip wheel --no-build-isolation --no-index --no-cache-dir --no-deps -w "$tmp/wheel" "$repo" > "$tmp/wheel.log" 2>&1; then
  cat "$tmp/wheel.log" >&2
  fail "pip wheel --no-build-isolation --no-index from the checkout"
fi
step "pip wheel (offline)"

"$venv_python" - "$tmp/wheel" "$repo/build-python/CMakeCache.txt" <<'EOF'
import os
import re
import stat
import sys
import sysconfig
import zipfile

wheel_dir, cache = sys.argv[1:]
wheels = [f for f in os.listdir(wheel_dir) if f.endswith(".whl")]
assert len(wheels) == 1, wheels
wheel = wheels[0]
tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
assert wheel.startswith("glamm_eval-") and f"-{tag}-{tag}-" in wheel and sysconfig.get_platform().replace("-", "_") in wheel, \
    f"{wheel} is not a wheel for this platform"
with zipfile.ZipFile(os.path.join(wheel_dir, wheel)) as z:
    infos = z.infolist()
names = {i.filename for i in infos}
links = [i.filename for i in infos if stat.S_ISLNK(i.external_attr >> 16)]
assert not links, f"symbolic links in the wheel: {links}"

suffix = sysconfig.get_config_var("EXT_SUFFIX")
with open(cache) as f:
    torch = re.search(r"^GLAMM_WITH_TORCH:BOOL=(\w+)", f.read(), re.MULTILINE)
with_torch = bool(torch) and torch.group(1).upper() in ("ON", "1", "TRUE", "YES")
required = ["glamm_eval/__init__.py", "glamm_eval/mask.py", f"glamm_eval/_core{suffix}", "glamm_eval/libglamm_overlay.so"]
required += [f"glamm_eval/share/glamm-eval/meteor/{n}"
             for n in ("english.synsets", "english.exceptions", "english.words", "english.prefixes")]
if with_torch:
    required += ["glamm_eval/libglamm_bert.so", "glamm_eval/libglamm_runner.so"]
missing = [n for n in required if n not in names]
assert not missing, f"missing from {wheel}: {missing}"
empty = [i.filename for i in infos if i.filename in required and i.file_size == 0]
assert not empty, f"empty files in {wheel}: {empty}"
py_sources = sorted(n for n in names if n.startswith("glamm_eval/") and n.endswith(".py"))
print(f"{wheel} ({os.path.getsize(os.path.join(wheel_dir, wheel)) / 1e6:.1f} MB, GLAMM_WITH_TORCH="
      f"{'ON' if with_torch else 'OFF'}):")
for i in sorted(infos, key=lambda i: i.filename):
    if not i.filename.endswith((".dist-info/RECORD",)):
        print(f"  {i.file_size:>10}  {i.filename}")
EOF
step "wheel contents"

state > "$tmp/state.after"
if ! diff -u "$tmp/state.before" "$tmp/state.after" >&2; then
  fail "the install left files in the checkout (above) besides build-python/, or wrote into build/"
fi
step "checkout untouched"

printf 'python_install_check: %-34s %7s s\n' "total" "$(seconds_since "$t_start")"
echo "python_install_check: all checks passed"
