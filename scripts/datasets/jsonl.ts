/**
 * Shared helpers of the dataset scripts: JSONL text and a tiny argument parser.
 *
 * @module
 */

/** One JSON object per line, keys in insertion order, final newline. */
export function toJsonl(rows: readonly Record<string, unknown>[]): string {
  return rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
}

/** Read `--seed N` and `--out PATH` from the arguments, with defaults. */
export function scriptArgs(
  args: readonly string[],
  defaults: { seed: number; out: string },
): { seed: number; out: string } {
  const out = { ...defaults };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--seed") out.seed = Number(args[++i]);
    else if (args[i] === "--out") out.out = args[++i];
    else throw new TypeError(`unknown argument '${args[i]}' (expected --seed N, --out PATH)`);
  }
  if (!Number.isInteger(out.seed)) throw new RangeError(`--seed: expected an integer`);
  return out;
}
