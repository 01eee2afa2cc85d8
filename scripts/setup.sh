#!/usr/bin/env bash
# Idempotent set-up for dpo-lab. Sourced by ./lab.sh; safe to run on its own.
# Installs, each only when missing: Deno (npm package `deno`, pinned, into .tools/), Debian's
# Jupyter parts, Mesa's Vulkan driver and OpenBLAS (apt), the Deno Jupyter kernel, the npm dependencies.
set -euo pipefail

DENO_VERSION="2.9.6"
APT_PACKAGES=(jupyter-nbconvert python3-nbclient jupyter-notebook mesa-vulkan-drivers libvulkan1)
# Chromium renders figures to PNG and screenshots reports; the plot tests and the main job use it.
APT_PACKAGES+=(chromium)
# OpenBLAS (the pthread build) runs wasm's matrix products through Deno's FFI (lib/kernels/blas.ts);
# without it they stay on XNNPACK, 3-10x slower, and the backend report says so.
APT_PACKAGES+=(libopenblas0-pthread)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
DENO="$TOOLS/node_modules/.bin/deno"
export PATH="$TOOLS/node_modules/.bin:$PATH"
# Mesa warns on every start without a runtime dir; a private one is enough.
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -w "${XDG_RUNTIME_DIR:-/nonexistent}" ]; then
  export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/dpo-lab-runtime-$(id -u)"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

need_cmd() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not installed. $2"; }

install_deno() {
  if [ -x "$DENO" ] && "$DENO" --version 2>/dev/null | head -1 | grep -q "deno $DENO_VERSION "; then
    return
  fi
  need_cmd npm "Install Node.js with npm (Debian: apt-get install -y nodejs npm)."
  say "installing Deno $DENO_VERSION from the npm package 'deno' into .tools/"
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error --prefix "$TOOLS" "deno@$DENO_VERSION" >/dev/null) ||
    die "npm install deno@$DENO_VERSION failed (run it by hand: cd $TOOLS && npm install deno@$DENO_VERSION)"
  "$DENO" --version >/dev/null || die "installed Deno does not run: $DENO"
}

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]}. Run as root:
    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install failed; run: apt-get install -y --no-install-recommends ${missing[*]}"
}

install_kernel() {
  local spec="${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}/kernels/deno/kernel.json"
  if [ -f "$spec" ] && grep -q "\"$DENO\"" "$spec"; then return; fi
  say "installing the Deno Jupyter kernel (deno jupyter --install)"
  "$DENO" jupyter --install --force >/dev/null 2>&1 || die "deno jupyter --install failed"
}

install_npm_deps() {
  # deno.lock pins every npm package; a second run finds them all cached and does nothing.
  (cd "$ROOT" && "$DENO" install --quiet) || die "deno install failed (npm dependencies of deno.json)"
}

install_deno
install_apt
install_kernel
install_npm_deps
