/**
 * Per-token CHES: which tokens of a pair make its two responses look alike to the model, and so
 * drive the likelihood displacement CHES predicts (Razin et al., arXiv 2410.08847, Definitions 2
 * and 3, split token by token).
 *
 * With `H+ = sum_k h+_k` and `H- = sum_k h-_k` the sums of the final hidden states that predict
 * the tokens of y+ and y- (`ches.ts` has the positions), CHES = `<H+, H-> - ||H+||^2` is linear in
 * each state once H+ is fixed, so
 *
 *   CHES = sum_k <H+, h-_k>  +  sum_k ( -<H+, h+_k> )
 *
 * exactly: rejected token k contributes `<H+, h-_k>`, chosen token k contributes `-<H+, h+_k>`.
 * The length-normalised score `<H+, H->/(|y+||y-|) - ||H+||^2/|y+|^2` splits the same way with
 * `<H+, h-_k>/(|y+||y-|)` and `-<H+, h+_k>/|y+|^2`. Contribution k belongs to completion token k,
 * the token its state predicts (the state one position before it), so the arrays line up with
 * `chosenIds` and `rejectedIds` (EOS included).
 *
 * The states are read back and every product and sum is taken in float64, so the contributions
 * sum to the returned `ches` to float64 rounding; `chesScores` sums the states in float32 on the
 * backend, so the two CHES values agree to float32 rounding of the sums: about 1e-7 of `||H+||^2`
 * (CHES itself can be a small difference of two such terms).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "../models/types.ts";
import type { PreferenceBatch, TokenizedPair } from "../data/types.ts";
import { chesBatches, type ChesScoresOptions } from "./ches.ts";

/** Per-token CHES of one pair. */
export interface ChesTokenContributions {
  /** `TokenizedPair.index`: the pair's row in its source file. */
  index: number;
  /** CHES, the sum of `chosen` and `rejected`. */
  ches: number;
  /** Length-normalised CHES, the sum of `chosenNormalized` and `rejectedNormalized`. */
  chesNormalized: number;
  /** `-<H+, h+_k>` for each chosen completion token k (length |y+|). */
  chosen: Float64Array;
  /** `<H+, h-_k>` for each rejected completion token k (length |y-|). */
  rejected: Float64Array;
  /** `-<H+, h+_k>/|y+|^2`. */
  chosenNormalized: Float64Array;
  /** `<H+, h-_k>/(|y+||y-|)`. */
  rejectedNormalized: Float64Array;
}

/**
 * Split CHES into per-token contributions from the two responses' per-token states, in float64.
 * `chosenStates[k]` is the state that predicts chosen token k (the same for rejected).
 *
 * @example
 * ```ts
 * import { chesContributionsFromStates } from "./ches_tokens.ts";
 * // H+ = (1, 1), H- = (2, 1): CHES = 3 - 2 = 1
 * const c = chesContributionsFromStates([[1, 0], [0, 1]], [[2, 1]]);
 * console.log(c.chosen, c.rejected, c.ches); // Float64Array [-1, -1] Float64Array [3] 1
 * ```
 */
export function chesContributionsFromStates(
  chosenStates: readonly ArrayLike<number>[],
  rejectedStates: readonly ArrayLike<number>[],
): Omit<ChesTokenContributions, "index"> {
  const np = chosenStates.length, nm = rejectedStates.length;
  if (np < 1 || nm < 1) {
    throw new RangeError(`need at least one state per response, got ${np} chosen, ${nm} rejected`);
  }
  const d = chosenStates[0].length;
  for (const s of [...chosenStates, ...rejectedStates]) {
    if (s.length !== d) throw new RangeError(`states differ in width: ${s.length} vs ${d}`);
  }
  const hPlus = new Float64Array(d);
  for (const s of chosenStates) for (let j = 0; j < d; j++) hPlus[j] += s[j];
  const dot = (s: ArrayLike<number>) => {
    let v = 0;
    for (let j = 0; j < d; j++) v += hPlus[j] * s[j];
    return v;
  };
  const chosen = Float64Array.from(chosenStates, (s) => -dot(s));
  const rejected = Float64Array.from(rejectedStates, (s) => dot(s));
  const chosenNormalized = chosen.map((v) => v / (np * np));
  const rejectedNormalized = rejected.map((v) => v / (np * nm));
  return {
    ches: sum(chosen) + sum(rejected),
    chesNormalized: sum(chosenNormalized) + sum(rejectedNormalized),
    chosen,
    rejected,
    chosenNormalized,
    rejectedNormalized,
  };
}

function sum(xs: Float64Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/**
 * Per-token CHES of every pair of a collated batch (rows: chosen then rejected), from one
 * forward pass; only the states that predict completion tokens are read back.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { collate } from "../data/collate.ts";
 * import { chesTokensFromBatch } from "./ches_tokens.ts";
 * const model = createGPT2({ vocab_size: 32, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2 });
 * const batch = collate([{ index: 0, promptIds: [1, 2], chosenIds: [3, 0], rejectedIds: [4, 5, 0] }], 0);
 * const [c] = await chesTokensFromBatch(model, batch);
 * console.log(c.chosen.length, c.rejected.length); // 2 3
 * model.dispose();
 * ```
 */
export async function chesTokensFromBatch(
  model: CausalLM,
  batch: PreferenceBatch,
): Promise<ChesTokenContributions[]> {
  const B = batch.size, T = batch.length, d = model.hiddenSize;
  if (batch.inputIds.length !== 2 * B * T) {
    throw new RangeError(`batch: inputIds has ${batch.inputIds.length} ids, expected 2*${B}*${T}`);
  }
  const starts: number[] = [];
  const rows: number[] = [];
  for (let r = 0; r < 2 * B; r++) {
    const p = batch.promptLength[r], n = batch.completionLength[r];
    if (p < 1 || n < 1 || p + n > T) {
      throw new RangeError(
        `pair ${batch.pairIndex[r % B]}: bad layout (prompt ${p}, completion ${n}, length ${T})`,
      );
    }
    starts.push(rows.length);
    for (let k = 0; k < n; k++) rows.push(r * T + p - 1 + k);
  }
  const picked = tf.tidy(() => {
    const ids = tf.tensor2d(batch.inputIds, [2 * B, T], "int32");
    const attentionMask = tf.tensor2d(batch.attentionMask, [2 * B, T]);
    const out = model.forward(ids, {
      attentionMask,
      hidden: true,
      logitsAt: tf.tensor1d([0], "int32"),
    });
    if (!out.hidden) throw new TypeError(`model ${model.kind}: forward returned no hidden states`);
    return tf.gather(tf.reshape(out.hidden, [2 * B * T, d]), tf.tensor1d(rows, "int32"));
  });
  let flat: Float32Array;
  try {
    flat = (await picked.data()) as Float32Array;
  } finally {
    picked.dispose();
  }
  const states = (r: number) =>
    Array.from(
      { length: batch.completionLength[r] },
      (_, k) => flat.subarray((starts[r] + k) * d, (starts[r] + k + 1) * d),
    );
  return Array.from({ length: B }, (_, i) => {
    if (batch.promptLength[i] !== batch.promptLength[B + i]) {
      throw new RangeError(
        `pair ${batch.pairIndex[i]}: chosen and rejected rows have different prompt lengths`,
      );
    }
    return { index: batch.pairIndex[i], ...chesContributionsFromStates(states(i), states(B + i)) };
  });
}

/**
 * Per-token CHES of every pair, batched exactly as `chesScores` (same options); results in
 * input order. `chosen[k]` and `rejected[k]` belong to `chosenIds[k]` and `rejectedIds[k]`.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { chesTokenContributions } from "./ches_tokens.ts";
 * const model = createGPT2({ vocab_size: 32, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2 });
 * const pairs = [{ index: 0, promptIds: [1, 2], chosenIds: [3, 0], rejectedIds: [4, 5, 0] }];
 * const [c] = await chesTokenContributions(model, pairs);
 * const total = [...c.chosen, ...c.rejected].reduce((a, b) => a + b, 0);
 * console.log(Math.abs(total - c.ches) <= 1e-9 * Math.max(1, Math.abs(c.ches))); // true
 * model.dispose();
 * ```
 */
export async function chesTokenContributions(
  model: CausalLM,
  pairs: readonly TokenizedPair[],
  opts: Omit<ChesScoresOptions, "lengthNormalized"> = {},
): Promise<ChesTokenContributions[]> {
  const out = new Array<ChesTokenContributions>(pairs.length);
  for (const { positions, batch, done } of chesBatches(model, pairs, opts)) {
    (await chesTokensFromBatch(model, batch)).forEach((c, j) => out[positions[j]] = c);
    opts.onBatch?.(done, pairs.length);
  }
  return out;
}

/** One token's share of a pair's CHES, for ranking tokens across pairs. */
export interface TokenShare {
  index: number;
  side: "chosen" | "rejected";
  /** Position in the completion (0-based). */
  position: number;
  contribution: number;
}

/**
 * The `k` tokens with the largest contributions of a pair's CHES (the ones that make the
 * responses alike and push y+ down), largest first.
 *
 * @example
 * ```ts
 * import { topChesTokens } from "./ches_tokens.ts";
 * const c = { index: 4, chosen: Float64Array.of(-3, 1), rejected: Float64Array.of(5, 0.5) };
 * console.log(topChesTokens(c, 2).map((t) => `${t.side}${t.position}`)); // ["rejected0", "chosen1"]
 * ```
 */
export function topChesTokens(
  c: Pick<ChesTokenContributions, "index" | "chosen" | "rejected">,
  k: number,
): TokenShare[] {
  const all: TokenShare[] = [
    ...Array.from(
      c.chosen,
      (v, position) => ({ index: c.index, side: "chosen" as const, position, contribution: v }),
    ),
    ...Array.from(
      c.rejected,
      (v, position) => ({ index: c.index, side: "rejected" as const, position, contribution: v }),
    ),
  ];
  return all.sort((a, b) => b.contribution - a.contribution).slice(0, k);
}
