/**
 * The contract between the trainer and every preference objective: per-pair sequence scores in,
 * per-pair losses out. Shapes are documented field by field; B is the number of pairs.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

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
