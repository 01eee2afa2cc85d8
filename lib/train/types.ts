/**
 * What the trainer adds to the score contract of lib/core/scores.ts (scorer, data, scores): what
 * it needs from an objective ({@link TrainObjective}), the metrics of a record ({@link Metrics})
 * and the per-pair values it hands to callbacks ({@link PairValues}).
 *
 * The trainer is generic in the batch type `B`, so the same loop trains causal LMs (`B` =
 * `PreferenceBatch`, scored by summed completion log-probs) and the single-token toy models (`B` =
 * `ToyBatch`), through a small adapter per model family.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { ObjectiveState } from "../objectives/types.ts";
import type { TokenStatValues } from "../core/token_stats.ts";
import type { SequenceScores } from "../core/scores.ts";

/**
 * What the trainer needs from an objective (structurally the `Objective` of `lib/objectives`):
 * a name, whether it needs reference scores, its parameters (`params.beta` scales the implicit
 * rewards, 1 when absent), and per-pair losses `[B]` as a function of the scores.
 */
export interface TrainObjective {
  readonly name: string;
  readonly needsReference: boolean;
  readonly params: Readonly<Record<string, unknown>>;
  loss(scores: SequenceScores): { losses: tf.Tensor; extras?: Record<string, tf.Tensor> };
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
