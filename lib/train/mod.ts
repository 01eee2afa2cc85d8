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
export * from "./types.ts";
export * from "./callbacks.ts";
export * from "./train_data.ts";
export * from "./optimizers.ts";
export * from "./schedule.ts";
export * from "./metrics.ts";
export * from "./records.ts";
export * from "./checkpoint.ts";
export * from "./progress.ts";
export * from "./trainer.ts";
export * from "./config.ts";
export * from "./trl_metrics.ts";
export * from "./ref_sync.ts";
export * from "./trl_layout.ts";
export * from "./implicit_rewards.ts";
