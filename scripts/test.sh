#!/usr/bin/env bash
# The whole test suite: format, lint and type checks, the unit tests, the JSDoc examples of lib/
# (deno test --doc), and the execution of every
# notebook in smoke mode (tests/notebooks_test.ts). Prints "N passed, N failed" last. Only tests
# that can fail on a wrong value are counted as passed: JSDoc examples that only print their
# values run (and fail if they throw) but are not counted (scripts/doc_counts.ts).
# Assumes scripts/setup.sh ran (./lab.sh test does that).
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0
failed=0
check() {
  local name="$1"; shift
  local log
  log="$(mktemp)"
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; tail -n 40 "$log"
  fi
  rm -f "$log"
}
check "deno fmt --check" deno fmt --check
check "deno lint" deno lint
check "deno check" deno check lib/ tools/ tests/ scripts/ notebooks/

export DPO_LAB_SMOKE="${DPO_LAB_SMOKE:-1}"
# Plain output: the summary line below is parsed.
export NO_COLOR=1
log="$(mktemp)"
deno test -A --no-prompt --doc tests/ lib/ tools/ 2>&1 | tee "$log"
summary="$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)"
grep -E '\.\.\. FAILED' "$log" | sed 's/^/FAIL /' > "$log.failed" || true
if [ -n "$summary" ]; then
  p="$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")"
  f="$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")"
  # JSDoc examples that pass but only print their values cannot fail on a wrong value: they ran
  # (a throw still fails them) but are not counted as passed tests (scripts/doc_counts.ts).
  read -r print_only asserting < <(deno run -A scripts/doc_counts.ts < "$log")
  print_only="${print_only:-0}"
  p=$((p - print_only))
  passed=$((passed + p)); failed=$((failed + f))
else
  # deno test died before its summary (e.g. a module failed to load): count that as a failure.
  failed=$((failed + 1)); echo "FAIL deno test: no summary line"
fi
rm -f "$log"
[ -n "${print_only:-}" ] && echo "JSDoc examples: ${asserting} assert their values (counted), ${print_only} only print them (ran, not counted)"
echo
if [ -s "$log.failed" ]; then echo "failed tests:"; cat "$log.failed"; fi
rm -f "$log.failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
