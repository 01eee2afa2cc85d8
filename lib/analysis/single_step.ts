/**
 * What one plain gradient-descent step on a batch's own preference loss does to that batch's
 * chosen and rejected log-probs: the observed counterpart of {@link firstOrderLogpChange}.
 * The step is taken on the live variables and undone before returning, so the model is left
 * exactly as it was.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "../kernels/gradients.ts";
import type { TrainObjective } from "../train/types.ts";
import type { PreferenceScorer } from "../core/scores.ts";
import { scoresWithReference } from "./ref_scores.ts";

/** Options of {@link singleStepChange}. */
export interface SingleStepOptions {
  /** The objective whose summed per-pair loss is descended (e.g. `dpo({ beta: 0.1 })`). */
  objective: TrainObjective;
  /** Step size of the plain gradient-descent step. */
  lr: number;
  /**
   * Reference log-probs of the batch's pairs, for objectives that need them. Default: the
   * policy's own scores before the step (the trainer's default reference at step 0, where every
   * DPO margin is 0).
   */
  reference?: { chosen: readonly number[]; rejected: readonly number[] };
}

/** Result of {@link singleStepChange}: per-pair values, in batch order. */
export interface SingleStepChange {
  before: { chosen: number[]; rejected: number[] };
  after: { chosen: number[]; rejected: number[] };
  /** `after - before` of the chosen and the rejected log-probs. */
  change: { chosen: number[]; rejected: number[] };
  /** Summed loss of the batch before the step. */
  loss: number;
}

async function readScores<B>(
  policy: PreferenceScorer<B, unknown>,
  batch: B,
): Promise<{ chosen: number[]; rejected: number[] }> {
  const t = tf.tidy(() => {
    const s = policy.scores(batch);
    return tf.stack([s.policyChosen, s.policyRejected]);
  });
  try {
    const v = Array.from(await t.data());
    const n = v.length / 2;
    return { chosen: v.slice(0, n), rejected: v.slice(n) };
  } finally {
    t.dispose();
  }
}

/**
 * Take one step `theta <- theta - lr * grad(sum of the batch's losses)` on every variable of
 * `policy`, score the batch again, and restore the variables. For a batch of one pair this is
 * the isolated effect of that pair on itself; divided by `lr` it approaches the first-order
 * prediction of `firstOrderLogpChange(gradientInnerProducts(policy, batch), ...)` as `lr`
 * shrinks. Reads back asynchronously (works on WebGPU).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "../models/toy.ts";
 * import { dpo } from "../objectives/trl.ts";
 * import { singleStepChange } from "./single_step.ts";
 * const m = createUnconstrainedFeatures({ tokens: ["Yes", "No", "Never"], dim: 4, seed: 0 });
 * const batch = { prompt: Int32Array.of(0), chosen: Int32Array.of(1), rejected: Int32Array.of(2), pairIndex: [0] };
 * const r = await singleStepChange(m, batch, { objective: dpo({ beta: 1 }), lr: 0.01 });
 * console.log(r.change.rejected[0] < 0); // true: the step pushes the rejected token down
 * m.dispose();
 * ```
 */
export async function singleStepChange<B>(
  policy: PreferenceScorer<B, unknown>,
  batch: B,
  opts: SingleStepOptions,
): Promise<SingleStepChange> {
  if (!(typeof opts.lr === "number" && Number.isFinite(opts.lr) && opts.lr > 0)) {
    throw new RangeError(`lr must be a positive number, got ${opts.lr}`);
  }
  const vars = policy.variables();
  if (vars.length === 0) throw new RangeError("policy has no variables to step");
  const before = await readScores(policy, batch);
  const n = before.chosen.length;
  const ref = opts.reference ?? before;
  if (ref.chosen.length !== n || ref.rejected.length !== n) {
    throw new RangeError(
      `reference has ${ref.chosen.length}/${ref.rejected.length} values for ${n} pairs`,
    );
  }
  const saved = vars.map((v) => tf.clone(v));
  try {
    const { value, grads } = tf.variableGrads(() => {
      const s = policy.scores(batch);
      const scores = scoresWithReference(s, ref);
      return tf.sum(opts.objective.loss(scores).losses) as tf.Scalar;
    }, vars);
    let loss: number;
    try {
      loss = (await value.data())[0];
      tf.tidy(() => {
        for (const v of vars) {
          const g = grads[v.name];
          if (g) v.assign(tf.sub(v, tf.mul(g, opts.lr)));
        }
      });
    } finally {
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
    }
    const after = await readScores(policy, batch);
    return {
      before,
      after,
      change: {
        chosen: after.chosen.map((a, i) => a - before.chosen[i]),
        rejected: after.rejected.map((a, i) => a - before.rejected[i]),
      },
      loss,
    };
  } finally {
    vars.forEach((v, i) => v.assign(saved[i]));
    saved.forEach((t) => t.dispose());
  }
}
