#!/usr/bin/env bash
# Regenerates notebooks/NN_*.ipynb from their plain-text sources notebooks/NN_*.ts (beside them, so relative imports resolve the same)
# (cells split at '// %%' lines). Edit the sources, then run this; a test checks they agree.
set -euo pipefail
cd "$(dirname "$0")/.."
for src in notebooks/[0-9][0-9]_*.ts; do
  name="$(basename "$src" .ts)"
  python3 scripts/mknb.py "$src" "notebooks/$name.ipynb"
done
