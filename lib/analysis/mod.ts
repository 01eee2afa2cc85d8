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
export {
  type ArgmaxMass,
  argmaxMass,
  type MassShift,
  massShift,
  type MassShiftOptions,
  softmax64,
  type TokenGain,
  topKGains,
  type TopKOptions,
} from "./distribution.ts";
export {
  displacement,
  type DisplacementLabel,
  type DisplacementOptions,
  type DisplacementSummary,
  labelDisplacement,
  type LabelOptions,
  type LogProbPath,
  type PairDisplacement,
} from "./displacement.ts";
export {
  type LossDerivative,
  type PairLossFn,
  type UfmObservation,
  ufmObservedLogProbChange,
  type UfmObserveOptions,
  ufmParameters,
  ufmPredictedLogProbChange,
  type UfmPrediction,
  type UfmPredictOptions,
} from "./ufm_theory.ts";
export { type LmUfmParameters, lmUfmParameters } from "./ufm_lm.ts";
export { type ChesOptions, type ChesScore, chesScores, type ChesScoresOptions } from "./ches.ts";
export {
  type LowestOptions,
  lowestScores,
  type PercentileOptions,
  type PercentileSubset,
  percentileSubsets,
  rankByScore,
} from "./ches_select.ts";
export {
  type ChesTokenContributions,
  chesTokenContributions,
  type TokenShare,
  topChesTokens,
} from "./ches_tokens.ts";
export {
  type InfluenceMatrix,
  influenceMatrix,
  type InfluenceOptions,
} from "./learning_dynamics.ts";
export {
  type AkgDecomposition,
  akgDecomposition,
  type TokenPath,
  toyNtk,
  type ToyParameters,
  toyParameters,
} from "./akg.ts";
export { editDistance, normalizedEditDistance, type TokenSequence } from "./edit_distance.ts";
export {
  firstOrderLogpChange,
  type GradientGeometry,
  gradientInnerProducts,
} from "./gradient_alignment.ts";
export { type SingleStepChange, singleStepChange, type SingleStepOptions } from "./single_step.ts";
export {
  type BatchChange,
  type BatchChangeOptions,
  firstOrderBatchChange,
} from "./batch_effect.ts";
export {
  causalNextTokenSource,
  type CausalSourceOptions,
  type NextTokenSource,
} from "./next_token.ts";
export {
  type DisplacementTracker,
  displacementTracker,
  type DisplacementTrackerOptions,
  type DistributionSnapshot,
  type DistributionTracker,
  distributionTracker,
  type DistributionTrackerOptions,
  gradientAlignmentTracker,
  type GradientTracker,
  type GradientTrackerOptions,
} from "./trackers.ts";
export {
  analyseCheckpoints,
  type AnalyseOptions,
  type CheckpointSeries,
  findCheckpoints,
  type SeriesCheckpoint,
  type SeriesProbe,
  type SeriesRows,
} from "./checkpoint_series.ts";
export { type MassTrackerOptions, probabilityMassTracker } from "./mass_tracker.ts";
export { type PairSides, sideGradientInnerProducts } from "./gradient_alignment.ts";
export { pairSides } from "./pair_sides.ts";
export { type ChesThreadOptions, chesThreads, releaseChesThreads } from "./ches_parallel.ts";
export {
  type ThreadTrackerSettings,
  TRACKER_THREAD_IDLE_MS,
  trackerThread,
  type TrackerThreadOptions,
} from "./tracker_thread.ts";
