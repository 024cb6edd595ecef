#!/usr/bin/env bash
# CTest: `cmake --install` into a fresh prefix gives a working glamm-eval that finds its METEOR data in
# PREFIX/share/glamm-eval and its plugins in PREFIX/lib/glamm-eval, scoring the sample as the build tree does.
# Usage: install_tree_check.sh BUILD_DIR CMAKE
set -euo pipefail
build=$1 cmake=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" > "$work/install.log"
mkdir -p "$work/run" "$work/home"
cd "$work/run"
clean_env=(env -u GLAMM_SHARED -u GLAMM_METEOR_RESOURCES -u GLAMM_METEOR_PARAPHRASE -u GLAMM_BERT
           -u GLAMM_OVERLAY_PLUGIN -u GLAMM_BERT_PLUGIN -u GLAMM_RUNNER_PLUGIN HOME="$work/home")
"${clean_env[@]}" "$work/prefix/bin/glamm-eval" gcg --sample -q --json installed.json > installed.txt 2>&1
"${clean_env[@]}" "$build/glamm-eval" gcg --sample -q --json built.json > built.txt 2>&1
installed=$(grep -a '^GCG val' installed.txt) built=$(grep -a '^GCG val' built.txt)
[[ "$installed" == *"METEOR 0."* ]] || { echo "installed glamm-eval printed no METEOR: $installed"; exit 1; }
[[ "$installed" == "$built" ]] || { echo "installed: $installed"; echo "build tree: $built"; exit 1; }
"${clean_env[@]}" "$work/prefix/bin/glamm-eval" resources > resources.txt
grep -a -q "^METEOR tables *$work/prefix/share/glamm-eval/meteor" resources.txt ||
  { echo "METEOR data not found in the prefix:"; cat resources.txt; exit 1; }
grep -a -q "^overlay plugin *$work/prefix/lib/glamm-eval/libglamm_overlay.so" resources.txt ||
  { echo "overlay plugin not found in the prefix:"; cat resources.txt; exit 1; }
echo "installed tree OK: $installed"
