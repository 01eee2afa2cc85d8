/**
 * TRL loss types that score each side on its own (the chosen pushed up, the rejected down):
 * pairwise NCA, pairwise BCO (optionally with TRL v0.26's running-mean shift), SPPO with hard
 * labels, APO-zero and APO-down.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { sigmoid, softplus, stopGradient } from "../numerics.ts";
import { DeviceScalar } from "../state.ts";
import type { Objective } from "../types.ts";
import { trl, type TrlModifiers } from "./builder.ts";

/**
 * Pairwise NCA (Chen et al., arXiv 2402.05369), TRL `nca_pair`, with `r = βs`:
 * `L = −log σ(r_w) − ½ log σ(−r_w) − ½ log σ(−r_l)`. Default β = 0.1 (paper setting 0.01).
 *
 * @example
 * ```ts
 * import { ncaPair } from "./per_side.ts";
 * console.log(ncaPair().name); // nca_pair
 * ```
 */
export function ncaPair(params: TrlModifiers = {}): Objective {
  return trl({
    name: "nca_pair",
    body: (c) => {
      const rW = tf.mul(c.sW, c.beta);
      const rL = tf.mul(c.sL, c.beta);
      return tf.add(softplus(tf.neg(rW)), tf.mul(tf.add(softplus(rW), softplus(rL)), 0.5));
    },
  }, params);
}

/** Parameters of {@link bcoPair}. */
export interface BcoParams extends TrlModifiers {
  /** v0.26 behaviour: δ = running mean of the batch-mean reward. Default false (HEAD: δ = 0). */
  runningMean?: boolean;
}

/**
 * Pairwise BCO (Jung et al., arXiv 2404.04656), TRL `bco_pair`:
 * `L = −log σ(βs_w − δ) − log σ(−(βs_l − δ))`. HEAD uses δ = 0 (default). With
 * `runningMean: true` (TRL v0.26) δ is the running mean, over calls, of the batch mean of
 * `[βu_w; βu_l]` including the current batch; the objective is then stateful and batch-coupled
 * (`reset()` clears it). Default β = 0.1 (paper setting 0.01).
 *
 * @example
 * ```ts
 * import { bcoPair } from "./per_side.ts";
 * console.log(bcoPair({ runningMean: true }).batchCoupled); // true
 * ```
 */
export function bcoPair(params: BcoParams = {}): Objective {
  // The running mean stays on the device: loss() must not read tensors (webgpu cannot).
  const mean = new DeviceScalar(0);
  let count = 0;
  return trl({
    name: "bco_pair",
    specs: {
      runningMean: {
        default: false,
        type: "boolean",
        about: "TRL v0.26: δ = running mean of batch-mean βu (stateful); HEAD: δ = 0",
      },
    },
    batchCoupled: (p) => p.runningMean === true,
    body: (c, p) => {
      let delta: tf.Tensor | number = 0;
      if (p.runningMean) {
        // δ is a statistic of the batch, not a path for gradients (TRL computes it detached).
        const m = tf.mean(stopGradient(tf.mul(tf.concat([c.uW, c.uL]), c.beta)));
        count += 1;
        const prev = mean.value();
        const next = tf.add(prev, tf.div(tf.sub(m, prev), count));
        mean.set(next);
        delta = next;
      }
      const rW = tf.sub(tf.mul(c.sW, c.beta), delta);
      const rL = tf.sub(tf.mul(c.sL, c.beta), delta);
      return tf.add(softplus(tf.neg(rW)), softplus(rL));
    },
    state: {
      reset: () => {
        mean.reset();
        count = 0;
      },
      save: async () => ({ mean: await mean.read(), count }),
      load: (state) => {
        mean.load(state.mean as number | null);
        count = state.count as number;
      },
    },
  }, params);
}

/**
 * SPPO with hard labels (Wu et al., arXiv 2405.00675), TRL `sppo_hard`:
 * `L = (s_w − 1/(2β))² + (s_l + 1/(2β))²`. Default β = 0.1 (paper setting 0.001).
 *
 * @example
 * ```ts
 * import { sppoHard } from "./per_side.ts";
 * console.log(sppoHard().name); // sppo_hard
 * ```
 */
export function sppoHard(params: TrlModifiers = {}): Objective {
  return trl({
    name: "sppo_hard",
    body: (c) => {
      const h = 1 / (2 * c.beta);
      return tf.add(tf.square(tf.sub(c.sW, h)), tf.square(tf.add(c.sL, h)));
    },
  }, params);
}

/**
 * APO-zero (D'Oosterlinck et al., arXiv 2408.06266, Eq. 7), TRL `apo_zero`:
 * `L = (1 − σ(βu_w)) + σ(βu_l)` (log-ratios u, not f-scores). Default β = 0.1.
 *
 * @example
 * ```ts
 * import { apoZero } from "./per_side.ts";
 * console.log(apoZero().name); // apo_zero
 * ```
 */
export function apoZero(params: TrlModifiers = {}): Objective {
  return trl({
    name: "apo_zero",
    body: (c) => tf.add(tf.sub(1, sigmoid(tf.mul(c.uW, c.beta))), sigmoid(tf.mul(c.uL, c.beta))),
  }, params);
}

/**
 * APO-down (arXiv 2408.06266, Eq. 8), TRL `apo_down`: `L = σ(βu_w) + (1 − σ(βΔs))`.
 * Default β = 0.1.
 *
 * @example
 * ```ts
 * import { apoDown } from "./per_side.ts";
 * console.log(apoDown().name); // apo_down
 * ```
 */
export function apoDown(params: TrlModifiers = {}): Objective {
  return trl({
    name: "apo_down",
    body: (c) => tf.add(sigmoid(tf.mul(c.uW, c.beta)), tf.sub(1, sigmoid(tf.mul(c.dS, c.beta)))),
  }, params);
}
