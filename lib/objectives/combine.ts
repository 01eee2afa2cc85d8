/**
 * Weighted sums of objectives: TRL's list-valued `loss_type` with `loss_weights`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { LossOutput, Objective, ObjectiveState, ParamValue } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

/**
 * `L_i = Σ_k w_k·L_k,i`, so `mean(L) = Σ_k w_k·mean(L_k)`, TRL's combined loss. E.g. RPO =
 * `combine([[dpo(), 1], [sft(), 1]])`, MPO = `combine([[dpo(), 0.8], [bcoPair(), 0.2],
 * [sft(), 1]])`. Needs a reference / tokens if any part does; batch-coupled if any part is.
 * Extras of part k are returned under `"<k>:<name>/<extra>"` plus `"<k>:<name>/loss"`.
 *
 * @example
 * ```ts
 * import { combine } from "./combine.ts";
 * import { dpo, sft } from "./trl.ts";
 * const rpoTrl = combine([[dpo({ beta: 0.1 }), 1], [sft(), 1]]);
 * console.log(rpoTrl.name); // dpo*1+sft*1
 * ```
 */
export function combine(parts: readonly (readonly [Objective, number])[]): Objective {
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new TypeError("combine: expected a non-empty list of [objective, weight] pairs");
  }
  parts.forEach(([o, w], k) => {
    if (!o || typeof o.loss !== "function") {
      throw new TypeError(`combine: part ${k} is not an objective`);
    }
    if (typeof w !== "number" || !Number.isFinite(w)) {
      throw new RangeError(
        `combine: weight of part ${k} (${o.name}) must be a finite number, got ${w}`,
      );
    }
  });
  const params: Record<string, ParamValue> = {};
  parts.forEach(([o, w], k) => {
    params[`${k}:weight`] = w;
    for (const [name, v] of Object.entries(o.params)) {
      params[`${k}:${o.name}.${name}`] = v as ParamValue;
    }
  });
  return {
    name: parts.map(([o, w]) => `${o.name}*${w}`).join("+"),
    needsReference: parts.some(([o]) => o.needsReference),
    needsTokens: parts.some(([o]) => o.needsTokens),
    batchCoupled: parts.some(([o]) => o.batchCoupled),
    params: Object.freeze(params),
    loss(scores: SequenceScores): LossOutput {
      return tf.tidy(() => {
        const extras: Record<string, tf.Tensor1D> = {};
        let total: tf.Tensor | undefined;
        parts.forEach(([o, w], k) => {
          const out = o.loss(scores);
          extras[`${k}:${o.name}/loss`] = out.losses;
          for (const [e, v] of Object.entries(out.extras ?? {})) {
            extras[`${k}:${o.name}/${e}`] = v as tf.Tensor1D;
          }
          const term = tf.mul(out.losses, w);
          total = total ? tf.add(total, term) : term;
        });
        return { losses: total as tf.Tensor1D, extras };
      }) as unknown as LossOutput;
    },
    reset() {
      for (const [o] of parts) o.reset?.();
    },
    async saveState() {
      const state: ObjectiveState = {};
      for (const [k, [o]] of parts.entries()) if (o.saveState) state[k] = await o.saveState();
      return state;
    },
    loadState(state: ObjectiveState) {
      parts.forEach(([o], k) => {
        if (o.loadState && state[k] !== undefined) o.loadState(state[k] as ObjectiveState);
      });
    },
  };
}
