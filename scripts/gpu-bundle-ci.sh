#!/usr/bin/env bash
# CI for the GPU bundle, so that it cannot rot: builds it (scripts/gpu-bundle.sh, ≤ 64 MiB) and runs its
# run step exactly as on a GPU machine (the bundled node, Dawn and Vulkan loader), with one difference:
# the Vulkan driver is Chromium's SwiftShader instead of NVIDIA's. The bench is kept short here (SwiftShader
# is slow); a GPU machine runs the full kernel families. Without network where `unshare -n` is allowed.
# Fails when the bundle is over 64 MiB, the run step fails or takes over 5 minutes, or its report.json,
# bench.json or run.log are not as expected (scripts/gpu-bundle-check.mjs).
#   bash scripts/gpu-bundle-ci.sh [BUNDLE_DIR]   (default .gpu-bundle; results in BUNDLE_DIR.ci-run/)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[gpu-bundle-ci] $*"; }
bundle=${1:-.gpu-bundle}
results="$bundle.ci-run"
OPS=aconC,metaAconC
SHAPES='8,64,56,56;1,64,7,7'
LIMIT_S=300

t0=$SECONDS
bash scripts/gpu-bundle.sh "$bundle"
build_s=$((SECONDS - t0))
size=$(du -sb "$bundle" | cut -f1)

icd=$(node --input-type=module -e "import { swiftshaderIcd } from './scripts/vulkan.mjs'; console.log(swiftshaderIcd() ?? '')")
[ -n "$icd" ] || { say "error: Chromium's SwiftShader (vk_swiftshader_icd.json) not found; npm test installs Chromium"; exit 1; }
isolate=()
if unshare -n true 2>/dev/null; then isolate=(unshare -n); say "the run step runs without network (unshare -n)"
else say "unshare -n not allowed here: the run step runs with this machine's network (it uses none)"; fi

rm -rf "$results"
say "run step: VK_ICD_FILENAMES=$icd bash $bundle/run.sh $results --ops $OPS --shapes \"$SHAPES\" --batches 3"
t1=$SECONDS
rc=0
VK_ICD_FILENAMES=$icd "${isolate[@]}" timeout $((LIMIT_S + 60)) bash "$bundle/run.sh" "$results" --ops "$OPS" --shapes "$SHAPES" --batches 3 || rc=$?
run_s=$((SECONDS - t1))
say "run step: exit $rc in $run_s s (limit $LIMIT_S s)"
node scripts/gpu-bundle-check.mjs "$results" --ops "$OPS" --shapes "$SHAPES" || { [ "$rc" -ne 0 ] || rc=1; }
[ "$run_s" -le "$LIMIT_S" ] || { say "error: the run step took over $LIMIT_S s"; rc=1; }
say "bundle $size bytes ($(awk "BEGIN { printf \"%.1f\", $size / 1048576 }") MiB), built in $build_s s; run step $run_s s on SwiftShader; results in $results"
[ "$rc" -eq 0 ] && say "pass" || say "FAIL"
exit "$rc"
