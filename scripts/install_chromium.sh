#!/usr/bin/env bash
# Installs Debian's `chromium` package, which lib/plot uses (headless) to export figures as PNG.
# Idempotent: does nothing when a chromium binary is already on PATH.
# Usage (as root):  bash scripts/install_chromium.sh
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "chromium already installed: $(chromium --version 2>/dev/null || command -v chromium)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install_chromium.sh: installing a Debian package needs root." >&2
  echo "Run:  sudo bash scripts/install_chromium.sh   (or: sudo apt-get install -y chromium)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# Fonts matter for PNGs: without any, headless chromium renders axis labels as boxes.
apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-liberation
echo "chromium installed: $(chromium --version 2>/dev/null || command -v chromium)"
