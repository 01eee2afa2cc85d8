/**
 * analysis: likelihood displacement, where probability mass went, CHES, gradient alignment,
 * the unconstrained-features theory next to experiment, and trackers for the trainer.
 *
 * @example Which tokens gained, and was y+ displaced?
 * ```ts
 * import { displacement, topKGains } from "./mod.ts";
 * const p0 = [0.5, 0.4, 0.1], p1 = [0.3, 0.1, 0.6];
 * console.log(topKGains(p0, p1, 1)[0].token); // 2
 * console.log(displacement([Math.log(0.5)], [Math.log(0.3)]).displaced); // true
 * ```
 *
 * @module
 */
export type { MatrixLike, VectorLike } from "./util.ts";
export * from "./distribution.ts";
export * from "./displacement.ts";
export * from "./ufm_theory.ts";
export * from "./ufm_lm.ts";
export * from "./ches.ts";
export * from "./ches_select.ts";
export * from "./ches_tokens.ts";
export * from "./learning_dynamics.ts";
export * from "./akg.ts";
export * from "./edit_distance.ts";
export * from "./gradient_alignment.ts";
export * from "./single_step.ts";
export * from "./batch_effect.ts";
export * from "./next_token.ts";
export * from "./trackers.ts";
export * from "./checkpoint_series.ts";
export * from "./mass_tracker.ts";
