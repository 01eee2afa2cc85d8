#!/usr/bin/env bash
# dpo-lab entry point. Every subcommand first runs the idempotent set-up (scripts/setup.sh).
#   ./lab.sh studies [--smoke] [--out DIR] [NN ...]  run the studies headless, reports in out/studies/
#   ./lab.sh test                        run the whole test suite; ends with "N passed, N failed"
#   ./lab.sh notebook [ARGS...]          start Jupyter Notebook (localhost, token) with this clone's kernel
#   ./lab.sh cli ARGS...                 the library's CLI (same as: deno task lab ARGS...)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
cmd="${1:-help}"
[ $# -gt 0 ] && shift
case "$cmd" in
  notebook) exec bash scripts/jupyter.sh "$@" ;;
  studies|test|cli|setup) source scripts/setup.sh ;;
  *) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
case "$cmd" in
  setup) echo "set-up complete: $(deno --version | head -1)" ;;
  studies) exec deno run -A scripts/studies.ts "$@" ;;
  test) exec bash scripts/test.sh "$@" ;;
  cli) exec deno run -A tools/cli.ts "$@" ;;
esac
