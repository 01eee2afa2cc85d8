/**
 * `lab objectives eval`'s validated rows as the tensors an objective reads: sequence sums and
 * lengths, and (token-level objectives) zero-padded per-token matrices with their masks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SequenceScores, TokenScores } from "../../lib/core/mod.ts";
import type { Objective } from "../../lib/objectives/mod.ts";
import { InputError } from "./objectives_errors.ts";
import { type Row, TOKEN_FIELDS, type TokenField } from "./objectives_rows.ts";

/** `[B, T]` tensors of one token field, zero-padded, and the side's mask. */
function tokenMatrix(rows: Row[], f: TokenField, width: number): tf.Tensor2D {
  return tf.tensor2d(
    rows.map((r) => {
      const v = r.tokens[f]!;
      return [...v, ...Array(width - v.length).fill(0)];
    }),
    [rows.length, width],
  );
}

function tokenScores(rows: Row[], where: string): TokenScores {
  const tw = Math.max(...rows.map((r) => r.chosen_length));
  const tl = Math.max(...rows.map((r) => r.rejected_length));
  const mask = (len: (r: Row) => number, t: number) =>
    tf.tensor2d(rows.map((r) => Array.from({ length: t }, (_, k) => (k < len(r) ? 1 : 0))));
  const out: TokenScores = {
    policyChosen: tokenMatrix(rows, "policy_chosen_tokens", tw),
    policyRejected: tokenMatrix(rows, "policy_rejected_tokens", tl),
    chosenMask: mask((r) => r.chosen_length, tw),
    rejectedMask: mask((r) => r.rejected_length, tl),
  };
  for (
    const [f, [side, key]] of Object.entries(TOKEN_FIELDS) as [
      TokenField,
      readonly [string, string],
    ][]
  ) {
    if (key === "policyChosen" || key === "policyRejected") continue;
    const have = rows.filter((r) => r.tokens[f]).length;
    if (have === 0) continue;
    if (have < rows.length) {
      throw new InputError(
        `${where}: field '${f}' must be given in every row of the batch or none`,
      );
    }
    (out as unknown as Record<string, tf.Tensor2D>)[key] = tokenMatrix(
      rows,
      f,
      side === "chosen" ? tw : tl,
    );
  }
  return out;
}

/**
 * The scores of `rows` for `obj` (token matrices only when it reads tokens); dispose them with
 * {@link disposeScores}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dpo } from "../../lib/objectives/mod.ts";
 * import { validateRows } from "./objectives_rows.ts";
 * import { disposeScores, toScores } from "./objectives_scores.ts";
 * const rows = validateRows([{ policy_chosen: -1, policy_rejected: -2, ref_chosen: -1,
 *   ref_rejected: -2, chosen_length: 1, rejected_length: 1 }], "input", dpo());
 * const s = toScores(rows, dpo(), "input");
 * assert.deepEqual(Array.from(s.policyRejected.dataSync()), [-2]);
 * disposeScores(s);
 * ```
 */
export function toScores(rows: Row[], obj: Objective, where: string): SequenceScores {
  const col = (
    f:
      | "policy_chosen"
      | "policy_rejected"
      | "ref_chosen"
      | "ref_rejected"
      | "chosen_length"
      | "rejected_length"
      | "kl_policy"
      | "kl_ref",
  ) => tf.tensor1d(rows.map((r) => r[f] as number));
  const s: SequenceScores = {
    policyChosen: col("policy_chosen"),
    policyRejected: col("policy_rejected"),
    chosenLength: col("chosen_length"),
    rejectedLength: col("rejected_length"),
  };
  if (rows.every((r) => r.ref_chosen !== undefined && r.ref_rejected !== undefined)) {
    s.refChosen = col("ref_chosen");
    s.refRejected = col("ref_rejected");
  }
  if (rows.every((r) => r.kl_policy !== undefined)) {
    s.kl = { policy: col("kl_policy"), ref: col("kl_ref") };
  }
  if (obj.needsTokens) {
    try {
      s.tokens = tokenScores(rows, where);
    } catch (e) {
      disposeScores(s);
      throw e;
    }
  }
  return s;
}

/**
 * Dispose every tensor of `s`, token matrices included.
 *
 * @example
 * ```ts ignore
 * const scores = toScores(rows, obj, "input");
 * try { await gradientWeightsAsync(obj, scores); } finally { disposeScores(scores); }
 * ```
 */
export function disposeScores(s: SequenceScores): void {
  const ts: tf.Tensor[] = [s.policyChosen, s.policyRejected, s.chosenLength, s.rejectedLength];
  if (s.refChosen) ts.push(s.refChosen);
  if (s.refRejected) ts.push(s.refRejected);
  if (s.kl) ts.push(s.kl.policy, s.kl.ref);
  if (s.tokens) ts.push(...(Object.values(s.tokens) as tf.Tensor[]));
  tf.dispose(ts);
}
