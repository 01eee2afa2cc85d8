/**
 * The score contract, on the ground floor: what a scorer returns for a batch of preference pairs
 * (sequence and per-token scores), the scorer interface the trainer, the reference cache and the
 * trackers call, the data interface they draw batches from, probe sets, and the toy batches.
 * Models, data, objectives, scoring, train and analysis import it; it imports nothing of theirs.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { TokenStats } from "./token_stats.ts";

/**
 * Per-token data for token-level objectives (LD-DPO, WPO, TDPO, SGDPO). All tensors are
 * `[B, T]` float32 and follow TRL's layout: position `t` holds the log-prob of token `t` of the
 * row given tokens `< t`, and is 0 wherever the mask is 0 (prompt, padding). Chosen and rejected
 * tensors may have different `T`. Completion tokens of a row need not start at position 0, but
 * they must be in order (the k-th 1 of a mask is the k-th completion token).
 *
 * What the trainer must supply, by objective:
 * - always: `policyChosen`, `policyRejected`, `chosenMask`, `rejectedMask`;
 * - reference-based token objectives (LD-DPO with a reference, SGDPO, TDPO): `refChosen`,
 *   `refRejected`, computed on the same tokens;
 * - WPO (`weighting: true`): `chosenLogSumSquares` / `rejectedLogSumSquares`, the per-position
 *   `log Σ_v πθ(v | x, y_<t)²` (= logsumexp(2z) − 2·logsumexp(z) of the policy logits z), no
 *   gradient needed;
 * - TDPO: `klChosen` / `klRejected`, the per-position `KL(πref(·|x,y_<t) ‖ πθ(·|x,y_<t))`
 *   (differentiable w.r.t. the policy).
 */
export interface TokenScores {
  policyChosen: tf.Tensor2D;
  policyRejected: tf.Tensor2D;
  refChosen?: tf.Tensor2D;
  refRejected?: tf.Tensor2D;
  /** 1 for a completion token, 0 for prompt or padding. */
  chosenMask: tf.Tensor2D;
  rejectedMask: tf.Tensor2D;
  chosenLogSumSquares?: tf.Tensor2D;
  rejectedLogSumSquares?: tf.Tensor2D;
  klChosen?: tf.Tensor2D;
  klRejected?: tf.Tensor2D;
  /**
   * TGDPO: per-position log-probs of the guide model (a DPO-trained policy whose log-ratio to
   * the reference is the token reward) on the same tokens; no gradient needed.
   */
  guideChosen?: tf.Tensor2D;
  guideRejected?: tf.Tensor2D;
}

/**
 * Per-pair sequence scores: the input of every objective. All fields are `[B]` float32.
 *
 * `policy*` / `ref*` are log-probs **summed** over completion tokens (prompt and padding
 * excluded), as TRL computes them; `*Length` are completion token counts (EOS included when it is
 * scored). `ref*` may be omitted only for reference-free objectives.
 */
export interface SequenceScores {
  policyChosen: tf.Tensor1D;
  policyRejected: tf.Tensor1D;
  refChosen?: tf.Tensor1D;
  refRejected?: tf.Tensor1D;
  chosenLength: tf.Tensor1D;
  rejectedLength: tf.Tensor1D;
  /** Per-token data, for token-level objectives only. */
  tokens?: TokenScores;
  /**
   * KTO only: summed log-probs of mismatched completions (another pair's completion under this
   * prompt), used to estimate the reference point z0 = max(0, mean(policy − ref)).
   */
  kl?: { policy: tf.Tensor1D; ref: tf.Tensor1D };
  /**
   * KTO only, for unpaired data: 1 where the chosen (desirable) / rejected (undesirable)
   * completion of a row exists, 0 where it is absent. Omitted = every row is a full pair.
   */
  present?: { chosen: tf.Tensor1D; rejected: tf.Tensor1D };
}

/**
 * Per-pair sequence scores of one batch under the model being scored, as tfjs tensors (all
 * `[B]`, `B` = pairs in the batch). Log-probs are *summed* over completion tokens.
 */
export interface PairScores {
  /** `ℓθ(y_w)`: summed completion log-prob of each chosen response. */
  policyChosen: tf.Tensor1D;
  /** `ℓθ(y_l)`: summed completion log-prob of each rejected response. */
  policyRejected: tf.Tensor1D;
  /** Completion token count of each chosen response. */
  chosenLength: tf.Tensor1D;
  /** Completion token count of each rejected response. */
  rejectedLength: tf.Tensor1D;
  /** Per-token data for token-level objectives (passed through to the objective untouched). */
  tokens?: TokenScores;
  /**
   * Unpaired (KTO) batches: 1 where row i has a chosen (desirable) / rejected (undesirable)
   * completion, 0 where that side is absent (its log-prob entry is then ignored, write 0).
   */
  present?: { chosen: tf.Tensor1D; rejected: tf.Tensor1D };
  /**
   * KTO: summed log-probs of each row's mismatched completion (another example's completion
   * under this row's prompt), from which KTO estimates its reference point z0.
   */
  klPolicy?: tf.Tensor1D;
  /** Per-pair sums behind TRL's token metrics (`entropy`, ...; see `token_stats.ts`). */
  tokenStats?: TokenStats;
}

/**
 * Adapter between a model and the trainer: the trainable variables, and the per-pair scores of a
 * batch. `scores` is called inside a gradient tape, so it must be built from tfjs ops on
 * `variables()`; it is also called under `tf.tidy` for no-gradient scoring (reference, probes).
 *
 * @typeParam B the batch type (e.g. `PreferenceBatch` for causal LMs, {@link ToyBatch} for toys)
 * @typeParam P the probe batch type accepted by {@link PreferenceScorer.logps}
 *
 * @example A scorer over a free table of logits, one row per prompt
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * const table = tf.variable(tf.zeros([2, 3]));
 * const scorer: PreferenceScorer<ToyBatch> = {
 *   variables: () => [table],
 *   scores: (b) => {
 *     const logp = tf.logSoftmax(tf.gather(table, Array.from(b.prompt)));
 *     const pick = (ids: Int32Array) => tf.sum(tf.mul(logp, tf.oneHot(Array.from(ids), 3)), 1);
 *     const ones = tf.ones([b.prompt.length]) as tf.Tensor1D;
 *     return { policyChosen: pick(b.chosen) as tf.Tensor1D, policyRejected: pick(b.rejected) as tf.Tensor1D, chosenLength: ones, rejectedLength: ones };
 *   },
 * };
 * ```
 */
export interface PreferenceScorer<B, P = never> {
  /** Trainable variables, in a fixed order (checkpoints and optimizer state follow it). */
  variables(): tf.Variable[];
  /**
   * Stable names of {@link variables} for checkpoints (default: `variable.name`). Names must be
   * unique; causal-LM adapters use the Hugging Face tensor names.
   */
  variableNames?(): string[];
  /** Per-pair scores of a batch. */
  scores(batch: B): PairScores;
  /**
   * Summed completion log-probs of single responses (probes: paraphrases, other tokens, ...),
   * one per row of the probe batch. Used by the probability-mass tracker, never under a tape.
   */
  logps?(probes: P): tf.Tensor1D;
  /**
   * Per-pair scores for measurement only (never under a tape): the four sums of {@link scores}
   * without per-token data or token statistics, which trackers would compute and drop.
   * Trackers use it when present, else `scores`.
   */
  measureScores?(batch: B): PairScores;
}

/**
 * A batch of single-token preference pairs for the toy models: row `i` is the prompt index
 * `prompt[i]` with chosen token `chosen[i]` and rejected token `rejected[i]`.
 */
export interface ToyBatch {
  prompt: Int32Array;
  chosen: Int32Array;
  rejected: Int32Array;
  /** Source pair index of each row (for records and error messages). */
  pairIndex: number[];
}

/** Single-token probes for the toy models: the log-prob of `token[i]` given `prompt[i]`. */
export interface ToyProbes {
  prompt: Int32Array;
  token: Int32Array;
}

/**
 * A dataset the trainer can draw batches from. Positions are `0..size-1`; the trainer shuffles
 * them with its seed and asks for batches of positions.
 *
 * @example
 * ```ts
 * import { toyData } from "../train/train_data.ts";
 * const data = toyData({ prompt: [0, 1], chosen: [2, 2], rejected: [1, 0] });
 * console.log(data.size, data.batch([1]).chosen); // 2 Int32Array [2]
 * ```
 */
export interface TrainData<B> {
  /** Number of pairs. */
  readonly size: number;
  /** The batch holding these positions, in this order. */
  batch(positions: readonly number[]): B;
  /** Source pair index of each position (default: the position itself). */
  pairIndex?(position: number): number;
  /**
   * Bytes that identify the (tokenized) content, for the reference-logp cache key: any change
   * of a token id must change them.
   */
  fingerprint(): Uint8Array;
}

/**
 * Probe responses for the mass tracker: one batch the scorer's `logps` accepts, and for each of
 * its rows the prompt it belongs to and a label naming the kind of response (e.g.
 * `"paraphrase"`, `"irrelevant"`, `"yes"`).
 */
export interface ProbeSet<P> {
  batch: P;
  /** Prompt (or pair) id of each row. */
  prompts: readonly number[];
  /** Response kind of each row; `mass/<label>` is the mean over rows with that label. */
  labels: readonly string[];
}
