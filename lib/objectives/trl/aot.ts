/**
 * TRL's AOT loss types (alignment via optimal transport): the batch's sorted log-ratio
 * differences, so a loss slot belongs to a quantile, not to a pair (batch-coupled).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { sortAscending } from "../numerics.ts";
import { LABEL_SMOOTHING } from "../params.ts";
import { smoothedLogistic } from "../scores.ts";
import type { Objective } from "../types.ts";
import { type Ctx, trl, type TrlModifiers } from "./builder.ts";

// The sort runs on the device (no read back), so AOT trains on every backend.
function sortedDifference(a: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor1D {
  return tf.sub(sortAscending(a), sortAscending(b)) as tf.Tensor1D;
}

/** Parameters of {@link aot} and {@link aotUnpaired}. */
export interface AotParams extends TrlModifiers {
  /** Label smoothing ε ∈ [0, 0.5), default 0. */
  labelSmoothing?: number;
}

/**
 * Paired AOT (Melnyk et al., arXiv 2406.05882), TRL `aot`:
 * `d = sort_B(ℓθ_w − ℓθ_l) − sort_B(ℓref_w − ℓref_l)` (ascending **across the batch**),
 * `L = (1−ε)·softplus(−βd) + ε·softplus(βd)`. Batch-coupled: `losses[i]` belongs to the i-th
 * quantile, not to pair i, and `mean(losses)` is TRL's batch loss. f-divergence scores are not
 * used (as in TRL). For B = 1 it equals cDPO. Default β = 0.1 (paper setting 0.01).
 *
 * @example
 * ```ts
 * import { aot } from "./aot.ts";
 * console.log(aot().batchCoupled); // true
 * ```
 */
export function aot(params: AotParams = {}): Objective {
  return aotType("aot", (c) =>
    sortedDifference(
      tf.sub(c.logps.policyChosen, c.logps.policyRejected) as tf.Tensor1D,
      tf.sub(c.logps.refChosen, c.logps.refRejected) as tf.Tensor1D,
    ), params);
}

/**
 * Unpaired AOT (arXiv 2406.05882), TRL `aot_unpaired` (v0.26 `aot_pair`):
 * `d = sort_B(u_w) − sort_B(u_l)`, same smoothed logistic loss as {@link aot}. Batch-coupled.
 *
 * @example
 * ```ts
 * import { aotUnpaired } from "./aot.ts";
 * console.log(aotUnpaired().name); // aot_unpaired
 * ```
 */
export function aotUnpaired(params: AotParams = {}): Objective {
  return aotType("aot_unpaired", (c) => sortedDifference(c.uW, c.uL), params);
}

/** An AOT loss type: the smoothed logistic loss of βd, `d` the batch-sorted difference. */
function aotType(name: string, d: (c: Ctx) => tf.Tensor1D, params: AotParams): Objective {
  return trl({
    name,
    specs: { labelSmoothing: LABEL_SMOOTHING },
    batchCoupled: true,
    noWeighting: true,
    body: (c, p) => smoothedLogistic(tf.mul(d(c), c.beta), p.labelSmoothing),
  }, params);
}
