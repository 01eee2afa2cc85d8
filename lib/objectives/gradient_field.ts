/**
 * The gradient field of any objective: loss, `g_w` and `g_l` over a grid of the (u_w, u_l)
 * plane, by automatic differentiation (the weights at one point are `gradients.ts`'s
 * `gradientWeights`). Like the weights, each analysis comes synchronous (cpu, wasm) and
 * `...Async` (every backend).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  type GradientWeights,
  runAsync,
  runSync,
  type WeightReads,
  weightReads,
} from "./gradients.ts";
import type { Objective } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

/** Axis of a grid: `n` ≥ 2 evenly spaced points from `min` to `max` inclusive, or explicit values. */
export type GridAxis = { min: number; max: number; n: number } | readonly number[];

/** Grid and fixed values for {@link gradientField}. */
export interface FieldSpec {
  /** Values of u_w = ℓθ(y_w) − ℓref(y_w) (x axis). */
  uW: GridAxis;
  /** Values of u_l (y axis). */
  uL: GridAxis;
  /** Reference log-probs (default 0), so ℓθ = u + ℓref. */
  refChosen?: number;
  refRejected?: number;
  /** Completion lengths (default 1). */
  chosenLength?: number;
  rejectedLength?: number;
}

/** Result of {@link gradientField}: matrices indexed `[iL][iW]` (rows = u_l), plotly-ready. */
export interface GradientField {
  uW: number[];
  uL: number[];
  loss: number[][];
  gW: number[][];
  gL: number[][];
}

function axis(a: GridAxis, name: string): number[] {
  if (Array.isArray(a)) {
    if (a.length >= 1 && a.every(Number.isFinite)) return [...a];
  } else {
    const { min, max, n } = a as { min: number; max: number; n: number };
    if (
      Number.isInteger(n) && n >= 2 && Number.isFinite(min) && Number.isFinite(max) && min < max
    ) {
      return Array.from({ length: n }, (_, i) => min + (max - min) * i / (n - 1));
    }
  }
  throw new RangeError(
    `gradientField: '${name}' must be {min, max, n} with min < max and n >= 2, or a list of numbers`,
  );
}

/**
 * Evaluate loss, `g_w` and `g_l` over a (u_w, u_l) grid, for plotting an objective's gradient
 * field (e.g. arrows `(−g_w, −g_l)`, the direction gradient descent moves the log-probs).
 * Per-pair objectives are evaluated as one batch; batch-coupled ones point by point (B = 1).
 * Token-level objectives cannot be placed on this plane and are refused.
 *
 * Reads synchronously (cpu and wasm backends only); on webgpu use {@link gradientFieldAsync}.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { gradientField } from "./gradient_field.ts";
 * import { dpo } from "./trl.ts";
 * const f = gradientField(dpo({ beta: 0.1 }), {
 *   uW: { min: -10, max: 10, n: 3 },
 *   uL: { min: -10, max: 10, n: 3 },
 * });
 * console.log(f.gW[1][1]); // -0.05 (h = 0)
 * ```
 */
export function gradientField(objective: Objective, spec: FieldSpec): GradientField {
  return runSync(fieldReads(objective, spec));
}

/**
 * {@link gradientField} on any backend (webgpu included), read back asynchronously; the
 * synchronous version works on cpu and wasm only.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { gradientFieldAsync } from "./gradient_field.ts";
 * import { dpo } from "./trl.ts";
 * const f = await gradientFieldAsync(dpo({ beta: 0.1 }), { uW: [0], uL: [0] });
 * console.log(f.gL[0][0]); // 0.05
 * ```
 */
export function gradientFieldAsync(objective: Objective, spec: FieldSpec): Promise<GradientField> {
  return runAsync(fieldReads(objective, spec));
}

function* fieldReads(objective: Objective, spec: FieldSpec): WeightReads<GradientField> {
  if (objective.needsTokens) {
    throw new TypeError(
      `gradientField: ${objective.name} needs per-token scores; it has no (u_w, u_l) field`,
    );
  }
  const uW = axis(spec.uW, "uW");
  const uL = axis(spec.uL, "uL");
  const rc = spec.refChosen ?? 0, rr = spec.refRejected ?? 0;
  const lc = spec.chosenLength ?? 1, lr = spec.rejectedLength ?? 1;
  const pcs: number[] = [], prs: number[] = [];
  for (const l of uL) for (const w of uW) pcs.push(w + rc), prs.push(l + rr);
  const run = function* (pc: number[], pr: number[]): WeightReads<GradientWeights> {
    const n = pc.length;
    const s: SequenceScores = {
      policyChosen: tf.tensor1d(pc),
      policyRejected: tf.tensor1d(pr),
      refChosen: tf.fill([n], rc) as tf.Tensor1D,
      refRejected: tf.fill([n], rr) as tf.Tensor1D,
      chosenLength: tf.fill([n], lc) as tf.Tensor1D,
      rejectedLength: tf.fill([n], lr) as tf.Tensor1D,
    };
    try {
      return yield* weightReads(objective, s);
    } finally {
      tf.dispose(Object.values(s) as tf.Tensor[]);
    }
  };
  let flat: GradientWeights;
  if (objective.batchCoupled) {
    flat = { losses: [], gW: [], gL: [] };
    for (let i = 0; i < pcs.length; i++) {
      const g = yield* run([pcs[i]], [prs[i]]);
      flat.losses.push(g.losses[0]), flat.gW.push(g.gW[0]), flat.gL.push(g.gL[0]);
    }
  } else {
    flat = yield* run(pcs, prs);
  }
  const grid = (v: number[]) => uL.map((_, i) => v.slice(i * uW.length, (i + 1) * uW.length));
  return { uW, uL, loss: grid(flat.losses), gW: grid(flat.gW), gL: grid(flat.gL) };
}
