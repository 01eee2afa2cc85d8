/**
 * The shapes the trainer works with: what it needs from a model ({@link PreferenceScorer}), from a
 * dataset ({@link TrainData}) and from an objective ({@link TrainObjective}), and the per-pair
 * values it hands to callbacks ({@link PairValues}).
 *
 * The trainer is generic in the batch type `B`, so the same loop trains causal LMs (`B` =
 * `PreferenceBatch`, scored by summed completion log-probs) and the single-token toy models (`B` =
 * {@link ToyBatch}), through a small adapter per model family.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { ObjectiveState } from "../objectives/types.ts";
import type { TokenStats, TokenStatValues } from "./token_stats.ts";

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
  tokens?: unknown;
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
 * import type { PreferenceScorer, ToyBatch } from "./types.ts";
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
 * import { toyData } from "./train_data.ts";
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
 * The sequence scores an objective receives, one entry per pair (the same shape as
 * `SequenceScores` in `lib/objectives/types.ts`).
 */
export interface ObjectiveScores {
  policyChosen: tf.Tensor1D;
  policyRejected: tf.Tensor1D;
  refChosen?: tf.Tensor1D;
  refRejected?: tf.Tensor1D;
  chosenLength: tf.Tensor1D;
  rejectedLength: tf.Tensor1D;
  tokens?: unknown;
  /** KTO: mismatched-completion log-probs under policy and reference. */
  kl?: { policy: tf.Tensor1D; ref: tf.Tensor1D };
  /** Unpaired data: which side of each row exists. */
  present?: { chosen: tf.Tensor1D; rejected: tf.Tensor1D };
}

/**
 * What the trainer needs from an objective (structurally the `Objective` of `lib/objectives`):
 * a name, whether it needs reference scores, its parameters (`params.beta` scales the implicit
 * rewards, 1 when absent), and per-pair losses `[B]` as a function of the scores.
 */
export interface TrainObjective {
  readonly name: string;
  readonly needsReference: boolean;
  readonly params: Readonly<Record<string, unknown>>;
  loss(scores: ObjectiveScores): { losses: tf.Tensor; extras?: Record<string, tf.Tensor> };
  /** Objectives with running statistics: forget them. Called at the start of a fresh run. */
  reset?(): void;
  /** Running statistics as JSON-ready values; checkpoints keep them. */
  saveState?(): Promise<ObjectiveState>;
  /** Continue from saved statistics (a resumed run). */
  loadState?(state: ObjectiveState): void;
}

/** Metrics of one record: TRL names plus tracker prefixes; values are plain numbers. */
export type Metrics = Record<string, number>;

/**
 * Per-pair values of the pairs an optimizer step (or an evaluation) saw, as plain numbers in
 * the order the pairs were drawn; scores were computed *before* the step's update.
 */
export interface PairValues {
  /** Source pair index of each pair. */
  pairIndex: number[];
  policyChosen: number[];
  policyRejected: number[];
  /** Reference scores (absent when the objective needs no reference). */
  refChosen?: number[];
  refRejected?: number[];
  chosenLength: number[];
  rejectedLength: number[];
  /** Per-pair loss. */
  losses: number[];
  /** Unpaired rows: 1/0 per side (absent = every row is a full pair). */
  present?: { chosen: number[]; rejected: number[] };
  /** KTO: `ℓθ − ℓref` of each row's mismatched completion. */
  kl?: number[];
  /** Sums behind TRL's token metrics, when the scorer gives them (`token_stats.ts`). */
  tokenStats?: TokenStatValues;
}
