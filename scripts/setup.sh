#!/usr/bin/env bash
# Idempotent set-up for dpo-lab. Sourced by ./lab.sh; safe to run on its own.
# Installs, each only when missing: Deno (npm package `deno`, pinned, into .tools/), Debian's
# Jupyter parts, Mesa's Vulkan driver and OpenBLAS (apt), the Deno Jupyter kernel (a clone-local kernelspec),
# the npm dependencies. Exports JUPYTER_PATH so that Jupyter finds that kernelspec first.
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

# The kernelspec lives inside this clone (.tools/jupyter/kernels/deno), not in the user's global
# Jupyter folder: a global spec points at whichever clone ran set-up last. JUPYTER_PATH is searched
# before every other folder, so the exported path below makes Jupyter started from here (lab.sh,
# deno task jupyter, the notebook runner) pick this clone's Deno. `deno jupyter --install` writes
# only to the global folder whatever JUPYTER_DATA_DIR says, so the spec is written here directly.
JUPYTER_HOME="$TOOLS/jupyter"
export JUPYTER_PATH="$JUPYTER_HOME${JUPYTER_PATH:+:$JUPYTER_PATH}"

install_kernel() {
  local dir="$JUPYTER_HOME/kernels/deno"
  local want
  want="$(printf '{\n  "argv": ["%s", "jupyter", "--kernel", "--conn", "{connection_file}"],\n  "display_name": "Deno (dpo-lab)",\n  "language": "typescript"\n}\n' "$DENO")"
  if [ -f "$dir/kernel.json" ] && [ "$(cat "$dir/kernel.json")" = "$want" ]; then return; fi
  say "writing the Deno Jupyter kernelspec for this clone into ${dir#"$ROOT"/}"
  mkdir -p "$dir" && printf '%s\n' "$want" >"$dir/kernel.json" || die "cannot write $dir/kernel.json"
}

install_npm_deps() {
  # deno.lock pins every npm package; a second run finds them all cached and does nothing.
  (cd "$ROOT" && "$DENO" install --quiet) || die "deno install failed (npm dependencies of deno.json)"
}

install_deno
install_apt
install_kernel
install_npm_deps
