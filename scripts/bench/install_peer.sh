#!/usr/bin/env bash
# Installs the PyTorch peer of `lab bench` (optional: the library, its tests and the studies do
# not need it). Debian's python3-torch installs for /usr/bin/python3 -- not for a pyenv python3
# that may come first on PATH -- so the bench calls /usr/bin/python3 explicitly.
#
# Debian's torch links whatever libblas.so.3 the alternatives system provides. Without an
# optimised BLAS that is the reference implementation, whose float32 matrix products ran at
# about 1.6 GFLOPS on a 512x512 product on the 2-core benchmark machine against about 11 with
# OpenBLAS: a peer on reference BLAS would make any comparison flatter us. So OpenBLAS (the
# OpenMP build, which shares torch's OpenMP thread pool) is installed with it.
set -euo pipefail
PACKAGES=(python3-torch libopenblas0-openmp)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install_peer: run as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
/usr/bin/python3 "$(dirname "$0")/torch_peer.py" --probe
