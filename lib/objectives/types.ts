/**
 * The contract between the trainer and every preference objective: per-pair sequence scores in,
 * per-pair losses out. Shapes are documented field by field; B is the number of pairs.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { SequenceScores } from "../core/scores.ts";

/** What `loss()` returns. */
export interface LossOutput {
  /** Per-pair losses `[B]`; `mean(losses)` is the batch loss the paper or TRL minimises. */
  losses: tf.Tensor1D;
  /** Named per-pair `[B]` diagnostics (e.g. the margin actually fed to the sigmoid). */
  extras?: Record<string, tf.Tensor1D>;
}

/** A parameter value as accepted by factories and the CLI. */
export type ParamValue = number | string | boolean | null | undefined;

/**
 * A preference objective: a pure tfjs function of {@link SequenceScores}.
 *
 * `loss` must be differentiable with respect to `policyChosen` and `policyRejected` (and the
 * per-token policy log-probs for token-level objectives); everything derived from the reference,
 * the lengths or the masks is treated as a constant.
 */
export interface Objective {
  /** Registry name, e.g. "dpo". */
  readonly name: string;
  /** Whether `refChosen` / `refRejected` are read. */
  readonly needsReference: boolean;
  /** Whether `tokens` is read (the CLI refuses such objectives). */
  readonly needsTokens: boolean;
  /**
   * True when a pair's loss depends on other pairs of the batch (sorting, batch means, running
   * statistics): then a batch's losses differ from the concatenation of single-pair losses, and
   * gradient weights are derivatives of the batch total.
   */
  readonly batchCoupled: boolean;
  /** Resolved parameters, defaults filled in. */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Per-pair losses of a batch. Stateful objectives update their state on each call. */
  loss(scores: SequenceScores): LossOutput;
  /** Stateful objectives: forget running statistics / restart the random stream. */
  reset?(): void;
  /** Stateful objectives: their running statistics as plain numbers (checkpoints keep them). */
  saveState?(): Promise<ObjectiveState>;
  /** Stateful objectives: continue from statistics {@link saveState} returned. */
  loadState?(state: ObjectiveState): void;
}

/** Running statistics of a stateful objective, JSON-ready (`null`: not yet set). */
export type ObjectiveState = { [key: string]: number | null | ObjectiveState };
