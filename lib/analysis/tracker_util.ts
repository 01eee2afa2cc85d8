/**
 * Small helpers the analysis trackers share: option checks, when a measurement is due, and
 * asynchronous (WebGPU-safe) reads.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { RunContext } from "../train/callbacks.ts";
import type { TrainData } from "../core/scores.ts";

/**
 * `x` when it is a positive integer, else a RangeError naming `what`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveInt } from "./tracker_util.ts";
 * assert.equal(positiveInt(3, "every"), 3);
 * assert.throws(() => positiveInt(0, "every"), /every: 0 is not a positive integer/);
 * ```
 */
export function positiveInt(x: number, what: string): number {
  if (!(Number.isInteger(x) && x > 0)) {
    throw new RangeError(`${what}: ${x} is not a positive integer`);
  }
  return x;
}

/**
 * Arithmetic mean; NaN for no values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mean } from "./tracker_util.ts";
 * assert.equal(mean([1, 2, 6]), 3);
 * assert.ok(Number.isNaN(mean([])));
 * ```
 */
export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : NaN;
}

/**
 * A tracker measures at step 0, every `every` steps, and at the last step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { due } from "./tracker_util.ts";
 * const at = (step: number) => due({ step, totalSteps: 25 } as never, 10);
 * assert.deepEqual([0, 5, 10, 24, 25].map(at), [true, false, true, false, true]);
 * ```
 */
export function due(ctx: Pick<RunContext, "step" | "totalSteps">, every: number): boolean {
  return ctx.step % every === 0 || ctx.step === ctx.totalSteps;
}

/**
 * Values of a 1-D tensor built by `f` (under tidy), read asynchronously (WebGPU-safe).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { read1d } from "./tracker_util.ts";
 * await tf.setBackend("cpu");
 * assert.deepEqual(await read1d(() => tf.tensor1d([1, 2])), [1, 2]);
 * ```
 */
export async function read1d(f: () => tf.Tensor): Promise<number[]> {
  const t = tf.tidy(f);
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

/**
 * The first `cap` positions of `data` (all of them when it is smaller).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultPositions } from "./tracker_util.ts";
 * assert.deepEqual(defaultPositions({ size: 3 } as never, 64), [0, 1, 2]);
 * ```
 */
export function defaultPositions<B>(data: TrainData<B>, cap: number): number[] {
  return Array.from({ length: Math.min(cap, data.size) }, (_, i) => i);
}
