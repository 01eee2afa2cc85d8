/**
 * The toy-run harness of the single-token studies: a fresh unconstrained-features model, one
 * preference pair, plain SGD, and the distribution tracker, returning the trainer's records and
 * every tracked distribution.
 *
 * @module
 */
import { type DistributionSnapshot, distributionTracker } from "../analysis/trackers.ts";
import { createUnconstrainedFeatures, type UnconstrainedFeaturesOptions } from "../models/toy.ts";
import type { Objective } from "../objectives/mod.ts";
import { toyData } from "../train/train_data.ts";
import { train } from "../train/trainer.ts";

/** Options of {@link toyRun}. */
export interface ToyRunOptions {
  /** The model's initial weights (e.g. `displacementToy().options`); a fresh model per run. */
  model: UnconstrainedFeaturesOptions;
  /** Token ids of y+ and y− (prompt 0). */
  chosen: number;
  rejected: number;
  objective: Objective;
  steps: number;
  /** SGD learning rate; default 0.03. */
  lr?: number;
  /** Track the distribution every this many steps; default 5. */
  every?: number;
  /** Top gainers kept per tracked row; default 3. */
  k?: number;
  /** Tokens as good as y+ (labels a displacement benign or catastrophic); default none. */
  good?: readonly number[];
}

/** What {@link toyRun} returns. */
export interface ToyRun {
  records: Record<string, number>[];
  history: DistributionSnapshot[];
}

/**
 * Train a fresh toy model on one pair (prompt 0, `chosen` ≻ `rejected`) with SGD, full batch.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { displacementToy, dpo } from "../mod.ts";
 * import { toyRun } from "./toy_run.ts";
 * const toy = displacementToy();
 * const r = await toyRun({
 *   model: toy.options, chosen: toy.chosen, rejected: toy.rejected,
 *   objective: dpo({ beta: 0.1 }), steps: 10,
 * });
 * console.log(r.history.length, r.records.length); // 3 11
 * ```
 */
export async function toyRun(opts: ToyRunOptions): Promise<ToyRun> {
  const model = createUnconstrainedFeatures(opts.model);
  const tracker = distributionTracker({
    source: model,
    chosen: [opts.chosen],
    rejected: [opts.rejected],
    ...(opts.good ? { good: [opts.good] } : {}),
    every: opts.every ?? 5,
    k: opts.k ?? 3,
  });
  try {
    const result = await train({
      policy: model,
      data: toyData({ prompt: [0], chosen: [opts.chosen], rejected: [opts.rejected] }),
      objective: opts.objective,
      optimizer: { name: "sgd" },
      lr: opts.lr ?? 0.03,
      batchSize: 1,
      maxSteps: opts.steps,
      progress: false,
      examplesEvery: false,
      callbacks: [tracker],
    });
    return {
      records: result.records as unknown as Record<string, number>[],
      history: tracker.history,
    };
  } finally {
    model.dispose();
  }
}
