/**
 * Preference-optimization objectives as pure tfjs functions of per-pair sequence scores, their
 * TRL-named metrics, and gradient analysis by autodiff.
 *
 * An objective is `{ name, needsReference, needsTokens, batchCoupled, params, loss(scores) }`;
 * factories validate their parameters (`dpo({ beta: 0.1 })`). `gradientWeights` gives
 * `g_w = ∂L/∂ℓθ(y_w)` and `g_l = ∂L/∂ℓθ(y_l)` for any objective, including your own, and
 * `gradientField` evaluates them over the (u_w, u_l) plane. See docs/objectives.md for every
 * formula, default and source (SGDPO from its authors' code; SPO and `sgdpo_multiplier` are
 * documented reconstructions). The analyses read
 * tensors back synchronously (cpu and wasm backends); their `...Async` twins
 * (`gradientWeightsAsync`, `gradientFieldAsync`, `tokenGradientFieldAsync`,
 * `preferenceMetricsAsync`) work on every backend, webgpu included.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { combine, dpo, gradientWeights, sft } from "./mod.ts";
 * const rpoTrl = combine([[dpo({ beta: 0.1 }), 1], [sft(), 1]]);
 * const g = gradientWeights(rpoTrl, {
 *   policyChosen: tf.tensor1d([-20]), policyRejected: tf.tensor1d([-25]),
 *   refChosen: tf.tensor1d([-21]), refRejected: tf.tensor1d([-24]),
 *   chosenLength: tf.tensor1d([10]), rejectedLength: tf.tensor1d([12]),
 * });
 * console.log(g.gW, g.gL); // g_w = −0.1·σ(−0.2) − 1/10, g_l = 0.1·σ(−0.2)
 * ```
 *
 * @module
 */
export type { LossOutput, Objective, ObjectiveState, ParamValue } from "./types.ts";
export type { SequenceScores, TokenScores } from "../core/scores.ts";
export { type ParamSpec, type ParamSpecs, resolveParams } from "./params.ts";
export {
  defineObjective,
  type ObjectiveDefinition,
  type Resolved,
  type SpecValue,
} from "./define.ts";
/** Stable softplus / log-sigmoid / sigmoid, stop-gradient, log1mexp, permute: for writing objectives. */
export * as objectiveMath from "./numerics.ts";
export {
  F_DIVERGENCES,
  type FDivergence,
  fScore,
  ldSum,
  nll as chosenNll,
  type NllMode,
  smoothedLogistic,
  wpoWeight,
} from "./scores.ts";
export {
  aot,
  type AotParams,
  aotUnpaired,
  apoDown,
  apoZero,
  bcoPair,
  type BcoParams,
  discopop,
  type DiscopopParams,
  dpo,
  type DpoParams,
  exoPair,
  type ExoParams,
  hinge,
  ipo,
  type IpoParams,
  ncaPair,
  robust,
  type RobustParams,
  sft,
  type SftParams,
  sigmoidNorm,
  sppoHard,
  type TrlModifiers,
} from "./trl.ts";
export {
  alphapo,
  type AlphapoParams,
  asft,
  type AsftParams,
  cpo,
  type CpoParams,
  orpo,
  type OrpoParams,
  simpo,
  type SimpoParams,
  slicHf,
  type SlicParams,
} from "./reference_free.ts";
export {
  alphaDpo,
  type AlphaDpoParams,
  calDpo,
  dpop,
  rdpo,
  rpo,
  type RpoParams,
  rpoReg,
  tdpo,
  type TdpoParams,
} from "./dpo_variants.ts";
export { kto, type KtoParams } from "./kto.ts";
export { type PilotOverride, type PilotSets, pilotSets, sgdpo, type SgdpoParams } from "./sgdpo.ts";
export {
  defaultPilotRule,
  type Pilot,
  type PilotRule,
  type PilotSampling,
  samplePilotMasks,
  sgdpoMultiplier,
  type SgdpoMultiplierParams,
} from "./sgdpo_multiplier.ts";
export {
  spo,
  SPO_BASES,
  type SpoBase,
  type SpoParams,
  type SpoPenalty,
  spoPenalty,
} from "./spo.ts";
export { combine } from "./combine.ts";
export {
  METRIC_NAMES,
  type MetricName,
  type MetricOptions,
  type PreferenceMetrics,
  preferenceMetrics,
  preferenceMetricsAsync,
} from "./metrics.ts";
export { type GradientWeights, gradientWeights, gradientWeightsAsync } from "./gradients.ts";
export type { FieldSpec } from "./gradient_field.ts";
export type { GradientField } from "./gradient_field.ts";
export { gradientField } from "./gradient_field.ts";
export { gradientFieldAsync } from "./gradient_field.ts";
export type { GridAxis } from "./gradient_field.ts";
export { type TokenFieldSpec, tokenGradientField, tokenGradientFieldAsync } from "./token_field.ts";
export { createObjective, findObjective, OBJECTIVES } from "./registry.ts";
export type { FormulaSource } from "./registry_entry.ts";
export type { ObjectiveEntry } from "./registry_entry.ts";
export { type PointWeights, type TokenPoint, type WeightPoint, weightsAt } from "./weights_at.ts";
export {
  anchoredDpo,
  type AnchoredDpoParams,
  modpo,
  type ModpoParams,
  tgdpo,
  type TgdpoParams,
} from "./seed_methods.ts";
