#!/usr/bin/env bash
# Regenerates notebooks/NN_*.ipynb from their plain-text sources notebooks/src/NN_*.ts
# (cells split at '// %%' lines). Edit the sources, then run this; a test checks they agree.
set -euo pipefail
cd "$(dirname "$0")/.."
for src in notebooks/src/*.ts; do
  name="$(basename "$src" .ts)"
  python3 scripts/mknb.py "$src" "notebooks/$name.ipynb"
done
