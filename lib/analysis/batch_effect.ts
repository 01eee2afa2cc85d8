/**
 * How a step on a whole batch moves one pair's log-probs. Under one plain gradient-descent step
 * of size eta on the batch's mean loss `L = (1/N) sum_j loss_j`, the log-prob `l` of a response
 * changes to first order by `-eta <grad l, grad L>`. For a pair inside the batch this is its
 * own term `(1/N)(g_w ||grad l_w||^2 + g_l <grad l_w, grad l_l>)` (see `gradient_alignment.ts`)
 * plus the terms of every other pair, which is why a pair whose own geometry says "the chosen
 * log-prob rises" can still see it fall in batch training (objectives.md section 3).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "../kernels/gradients.ts";
import type { TrainObjective } from "../train/types.ts";
import type { PreferenceScorer } from "../core/scores.ts";
import { scoresWithReference } from "./ref_scores.ts";

/** Options of {@link firstOrderBatchChange}. */
export interface BatchChangeOptions {
  /** The objective whose mean per-pair loss over `batch` is descended. */
  objective: TrainObjective;
  /** Step size (default 1: the rate per unit learning rate). */
  lr?: number;
  /**
   * Reference log-probs of `batch`'s pairs. Default: the policy's own scores (the trainer's
   * default reference at step 0, where every DPO margin is 0).
   */
  reference?: { chosen: readonly number[]; rejected: readonly number[] };
}

/** Result of {@link firstOrderBatchChange}: one entry per target batch. */
export interface BatchChange {
  /** Predicted change of each target's summed chosen log-prob. */
  chosen: number[];
  /** Predicted change of each target's summed rejected log-prob. */
  rejected: number[];
  /** Mean loss of `batch` at the current weights. */
  loss: number;
}

async function readPair<B>(policy: PreferenceScorer<B, unknown>, batch: B) {
  const t = tf.tidy(() => {
    const s = policy.scores(batch);
    return tf.stack([s.policyChosen, s.policyRejected]);
  });
  try {
    const v = Array.from(await t.data());
    return { chosen: v.slice(0, v.length / 2), rejected: v.slice(v.length / 2) };
  } finally {
    t.dispose();
  }
}

/**
 * First-order change of each target's chosen and rejected log-probs (summed over the target
 * batch's pairs; pass one-pair batches for per-pair values) under one plain gradient-descent
 * step of size `lr` on the mean loss of `batch`. Costs one backward pass over `batch` and two
 * per target. Nothing is updated. Reads back asynchronously (works on WebGPU).
 *
 * @example A one-pair batch, its own pair as the target
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "../models/toy.ts";
 * import { dpo } from "../objectives/trl.ts";
 * import { firstOrderBatchChange } from "./batch_effect.ts";
 * const m = createUnconstrainedFeatures({ tokens: ["Yes", "No", "Never"], dim: 4, seed: 0 });
 * const pair = { prompt: Int32Array.of(0), chosen: Int32Array.of(1), rejected: Int32Array.of(2), pairIndex: [0] };
 * const d = await firstOrderBatchChange(m, [pair], pair, { objective: dpo({ beta: 0.1 }) });
 * console.log(d.rejected[0] < 0); // true: descending DPO pushes the rejected token down
 * m.dispose();
 * ```
 */
export async function firstOrderBatchChange<B>(
  policy: PreferenceScorer<B, unknown>,
  targets: readonly B[],
  batch: B,
  opts: BatchChangeOptions,
): Promise<BatchChange> {
  const lr = opts.lr ?? 1;
  if (!(Number.isFinite(lr) && lr > 0)) throw new RangeError(`lr must be positive, got ${lr}`);
  const vars = policy.variables();
  if (vars.length === 0) throw new RangeError("policy has no variables to differentiate");
  const ref = opts.reference ?? await readPair(policy, batch);
  const { value, grads: gL } = tf.variableGrads(() => {
    const s = policy.scores(batch);
    const n = s.policyChosen.shape[0];
    if (ref.chosen.length !== n || ref.rejected.length !== n) {
      throw new RangeError(
        `reference has ${ref.chosen.length}/${ref.rejected.length} values for ${n} pairs`,
      );
    }
    const scores = scoresWithReference(s, ref);
    const losses = opts.objective.loss(scores).losses;
    return (losses.rank === 0 ? losses : tf.mean(losses)) as tf.Scalar;
  }, vars);
  try {
    const loss = (await value.data())[0];
    const chosen: number[] = [], rejected: number[] = [];
    for (const target of targets) {
      const dots = tf.tidy(() => {
        const dot = (pick: "policyChosen" | "policyRejected") => {
          const g = tf.variableGrads(
            () => tf.sum(policy.scores(target)[pick]) as tf.Scalar,
            vars,
          ).grads;
          let s: tf.Tensor = tf.scalar(0);
          for (const v of vars) {
            const a = g[v.name], b = gL[v.name];
            if (a && b) s = tf.add(s, tf.sum(tf.mul(a, b)));
          }
          return s;
        };
        return tf.stack([dot("policyChosen"), dot("policyRejected")]);
      });
      try {
        const [c, r] = Array.from(await dots.data());
        chosen.push(-lr * c);
        rejected.push(-lr * r);
      } finally {
        dots.dispose();
      }
    }
    return { chosen, rejected, loss };
  } finally {
    value.dispose();
    Object.values(gL).forEach((g) => g.dispose());
  }
}
