/**
 * TRL's token-level logging statistics: `entropy`, `mean_token_accuracy`, `logits/chosen`,
 * `logits/rejected` and `num_tokens`, with the definitions read in TRL's `DPOTrainer`
 * (`trl/trainer/dpo_trainer.py`, `_compute_loss`, "Log the metrics" block, main branch of
 * July 2026; objectives.md §1.5):
 *
 * - `entropy`: Σ over every completion token (chosen and rejected rows) of the predictive
 *   entropy `H = logsumexp(z) − Σ_v softmax(z)_v z_v` of the logits `z` that predict it, divided
 *   by the number of those tokens;
 * - `mean_token_accuracy`: share of *chosen* completion tokens whose label is the argmax of the
 *   logits predicting it;
 * - `logits/chosen` (`logits/rejected`): Σ over chosen (rejected) completion tokens of the
 *   vocabulary-mean logit, divided by the number of those tokens;
 * - `num_tokens`: running total, over training steps, of the attention-mask sum of every row
 *   (prompt and completion, chosen and rejected rows) the model was run on.
 *
 * Scorers return per-pair *sums* ({@link TokenStats}), so a step can pool them over every pair
 * of its accumulation window (sum over the window, then divide), as the other metrics here are
 * pooled (metrics.ts). TRL computes each ratio per micro-batch and its logger averages those;
 * with one micro-batch per step the two agree exactly. TRL reports 0 when a ratio has no tokens;
 * so does {@link tokenStatMetrics}.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Per-pair sums behind TRL's token statistics, as tensors `[B]` (no gradient flows). */
export interface TokenStats {
  /** Σ of predictive entropies over the chosen completion tokens. */
  entropyChosen: tf.Tensor1D;
  /** Σ of predictive entropies over the rejected completion tokens. */
  entropyRejected: tf.Tensor1D;
  /** Σ of vocabulary-mean logits over the chosen completion tokens. */
  logitChosen: tf.Tensor1D;
  /** Σ of vocabulary-mean logits over the rejected completion tokens. */
  logitRejected: tf.Tensor1D;
  /** Chosen completion tokens predicted by the argmax. */
  correctChosen: tf.Tensor1D;
  /** Attention-mask sum of the pair's two rows (prompt and completion tokens of both). */
  inputTokens: tf.Tensor1D;
}

/** {@link TokenStats} read back as plain numbers, one entry per pair. */
export type TokenStatValues = { [K in keyof TokenStats]: number[] };

/** The field names of {@link TokenStats}, in a fixed order. */
export const TOKEN_STAT_KEYS: readonly (keyof TokenStats)[] = [
  "entropyChosen",
  "entropyRejected",
  "logitChosen",
  "logitRejected",
  "correctChosen",
  "inputTokens",
];

/**
 * Per-row statistics of logits `[M, V]` and their labels `[M]`: the predictive entropy, the
 * vocabulary-mean logit, and 1 where the label is the (first) argmax. Computed from detached
 * values only for logging
 * (no loss is built from them, so no gradient flows through them).
 *
 * @example Uniform logits over 4 tokens: entropy ln 4, mean logit 0, label 0 is the first argmax
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { logitStats } from "./token_stats.ts";
 * const s = logitStats(tf.zeros([1, 4]) as tf.Tensor2D, tf.tensor1d([0], "int32"));
 * console.log(s.entropy.dataSync()[0].toFixed(4), s.logitMean.dataSync()[0], s.correct.dataSync()[0]);
 * // 1.3863 0 1
 * ```
 */
export function logitStats(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
): { entropy: tf.Tensor1D; logitMean: tf.Tensor1D; correct: tf.Tensor1D } {
  return tf.tidy(() => {
    const z = logits;
    const logp = tf.logSoftmax(z);
    const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)) as tf.Tensor1D;
    const logitMean = tf.mean(z, 1) as tf.Tensor1D;
    const correct = tf.cast(tf.equal(tf.argMax(z, 1), tf.cast(labels, "int32")), "float32");
    return { entropy, logitMean, correct: correct as tf.Tensor1D };
  });
}

/**
 * {@link logitStats} as one op with a zero gradient, stacked `[3, M]` (entropy, mean logit,
 * correct). Ops run inside a custom-gradient op are not taped, so a caller that backpropagates
 * through every returned tensor (the data-parallel worker) never reaches argmax/equal, which
 * have no gradient.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import "../kernels/gradients.ts"; // tfjs-core under Deno registers no gradients by itself
 * import { logitStatsDetached } from "./token_stats.ts";
 * const z = tf.variable(tf.tensor2d([[0, 1]]));
 * const g = tf.grad((x: tf.Tensor) => tf.sum(logitStatsDetached(x as tf.Tensor2D, tf.tensor1d([1], "int32"))))(z);
 * assert.deepEqual(Array.from(g.dataSync()), [0, 0]);
 * ```
 */
export const logitStatsDetached = tf.customGrad(
  ((logits: tf.Tensor2D, labels: tf.Tensor1D) => {
    const s = logitStats(logits, labels);
    return {
      value: tf.stack([s.entropy, s.logitMean, s.correct]),
      gradFunc: () => [tf.zerosLike(logits), tf.zerosLike(labels)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor2D;

/** Window sums of {@link TokenStatValues} and the completion-token counts they divide by. */
export interface TokenStatTotals {
  stats: TokenStatValues;
  chosenLength: readonly number[];
  rejectedLength: readonly number[];
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/**
 * TRL's token metrics (see the module docs) over a set of pairs, pooled: each is a sum over every
 * pair's tokens divided by the matching token count. `num_tokens` here is the pairs' attention-
 * mask total only; the trainer adds it to its running total.
 *
 * @example Two pairs, chosen lengths 2 and 1, rejected lengths 1 and 1
 * ```ts
 * import { tokenStatMetrics } from "./token_stats.ts";
 * const m = tokenStatMetrics({
 *   stats: { entropyChosen: [2, 1], entropyRejected: [1, 1], logitChosen: [0.4, 0.2],
 *     logitRejected: [0, 0.2], correctChosen: [1, 1], inputTokens: [6, 5] },
 *   chosenLength: [2, 1], rejectedLength: [1, 1],
 * });
 * console.log(m.entropy, m.mean_token_accuracy, m["logits/chosen"].toFixed(2), m.num_tokens);
 * // 1 0.6666666666666666 0.20 11
 * ```
 */
export function tokenStatMetrics(t: TokenStatTotals): Record<string, number> {
  const nc = sum(t.chosenLength), nr = sum(t.rejectedLength);
  const ratio = (num: number, den: number) => den > 0 ? num / den : 0;
  const s = t.stats;
  return {
    entropy: ratio(sum(s.entropyChosen) + sum(s.entropyRejected), nc + nr),
    mean_token_accuracy: ratio(sum(s.correctChosen), nc),
    "logits/chosen": ratio(sum(s.logitChosen), nc),
    "logits/rejected": ratio(sum(s.logitRejected), nr),
    num_tokens: sum(s.inputTokens),
  };
}
