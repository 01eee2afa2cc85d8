#!/usr/bin/env bash
# Starts Jupyter Notebook on this clone's notebooks with this clone's Deno kernel, for interactive
# work: ./lab.sh notebook [ARGS...] and deno task jupyter [ARGS...] both land here. Runs the
# idempotent set-up first (it writes the clone-local kernelspec and exports JUPYTER_PATH).
# The server listens on localhost only and asks for a token (printed in the URL it logs), also
# when run as root, where Jupyter needs --allow-root. Extra ARGS go to `jupyter notebook`
# (e.g. --port 8899 --no-browser); ones that would open the server to others are refused.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"

for a in "$@"; do
  case "$a" in
    --ip|--ip=*|--NotebookApp.ip*|--NotebookApp.token*|--NotebookApp.password*|--NotebookApp.allow_remote_access*)
      echo "scripts/jupyter.sh: refusing '$a': the server stays on localhost with a token" >&2
      exit 2 ;;
  esac
done

args=(
  notebook
  --notebook-dir="$ROOT/notebooks"
  --ip=localhost
  --KernelSpecManager.allowed_kernelspecs=deno
  --MappingKernelManager.default_kernel_name=deno
)
# Jupyter refuses to start as root without this flag; the token and localhost binding still hold.
[ "$(id -u)" -eq 0 ] && args+=(--allow-root)
exec jupyter "${args[@]}" "$@"
