#!/usr/bin/env bash
# The GPU check in one command, for a bare NVIDIA machine (Python and a CUDA PyTorch; no Deno, no
# npm packages, no Vulkan loader, no network):
#
#   bash scripts/gpu/gpu_check.sh [lab bench options]      (or: deno task gpu-check)
#   bash scripts/gpu/gpu_check.sh --report                 (backend reports only)
#
# It unpacks gpu-bundle/ (built here by scripts/gpu/build_bundle.sh) into a temporary folder -
# Deno, a DENO_DIR with tfjs's npm packages, the Vulkan loader - points Deno's WebGPU at the
# NVIDIA Vulkan driver, and runs scripts/gpu/check.ts: the conformance test and the bench on
# webgpu and wasm (shipped model and GPT-2 124M) against the PyTorch CUDA peer. Results:
# bench/results-gpu-<gpu>.json and out/gpu-check/BENCHMARKS.md. Bounded to 8 minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="${DPO_LAB_GPU_BUNDLE:-$ROOT/gpu-bundle}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dpo-lab-gpu-check.XXXXXX")"
LIMIT_S="${DPO_LAB_GPU_CHECK_SECONDS:-470}"
say() { printf '[gpu-check] %s\n' "$*" >&2; }
die() { printf '[gpu-check] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rm -rf "$WORK"' EXIT

[ -f "$BUNDLE/deno.xz" ] && [ -f "$BUNDLE/npm.tar.xz" ] ||
  die "no bundle at $BUNDLE: build it where Deno and the network are (bash scripts/gpu/build_bundle.sh)"
PY="$(command -v python3 || command -v python)" || die "python3 is needed to unpack the bundle"

# Python's lzma and tarfile: no xz or tar binary is assumed.
"$PY" - "$BUNDLE" "$WORK" <<'PY'
import lzma, os, shutil, sys, tarfile
bundle, work = sys.argv[1], sys.argv[2]
with lzma.open(os.path.join(bundle, "deno.xz")) as src, open(os.path.join(work, "deno"), "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod(os.path.join(work, "deno"), 0o755)
with tarfile.open(os.path.join(bundle, "npm.tar.xz")) as t:
    t.extractall(os.path.join(work, "deno_dir"))
# OpenBLAS and libgfortran from their .debs: an ar archive whose data.tar.* holds the files.
import glob, io
for deb in glob.glob(os.path.join(bundle, "debs", "*.deb")):
    if "vulkan" in os.path.basename(deb):
        continue
    raw = open(deb, "rb").read()
    pos = 8  # "!<arch>\n"
    while pos < len(raw):
        name, size = raw[pos:pos + 16].decode().strip().rstrip("/"), int(raw[pos + 48:pos + 58])
        body = raw[pos + 60:pos + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as t:
                t.extractall(os.path.join(work, "sys"))
        pos += 60 + size + (size % 2)
PY
DENO="$WORK/deno"
SYSLIB="$WORK/sys/usr/lib/x86_64-linux-gnu"
if [ -z "${DPO_LAB_OPENBLAS:-}" ] && [ -e "$SYSLIB/openblas-pthread/libopenblas.so.0" ]; then
  export DPO_LAB_OPENBLAS="$SYSLIB/openblas-pthread/libopenblas.so.0"
  # OpenBLAS links libgfortran.so.5; the bundled one only where the system has none.
  ldconfig -p 2>/dev/null | grep -q 'libgfortran\.so\.5' ||
    export LD_LIBRARY_PATH="$SYSLIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "OpenBLAS: bundled ($DPO_LAB_OPENBLAS)"
fi
"$DENO" --version | head -1 >&2 || die "the bundled Deno does not run here"

# Vulkan: the system's loader if there is one, else the bundled one (DPO_LAB_BUNDLED_VULKAN=1
# forces the bundled one, to test it).
if [ "${DPO_LAB_BUNDLED_VULKAN:-}" = 1 ] || ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  VK_LIB="$(dirname "$(find "$BUNDLE/vulkan" -name 'libvulkan.so.1' | head -1)")"
  export LD_LIBRARY_PATH="$VK_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "Vulkan loader: bundled ($VK_LIB)"
fi
# The NVIDIA driver's Vulkan ICD: containers often carry its library without the JSON manifest.
if ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  NV="$(ldconfig -p 2>/dev/null | grep -o '/[^ ]*libGLX_nvidia\.so\.0' | head -1 || true)"
  if [ -n "$NV" ]; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' \
      "$NV" >"$WORK/nvidia_icd.json"
    export VK_ICD_FILENAMES="$WORK/nvidia_icd.json"
    say "Vulkan ICD: wrote a manifest for $NV"
  else
    say "no NVIDIA Vulkan ICD found: webgpu may not start (the wasm figures still run)"
  fi
fi

export DENO_DIR="$WORK/deno_dir" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
export XDG_RUNTIME_DIR="$WORK/xdg" && mkdir -p -m 700 "$XDG_RUNTIME_DIR"
cd "$ROOT"
say "running the check (at most ${LIMIT_S} s)"
timeout --kill-after=10 "$LIMIT_S" "$DENO" run --cached-only --no-lock \
  --config scripts/gpu/config.json -A scripts/gpu/check.ts "$@"
