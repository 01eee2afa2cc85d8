/**
 * The input rows of `lab objectives eval`: each row's sums, lengths and per-token log-probs
 * checked against each other and against what the objective needs, with errors naming the row
 * and field.
 *
 * @module
 */
import type { Objective } from "../../lib/objectives/mod.ts";
import { InputError } from "./objectives_errors.ts";

const REF = ["ref_chosen", "ref_rejected"] as const;
/**
 * Per-token row fields and the `TokenScores` field each fills, by side.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TOKEN_FIELDS } from "./objectives_rows.ts";
 * assert.deepEqual(TOKEN_FIELDS.ref_chosen_tokens, ["chosen", "refChosen"]);
 * ```
 */
export const TOKEN_FIELDS = {
  policy_chosen_tokens: ["chosen", "policyChosen"],
  ref_chosen_tokens: ["chosen", "refChosen"],
  kl_chosen_tokens: ["chosen", "klChosen"],
  chosen_logsumsq_tokens: ["chosen", "chosenLogSumSquares"],
  policy_rejected_tokens: ["rejected", "policyRejected"],
  ref_rejected_tokens: ["rejected", "refRejected"],
  kl_rejected_tokens: ["rejected", "klRejected"],
  rejected_logsumsq_tokens: ["rejected", "rejectedLogSumSquares"],
} as const;
/** A per-token row field. */
export type TokenField = keyof typeof TOKEN_FIELDS;
/** Each summed field and the token field it can be computed from. */
const SUMS = [
  ["policy_chosen", "policy_chosen_tokens"],
  ["policy_rejected", "policy_rejected_tokens"],
  ["ref_chosen", "ref_chosen_tokens"],
  ["ref_rejected", "ref_rejected_tokens"],
] as const;

/** One validated input row: sums and lengths always filled in, token arrays as given. */
export interface Row {
  policy_chosen: number;
  policy_rejected: number;
  ref_chosen?: number;
  ref_rejected?: number;
  chosen_length: number;
  rejected_length: number;
  kl_policy?: number;
  kl_ref?: number;
  tokens: Partial<Record<TokenField, number[]>>;
}

function numberField(at: string, f: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new InputError(`${at}: field '${f}' must be a finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function tokenArray(at: string, f: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new InputError(`${at}: field '${f}' must be a non-empty array of numbers`);
  }
  v.forEach((x, k) => {
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new InputError(
        `${at}: field '${f}'[${k}] must be a finite number, got ${JSON.stringify(x)}`,
      );
    }
  });
  return v as number[];
}

/** A side's length: the stated one, checked against every token array of that side. */
function sideLength(
  at: string,
  r: Record<string, unknown>,
  side: "chosen" | "rejected",
  tokens: Partial<Record<TokenField, number[]>>,
): number {
  const f = `${side}_length`;
  const stated = f in r && r[f] !== undefined ? numberField(at, f, r[f]) : undefined;
  if (stated !== undefined && !(stated > 0)) {
    throw new InputError(`${at}: field '${f}' must be a positive token count, got ${stated}`);
  }
  let n = stated;
  for (const [tf_, arr] of Object.entries(tokens)) {
    if (TOKEN_FIELDS[tf_ as TokenField][0] !== side) continue;
    if (n === undefined) n = arr.length;
    else if (arr.length !== n) {
      throw new InputError(
        `${at}: field '${tf_}' has ${arr.length} entries, but ${
          stated !== undefined ? `'${f}' is ${stated}` : `other ${side} token fields have ${n}`
        }`,
      );
    }
  }
  if (n === undefined) {
    throw new InputError(`${at}: field '${f}' is missing (or give ${side} token arrays)`);
  }
  return n;
}

function validateRow(row: unknown, at: string, obj: Objective): Row {
  if (typeof row !== "object" || row === null || Array.isArray(row)) {
    throw new InputError(`${at}: expected an object`);
  }
  const r = row as Record<string, unknown>;
  const tokens: Partial<Record<TokenField, number[]>> = {};
  for (const f of Object.keys(TOKEN_FIELDS) as TokenField[]) {
    if (f in r && r[f] !== undefined) tokens[f] = tokenArray(at, f, r[f]);
  }
  const out: Record<string, unknown> = {
    chosen_length: sideLength(at, r, "chosen", tokens),
    rejected_length: sideLength(at, r, "rejected", tokens),
    tokens,
  };
  const wantRef = obj.needsReference;
  for (const [f, tf_] of SUMS) {
    const given = f in r && r[f] !== undefined ? numberField(at, f, r[f]) : undefined;
    const arr = tokens[tf_];
    const sum = arr?.reduce((a, b) => a + b, 0);
    if (
      given !== undefined && sum !== undefined &&
      Math.abs(given - sum) > 1e-6 * Math.max(1, Math.abs(sum))
    ) {
      throw new InputError(`${at}: field '${f}' is ${given} but '${tf_}' sums to ${sum}`);
    }
    const v = given ?? sum;
    const isRef = (REF as readonly string[]).includes(f);
    if (v === undefined) {
      if (!isRef || wantRef) {
        throw new InputError(
          `${at}: field '${f}' (or '${tf_}') is missing (objective ${obj.name} needs it)`,
        );
      }
      continue;
    }
    out[f] = v;
  }
  for (const f of ["kl_policy", "kl_ref"]) {
    if (f in r && r[f] !== undefined) out[f] = numberField(at, f, r[f]);
  }
  if (("kl_policy" in out) !== ("kl_ref" in out)) {
    throw new InputError(`${at}: fields 'kl_policy' and 'kl_ref' must be given together`);
  }
  if (obj.needsTokens) {
    const need: TokenField[] = ["policy_chosen_tokens", "policy_rejected_tokens"];
    if (wantRef) need.push("ref_chosen_tokens", "ref_rejected_tokens");
    for (const f of need) {
      if (!tokens[f]) {
        throw new InputError(
          `${at}: field '${f}' is missing (objective ${obj.name} reads per-token log-probs)`,
        );
      }
    }
  }
  return out as unknown as Row;
}

/**
 * The rows of `data` (a JSON array) checked for `obj`; `where` names the input in errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dpo } from "../../lib/objectives/mod.ts";
 * import { validateRows } from "./objectives_rows.ts";
 * const row = { policy_chosen_tokens: [-1, -2], policy_rejected: -4, ref_chosen: -3,
 *   ref_rejected: -4, rejected_length: 3 };
 * const [r] = validateRows([row], "input", dpo());
 * assert.equal(r.policy_chosen, -3);
 * assert.equal(r.chosen_length, 2);
 * assert.throws(() => validateRows([{}], "input", dpo()), /input row\[0\]: field 'chosen_length'/);
 * ```
 */
export function validateRows(data: unknown, where: string, obj: Objective): Row[] {
  if (!Array.isArray(data)) throw new InputError(`${where}: expected a JSON array of rows`);
  return data.map((row, i) => validateRow(row, `${where} row[${i}]`, obj));
}
