/**
 * train: the preference-training loop, its optimizers, run records, callbacks and implicit-rewards
 * tracker (scorers: lib/scoring; the other trackers: lib/analysis).
 *
 * @example DPO on a single-token toy model, records in a run directory
 * ```ts ignore
 * import { createUnconstrainedFeatures, dpo, readRun, toyData, train } from "../mod.ts";
 * const model = createUnconstrainedFeatures({ tokens: ["Yes", "No", "Never"], dim: 4, seed: 0 });
 * await train({
 *   policy: model, data: toyData({ prompt: [0], chosen: [1], rejected: [2] }),
 *   objective: dpo({ beta: 0.1 }), optimizer: { name: "rmsprop" }, lr: 1e-3,
 *   batchSize: 1, maxSteps: 100, outDir: "out/runs/toy",
 * });
 * console.log((await readRun("out/runs/toy")).steps.at(-1)?.["rewards/margins"]);
 * ```
 *
 * @module
 */
export type { Metrics, PairValues, TrainObjective } from "./types.ts";
export type {
  BeginContext,
  EndContext,
  EvalContext,
  HookResult,
  RunContext,
  RunRows,
  StepContext,
  TrainCallback,
} from "./callbacks.ts";
export { deferMetrics, type DeferredMetrics, isDeferred, settleDeferred } from "./callbacks.ts";
export {
  preferenceData,
  type PreferenceDataOptions,
  splitData,
  type SplitOptions,
  subsetData,
  toyData,
  type ToyPairs,
  unpairedData,
} from "./train_data.ts";
export {
  type AdamSpec,
  type AdamWSpec,
  createOptimizer,
  type Optimizer,
  OPTIMIZER_NAMES,
  type OptimizerSpec,
  type OptimizerState,
  type RmsPropSpec,
  type SavedTensor,
  type SgdSpec,
} from "./optimizers.ts";
export { learningRate, SCHEDULE_KINDS, type ScheduleSpec, warmupSteps } from "./schedule.ts";
export {
  parseTrainerState,
  readJsonl,
  readRun,
  type RunRecord,
  type RunStatus,
  type RunStepRecord,
  RunWriter,
  writeRun,
} from "./records.ts";
export {
  type Checkpoint,
  type CheckpointState,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
export {
  type CollectedRecord,
  type JupyterDisplay,
  progressCallback,
  type ProgressMode,
  type ProgressOptions,
  recordsCallback,
} from "./progress.ts";
export {
  type ReferenceOption,
  train,
  TrainingDivergedError,
  type TrainOptions,
  type TrainResult,
} from "./trainer.ts";
export {
  type MassTrackerConfig,
  parseTrainConfig,
  type RewardsTrackerConfig,
  type ToyModelConfig,
  type ToyPairConfig,
  type TrackerConfig,
  type TrainConfig,
} from "./config.ts";
export type { RefSyncSpec } from "./ref_sync.ts";
export { trlLayoutCallback, type TrlLayoutOptions } from "./trl_layout.ts";
export { type ImplicitRewardsOptions, implicitRewardsTracker } from "./implicit_rewards.ts";
