#!/usr/bin/env bash
# acon-webgpu's GPU run, from the offline bundle that scripts/gpu-bundle.sh builds (this file is its
# run.sh), on a bare x86-64 Linux machine with a Vulkan GPU driver: no network, nothing installed.
#
#   bash run.sh OUT_DIR [bench options]
#       the adapter, the validation report (every GPU kernel vs the float64 CPU reference) and the
#       benchmarks of the kernel families (default --ops aconC,metaAconC at the default shapes; options
#       given here are added, a repeated one wins), written to OUT_DIR/report.json, OUT_DIR/bench.json
#       and OUT_DIR/run.log (everything printed). Exit status 0 when every step passed.
#   bash run.sh --cli info|report|bench [options]
#       one command of the command line (node/cli.ts) in the same environment.
#
# What it does: unpacks Node, Dawn (dawn.node) and the Vulkan loader packages (.deb) into a temporary
# directory; puts the bundled loader libvulkan.so.1 first on LD_LIBRARY_PATH (the glvnd/X11 libraries
# that NVIDIA's driver links against only where the system lacks them); points Vulkan at the NVIDIA
# driver: its nvidia_icd.json where the system has one (/usr/share/vulkan/icd.d, /etc/vulkan/icd.d,
# /usr/local/nvidia/share/vulkan/icd.d, …), else a manifest written for libGLX_nvidia.so.0 where that
# library exists. The kernels pick their tuning from the adapter (GPU tuning on a GPU).
#
# Environment:
#   VK_ICD_FILENAMES / VK_DRIVER_FILES   a Vulkan driver to use instead (CI: Chromium's SwiftShader)
#   ACON_VK_DEBUG=1                      the Vulkan loader says which drivers it finds and loads
#   ACON_INFO_TIMEOUT, ACON_REPORT_TIMEOUT, ACON_BENCH_TIMEOUT   per-step limits in s (30, 90, 170:
#                                        under 5 minutes in all)
#   ACON_NODE=/path/to/node              a node ≥ 20 to use instead of the bundled one
#   ACON_KEEP=1                          keep the temporary directory
# Needs: x86-64, glibc ≥ 2.34 and libstdc++ with GLIBCXX_3.4.30 (dawn.node), xz or python3 (to unpack),
# dpkg-deb or python3 (to unpack the .debs), coreutils.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "[run.sh] $*"; }
die() { echo "[run.sh] error: $*" >&2; exit 2; }

usage="usage: bash $0 OUT_DIR [bench options] | bash $0 --cli info|report|bench [options]"
[ $# -ge 1 ] || die "$usage"
mode=all
if [ "$1" = --cli ]; then mode=cli; shift; [ $# -ge 1 ] || die "$usage"
else out=$1; shift; mkdir -p "$out" || die "cannot create $out"; out=$(cd "$out" && pwd); fi

# --- unpacking ----------------------------------------------------------------------------------
unxz_to() { # unxz_to SRC.xz DST: xz, or Python's lzma where xz is absent
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" >"$2"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  else die "neither xz nor python3 found: cannot unpack $1"; fi
}
unpack_deb() { # unpack_deb FILE.deb DIR: dpkg-deb, or Python (a .deb is an ar archive holding data.tar.*)
  if command -v dpkg-deb >/dev/null 2>&1; then dpkg-deb -x "$1" "$2"
  elif command -v python3 >/dev/null 2>&1; then
    python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
deb, dest = sys.argv[1:]
with open(deb, 'rb') as f:
    assert f.read(8) == b'!<arch>\n', deb + ' is not a .deb'
    while True:
        head = f.read(60)
        if len(head) < 60:
            sys.exit(deb + ': no data.tar member')
        name, size = head[:16].decode().strip().rstrip('/'), int(head[48:58])
        data = f.read(size)
        f.read(size % 2)
        if name.startswith('data.tar'):
            with tarfile.open(fileobj=io.BytesIO(data)) as t:
                try:
                    t.extractall(dest, filter='tar')
                except TypeError:  # Python < 3.12
                    t.extractall(dest)
            break
PY
  else die "neither dpkg-deb nor python3 found: cannot unpack $1"; fi
}

setup() {
  [ "$(uname -m)" = x86_64 ] || die "this bundle is for x86-64 Linux (here: $(uname -s) $(uname -m))"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/acon-gpu.XXXXXX") || die "mktemp failed"
  [ -n "${ACON_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
  local t0=$SECONDS
  # the command line and npm webgpu (index.js + the linux-x64 dawn.node), as node_modules/webgpu beside it
  cp -R "$here/app" "$WORK/app" || die "cannot copy $here/app"
  local addon="$WORK/app/node_modules/webgpu/dist/linux-x64/dawn.node"
  if [ -e "$addon.xz" ]; then unxz_to "$addon.xz" "$addon" && rm -f "$addon.xz" || die "cannot unpack dawn.node"; fi
  # node
  if [ -n "${ACON_NODE:-}" ]; then NODE=$ACON_NODE
  else NODE="$WORK/node"; unxz_to "$here/node.xz" "$NODE" && chmod +x "$NODE" || die "cannot unpack node"; fi
  # the Vulkan loader (always used) and the libraries NVIDIA's driver needs (used where missing)
  local deb
  for deb in "$here"/debs/*.deb; do
    case "$(basename "$deb")" in
      libvulkan1_*) unpack_deb "$deb" "$WORK/vulkan" || die "cannot unpack $deb" ;;
      *) unpack_deb "$deb" "$WORK/nvdeps" || die "cannot unpack $deb" ;;
    esac
  done
  local vkdir="$WORK/vulkan/usr/lib/x86_64-linux-gnu"
  [ -e "$vkdir/libvulkan.so.1" ] || die "the bundle has no libvulkan1 package"
  say "unpacked node, dawn.node and $(ls "$here"/debs/*.deb | wc -l) packages into $WORK in $((SECONDS - t0)) s"

  local ldcache
  ldcache=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null)
  # dawn.node needs glibc ≥ 2.34 and GLIBCXX_3.4.30 (gcc 12's libstdc++): say so before it fails to load
  local glibc cxx
  glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | cut -d' ' -f2)
  case "$glibc" in 2.[0-9] | 2.[12][0-9] | 2.3[0-3]) say "warning: glibc $glibc here; dawn.node needs ≥ 2.34 and will not load" ;; esac
  cxx=$(printf '%s\n' "$ldcache" | sed -n 's/^[[:space:]]*libstdc++\.so\.6 .*=> //p' | head -1)
  if [ -n "$cxx" ] && ! grep -qa GLIBCXX_3.4.30 "$cxx"; then say "warning: $cxx lacks GLIBCXX_3.4.30; dawn.node needs gcc 12's libstdc++ or newer"; fi
  has_lib() { # on the linker's search path already (cache or LD_LIBRARY_PATH)?
    printf '%s\n' "$ldcache" | grep -q "^[[:space:]]*$1 " && return 0
    local d; local IFS=:
    for d in ${LD_LIBRARY_PATH:-}; do [ -e "$d/$1" ] && return 0; done
    return 1
  }
  local libs="$vkdir" nvlib= d l
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu; do
    if [ -e "$d/libGLX_nvidia.so.0" ]; then
      nvlib="$d/libGLX_nvidia.so.0"
      has_lib libGLX_nvidia.so.0 || libs="$libs:$d"
      break
    fi
  done
  local missing=
  for l in libGLdispatch.so.0 libX11.so.6 libXext.so.6 libxcb.so.1 libXau.so.6 libXdmcp.so.6 libbsd.so.0 libmd.so.0; do
    has_lib "$l" || missing="$missing $l"
  done
  [ -z "$missing" ] || libs="$libs:$WORK/nvdeps/usr/lib/x86_64-linux-gnu:$WORK/nvdeps/lib/x86_64-linux-gnu"
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  [ -z "$missing" ] || say "from the bundle (missing here):$missing"

  # --- which Vulkan driver (ICD) ---
  if [ -n "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
    say "Vulkan driver as set: ${VK_DRIVER_FILES:-$VK_ICD_FILENAMES}"
  else
    local icd= f
    for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json \
      /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/local/share/vulkan/icd.d/nvidia_icd*.json \
      /usr/local/nvidia/icd.d/nvidia_icd*.json; do
      [ -e "$f" ] && { icd=$f; break; }
    done
    if [ -z "$icd" ] && [ -n "$nvlib" ]; then
      # the driver's library is there but not its manifest (a container given compute/utility only)
      icd="$WORK/nvidia_icd.json"
      printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$nvlib" >"$icd"
      say "no nvidia_icd.json found: wrote $icd for $nvlib"
    fi
    if [ -n "$icd" ]; then
      export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
      say "Vulkan driver: NVIDIA ($icd)"
    else
      say "warning: no NVIDIA Vulkan driver found (nvidia_icd.json, libGLX_nvidia.so.0): the loader's own search decides"
    fi
  fi
  [ -z "${ACON_VK_DEBUG:-}" ] || export VK_LOADER_DEBUG=error,warn,driver
  say "node $("$NODE" --version 2>&1) ($NODE); LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
}

cli() { "$NODE" "$WORK/app/acon-node.mjs" "$@"; }

# One step: runs the command line under a time limit; prints and records how it ended.
step() { # step NAME LIMIT_S args…
  local name=$1 limit=$2 t0=$SECONDS rc
  shift 2
  say "--- $name (limit ${limit} s): acon-node $*"
  timeout --kill-after=10 "$limit" "$NODE" "$WORK/app/acon-node.mjs" "$@"
  rc=$?
  [ $rc -ne 124 ] && [ $rc -ne 137 ] || say "$name: stopped at its ${limit} s limit"
  say "$name: exit $rc in $((SECONDS - t0)) s"
  summary="$summary $name=$rc($((SECONDS - t0))s)"
  [ $rc -eq 0 ] || status=${status:-$rc}
  return $rc
}

main() {
  local t0=$SECONDS
  summary= status=
  say "acon-webgpu GPU run, $(date -u +%Y-%m-%dT%H:%M:%SZ), bundle $here"
  say "machine: $(uname -srm); glibc $(getconf GNU_LIBC_VERSION 2>/dev/null | cut -d' ' -f2)"
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>&1 | sed 's/^/[run.sh] /'
  [ -e "$here/MANIFEST" ] && sed -n '1,3p' "$here/MANIFEST" | sed 's/^/[run.sh] /'
  setup
  if ! step info "${ACON_INFO_TIMEOUT:-30}" info; then
    [ "${status:-}" != 3 ] || {
      say "no adapter: the same once more with the Vulkan loader's messages"
      VK_LOADER_DEBUG=error,warn,driver timeout 30 "$NODE" "$WORK/app/acon-node.mjs" info
      say "summary:$summary; total $((SECONDS - t0)) s"
      return 3
    }
  fi
  step report "${ACON_REPORT_TIMEOUT:-90}" report --json "$out/report.json"
  step bench "${ACON_BENCH_TIMEOUT:-170}" bench --ops aconC,metaAconC --json "$out/bench.json" "$@"
  say "summary:$summary; total $((SECONDS - t0)) s; wrote $(cd "$out" && ls report.json bench.json 2>/dev/null | tr '\n' ' ')run.log to $out"
  return "${status:-0}"
}

if [ "$mode" = cli ]; then
  setup
  cli "$@"
  exit $?
fi
main "$@" 2>&1 | tee "$out/run.log"
exit "${PIPESTATUS[0]}"
