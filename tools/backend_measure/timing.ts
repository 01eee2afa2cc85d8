/**
 * Timing a training step of the tiny GPT (forward, backward, Adam update) on the current
 * backend: a stepper that keeps model and optimizer on the device, and the median of timed steps.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import process from "node:process";
import {
  causalMask,
  tinyGptBatch,
  type TinyGptConfig,
  tinyGptLoss,
  tinyGptParams,
} from "./tiny_gpt.ts";

/** A model, batch and Adam optimizer living on one backend, stepped on demand. */
export interface TrainingStepper {
  /**
   * One timed step (forward, backward, Adam update); switch to the stepper's backend first.
   * `ms` is wall time; `cpuMs` the CPU time of the whole process (all threads, so webgpu's
   * software rasteriser threads count), which other jobs on the machine disturb less.
   */
  step(): Promise<{ ms: number; cpuMs: number; loss: number }>;
  dispose(): void;
}

/**
 * Builds the tiny GPT, a fixed batch and Adam on the current backend. Each step waits for its
 * loss to be read back, which on webgpu also waits for the update queued before the read.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CONFIG } from "./tiny_gpt.ts";
 * import { trainingStepper } from "./timing.ts";
 * import { startBackend } from "../../lib/backend.ts";
 * await startBackend("wasm");
 * const s = trainingStepper(CONFORMANCE_CONFIG);
 * console.log((await s.step()).ms);
 * s.dispose();
 * ```
 */
export function trainingStepper(
  config: TinyGptConfig,
  opts: { seed?: number } = {},
): TrainingStepper {
  const values = tinyGptParams(config, { seed: opts.seed });
  const data = tinyGptBatch(config, { seed: (opts.seed ?? 1) + 1 });
  const vars = new Map(
    // tidy disposes the initial tensors; variables survive it.
    [...values].map(([n, v]) => [n, tf.tidy(() => tf.variable(tf.tensor(v.values, v.shape)))]),
  );
  const ids = tf.tensor1d(data.ids, "int32");
  const targets = tf.tensor1d(data.targets, "int32");
  const causal = causalMask(config.seqLen);
  const opt = tf.train.adam(1e-3);
  const varList = [...vars.values()];
  return {
    async step() {
      const t0 = performance.now(), c0 = process.cpuUsage();
      const loss = opt.minimize(
        () => tinyGptLoss(config, vars, { ids, targets, causal }),
        true,
        varList,
      )!;
      const l = (await loss.data())[0]!;
      loss.dispose();
      const c = process.cpuUsage(c0);
      return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, loss: l };
    },
    dispose() {
      opt.dispose();
      tf.dispose([...varList, ids, targets, causal]);
    },
  };
}

/**
 * The median of `xs` (the mean of the middle two for an even count).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { median } from "./timing.ts";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 2, 3]), 2.5);
 * ```
 */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Refuse a step count below 1 or a negative warm-up, naming `where`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCounts } from "./timing.ts";
 * checkCounts("x", 1, 0);
 * assert.throws(() => checkCounts("x", 0, 0), /x: steps must be a positive integer, got 0/);
 * ```
 */
export function checkCounts(where: string, steps: number, warmup: number): void {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`${where}: steps must be a positive integer, got ${steps}`);
  }
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new RangeError(`${where}: warmup must be an integer >= 0, got ${warmup}`);
  }
}

/**
 * Median milliseconds of one training step (forward, backward, Adam update) of the tiny GPT on
 * the current backend, after `warmup` untimed steps.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CONFIG } from "./tiny_gpt.ts";
 * import { timeTrainingStep } from "./timing.ts";
 * import { startBackend } from "../../lib/backend.ts";
 * await startBackend("wasm");
 * console.log(await timeTrainingStep(CONFORMANCE_CONFIG, { steps: 3, warmup: 1 }));
 * ```
 */
export async function timeTrainingStep(
  config: TinyGptConfig,
  opts: { steps?: number; warmup?: number; seed?: number } = {},
): Promise<{ medianMs: number; timesMs: number[]; losses: number[] }> {
  const steps = opts.steps ?? 5, warmup = opts.warmup ?? 2;
  checkCounts("timeTrainingStep", steps, warmup);
  const stepper = trainingStepper(config, opts);
  const timesMs: number[] = [], losses: number[] = [];
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const { ms, loss } = await stepper.step();
      if (i >= warmup) {
        timesMs.push(ms);
        losses.push(loss);
      }
    }
  } finally {
    stepper.dispose();
  }
  return { medianMs: median(timesMs), timesMs, losses };
}
