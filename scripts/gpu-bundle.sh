#!/usr/bin/env bash
# Builds the offline GPU bundle (npm run gpu-bundle):  bash scripts/gpu-bundle.sh [OUT_DIR]   (default .gpu-bundle)
# On the GPU machine (x86-64 Linux, NVIDIA driver, nothing installed, no network):  bash OUT_DIR/run.sh RESULTS_DIR
#
# Contents (at most 64 MiB, checked here):
#   run.sh                                   the run step (node/run.sh)
#   app/acon-node.mjs                        the command line: library, validation report, bench, tfjs and
#                                            the WGSL in one module (vite.node.config.ts)
#   app/node_modules/webgpu/                 npm webgpu's index.js, package.json and licence, with only
#     dist/linux-x64/dawn.node.xz            Dawn's linux-x64 binary (xz)
#   node.xz                                  this machine's node (≥ 20, self-contained: no libnode.so)
#   debs/                                    from `apt-get download`: libvulkan1 (the Vulkan loader), and
#                                            libglvnd0 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0
#                                            libmd0 (what NVIDIA's libGLX_nvidia.so.0 links against; run.sh
#                                            uses them only where the machine lacks them)
#   licenses/                                node's (the .debs carry their copyright files, webgpu its LICENSE)
#   MANIFEST                                 versions, sizes and sha256 of the above
# Needs here: x86-64 Debian/Ubuntu with apt (root installs xz-utils when missing), node ≥ 20 with
# `npm ci` done (npm run gpu-bundle does both).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[gpu-bundle] $*"; }
die() { echo "[gpu-bundle] error: $*" >&2; exit 1; }
LIMIT=$((64 * 1024 * 1024))
DEBS="libvulkan1 libglvnd0 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0"
out=${1:-.gpu-bundle}
t0=$SECONDS

[ "$(uname -m)" = x86_64 ] || die "build the bundle on x86-64 (its node, dawn.node and .debs are this machine's): here $(uname -m)"
command -v apt-get >/dev/null || die "apt-get not found: the Vulkan loader packages come from apt (Debian/Ubuntu)"
node=$(command -v node) && node=$(readlink -f "$node")
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "node ≥ 20 needed (here $(node --version))"
if ldd "$node" 2>/dev/null | grep -q libnode; then
  die "$node links libnode.so (a distribution's split build) and cannot travel alone: use a self-contained node ≥ 20 (nodejs.org, NodeSource)"
fi
if ! command -v xz >/dev/null; then
  if [ "$(id -u)" = 0 ]; then say "installing xz-utils"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xz-utils >/dev/null
  else die "xz not found: apt-get install xz-utils"; fi
fi
[ -e node_modules/webgpu/dist/linux-x64/dawn.node ] || die "node_modules/webgpu missing: run npm ci"

say "building the command line (vite.node.config.ts)"
npx vite build -c vite.node.config.ts >/dev/null
[ -s build-node/acon-node.mjs ] || die "vite build gave no build-node/acon-node.mjs"

rm -rf "$out"
mkdir -p "$out/app/node_modules/webgpu/dist/linux-x64" "$out/debs" "$out/licenses"
cp node/run.sh "$out/run.sh" && chmod +x "$out/run.sh"
cp build-node/acon-node.mjs "$out/app/"
w=node_modules/webgpu
cp "$w/package.json" "$w/index.js" "$w/LICENSE.md" "$out/app/node_modules/webgpu/"
xz -T0 -6 -c "$w/dist/linux-x64/dawn.node" >"$out/app/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

say "downloading $DEBS (apt-get download)"
if ! (cd "$out/debs" && apt-get download $DEBS >/dev/null 2>&1); then
  [ "$(id -u)" = 0 ] || die "apt-get download failed (no package lists? run apt-get update as root)"
  apt-get update -qq
  (cd "$out/debs" && apt-get download $DEBS >/dev/null) || die "apt-get download $DEBS failed"
fi
[ "$(ls "$out"/debs/*.deb | wc -l)" -eq "$(echo $DEBS | wc -w)" ] || die "expected $(echo $DEBS | wc -w) packages in $out/debs"
for f in "$out"/debs/*%3a*.deb; do [ -e "$f" ] && mv "$f" "$(echo "$f" | sed 's/_[0-9]*%3a/_/')"; done   # no epoch (N%3a) in file names

say "compressing node $(node --version) ($node)"
xz -T0 -6 -c "$node" >"$out/node.xz"
lic=$(dirname "$node")/../share/doc/node/LICENSE
[ -e "$lic" ] || lic=/usr/share/doc/nodejs/LICENSE
if [ -e "$lic" ]; then cp "$lic" "$out/licenses/LICENSE.node"; else say "warning: node's LICENSE not found"; fi

{
  echo "acon-webgpu GPU bundle, built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+changes')"
  echo "node $(node --version), webgpu $(node -p "require('./$w/package.json').version"), debs: $(cd "$out/debs" && ls | tr '\n' ' ')"
  echo "run: bash run.sh OUT_DIR [bench options]"
  (cd "$out" && find . -type f ! -name MANIFEST | sort | while read -r f; do
    printf '%10d  %s  %s\n' "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -c1-16)" "${f#./}"
  done)
} >"$out/MANIFEST"

size=$(du -sb "$out" | cut -f1)
say "$out: $size bytes ($(awk "BEGIN { printf \"%.1f\", $size / 1048576 }") MiB, limit 64 MiB) in $((SECONDS - t0)) s"
[ "$size" -le "$LIMIT" ] || die "the bundle is over 64 MiB"
