/**
 * The flag parser shared by the commands whose arguments are `--name value` pairs and bare
 * switches: unknown names and missing values are refused with the command's usage, so a typo
 * never runs a long job with a default the user did not mean.
 *
 * @module
 */

/** Parsed arguments: values by flag name, the switches given, and checked accessors. */
export interface ParsedFlags {
  /** The value given for `flag`, or undefined. */
  get(flag: string): string | undefined;
  /** The value given for `flag`; a TypeError naming it (with the usage) when absent. */
  need(flag: string): string;
  /** The value of `flag` as an integer >= `min`, or undefined when absent; a RangeError otherwise. */
  int(flag: string, min: number): number | undefined;
  /** Whether the bare switch `flag` was given. */
  has(flag: string): boolean;
}

/**
 * Parse `args` against the accepted value flags and switches; `usage` is appended to the errors
 * for an unknown or a missing required flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./flags.ts";
 * const spec = { flags: ["--out", "--n"], switches: ["--force"], usage: "usage: x" };
 * const f = parseFlags(["--n", "3", "--force"], spec);
 * assert.equal(f.int("--n", 1), 3);
 * assert.equal(f.has("--force"), true);
 * assert.equal(f.get("--out"), undefined);
 * assert.throws(() => f.need("--out"), /--out is required/);
 * assert.throws(() => parseFlags(["--n", "0"], spec).int("--n", 1), /integer >= 1, got '0'/);
 * assert.throws(() => parseFlags(["--bad"], spec), /unknown argument '--bad'/);
 * assert.throws(() => parseFlags(["--out", "--force"], spec), /--out needs a value/);
 * ```
 */
export function parseFlags(
  args: readonly string[],
  spec: { flags: readonly string[]; switches: readonly string[]; usage: string },
): ParsedFlags {
  const got = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (spec.switches.includes(flag)) {
      switches.add(flag);
      continue;
    }
    if (!spec.flags.includes(flag)) {
      throw new TypeError(`unknown argument '${flag}'\n${spec.usage}`);
    }
    const v = args[++i];
    if (v === undefined || v.startsWith("--")) throw new TypeError(`${flag} needs a value`);
    got.set(flag, v);
  }
  return {
    get: (flag) => got.get(flag),
    need(flag) {
      const v = got.get(flag);
      if (v === undefined) throw new TypeError(`${flag} is required\n${spec.usage}`);
      return v;
    },
    int(flag, min) {
      const v = got.get(flag);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        throw new RangeError(`${flag} must be an integer >= ${min}, got '${v}'`);
      }
      return n;
    },
    has: (flag) => switches.has(flag),
  };
}

/**
 * The value after `flag` in `args`, or undefined when `flag` is absent; a TypeError when the
 * flag is last or followed by another flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagValue } from "./flags.ts";
 * assert.equal(flagValue(["--out", "dir"], "--out"), "dir");
 * assert.equal(flagValue([], "--out"), undefined);
 * assert.throws(() => flagValue(["--out", "--force"], "--out"), /--out needs a value/);
 * ```
 */
export function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) throw new TypeError(`${flag} needs a value`);
  return v;
}

/**
 * Refuse any `--name` in `args` that `known` lacks; `known[name]` says whether it takes a value
 * (which is then skipped). Bare words (file names) pass.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFlags } from "./flags.ts";
 * checkFlags(["file.json", "--out", "dir", "--force"], { "--out": true, "--force": false });
 * assert.throws(() => checkFlags(["--bad"], { "--out": true }), /unknown option --bad/);
 * ```
 */
export function checkFlags(args: string[], known: Record<string, boolean>): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) continue;
    if (!(a in known)) throw new TypeError(`unknown option ${a}`);
    if (known[a]) i++;
  }
}
