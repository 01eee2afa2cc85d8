/**
 * Gradient fields of token-level objectives (SGDPO, LD-DPO, ...) over the (u_w, u_l) plane,
 * under a stated assumption about how a sequence's log-ratio is spread over its tokens.
 *
 * A token-level objective reads per-token log-probs, so its gradient weights are not a function
 * of (u_w, u_l) alone. {@link tokenGradientField} places synthetic completions at each grid
 * point: `n` tokens per side, each with reference log-prob `refToken` and log-ratio
 * `u/n + spread·(z_k − z̄)` (z standard normal, centred so the ratios sum to `u` exactly), and
 * averages over `samples` draws (which also redraws SGDPO's random pilot).
 *
 * The weights reported are derivatives along a uniform per-token shift: if every token's
 * log-prob moves by `δ/n`, the sequence score moves by `δ`, and
 * `g_w = ∂L/∂ℓθ(y_w) + (1/n)·Σ_k ∂L/∂ℓθ(y_w,k)` (sums and tokens are separate inputs of the
 * objective; objectives that read only the sums get their plain `g_w`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../core/rng.ts";
import type { GradientField, GridAxis } from "./gradient_field.ts";
import { runAsync, runSync, type WeightReads, weightReads } from "./gradients.ts";
import type { Objective } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

/** Grid and token assumptions for {@link tokenGradientField}. */
export interface TokenFieldSpec {
  /** Values of u_w (x axis). */
  uW: GridAxis;
  /** Values of u_l (y axis). */
  uL: GridAxis;
  /** Completion tokens of the chosen response (default 8). */
  chosenTokens?: number;
  /** Completion tokens of the rejected response (default: `chosenTokens`). */
  rejectedTokens?: number;
  /** Std of the per-token log-ratios around `u/n` (default 0: every token carries `u/n`). */
  spread?: number;
  /** Draws averaged per grid point (default 1). */
  samples?: number;
  /** Seed of the spread draws (default 0). */
  seed?: number;
  /** Reference log-prob of every token (default −2). */
  refToken?: number;
}

function axis(a: GridAxis, name: string): number[] {
  if (Array.isArray(a)) {
    if (a.length >= 1 && a.every(Number.isFinite)) return [...a];
  } else {
    const { min, max, n } = a as { min: number; max: number; n: number };
    if (Number.isInteger(n) && n >= 2 && Number.isFinite(min) && min < max) {
      return Array.from({ length: n }, (_, i) => min + (max - min) * i / (n - 1));
    }
  }
  throw new RangeError(
    `tokenGradientField: '${name}' must be {min, max, n} with min < max and n >= 2, or a list of numbers`,
  );
}

function count(x: number | undefined, dflt: number, name: string): number {
  const v = x ?? dflt;
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`tokenGradientField: '${name}' must be a positive integer, got ${v}`);
  }
  return v;
}

/** Per-token log-ratios of one completion: sum exactly `u`. */
function ratios(u: number, n: number, spread: number, rng: Rng): number[] {
  if (spread === 0) return Array(n).fill(u / n);
  const z = Array.from({ length: n }, () => rng.normal());
  const zbar = z.reduce((a, b) => a + b, 0) / n;
  return z.map((v) => u / n + spread * (v - zbar));
}

/**
 * Expected loss, `g_w` and `g_l` of any objective — token-level ones included — over a
 * (u_w, u_l) grid, with synthetic per-token data (see the module doc for the assumption).
 * Per-pair objectives are evaluated one batch per draw, batch-coupled ones point by point.
 * The result has the shape of `gradientField`'s, so the plot builders take it as is.
 *
 * Reads synchronously (cpu and wasm backends only); on webgpu use
 * {@link tokenGradientFieldAsync}.
 *
 * @example SGDPO's chosen weight relative to DPO's at one point
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { tokenGradientField } from "./token_field.ts";
 * import { sgdpo } from "./sgdpo.ts";
 * const f = tokenGradientField(sgdpo({ r1: 1, r2: 1 }), { uW: [0], uL: [0] });
 * console.log(f.gW[0][0] / -0.05); // 0.5 (full pilots: half of DPO's weight)
 * ```
 */
export function tokenGradientField(objective: Objective, spec: TokenFieldSpec): GradientField {
  return runSync(tokenFieldReads(objective, spec));
}

/**
 * {@link tokenGradientField} on any backend (webgpu included), read back asynchronously; the
 * same draws and the same numbers.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { tokenGradientFieldAsync } from "./token_field.ts";
 * import { sgdpo } from "./sgdpo.ts";
 * const f = await tokenGradientFieldAsync(sgdpo({ r1: 1, r2: 1 }), { uW: [0], uL: [0] });
 * console.log(f.gW[0][0] / -0.05); // 0.5
 * ```
 */
export function tokenGradientFieldAsync(
  objective: Objective,
  spec: TokenFieldSpec,
): Promise<GradientField> {
  return runAsync(tokenFieldReads(objective, spec));
}

function* tokenFieldReads(objective: Objective, spec: TokenFieldSpec): WeightReads<GradientField> {
  const uW = axis(spec.uW, "uW"), uL = axis(spec.uL, "uL");
  const nw = count(spec.chosenTokens, 8, "chosenTokens");
  const nl = count(spec.rejectedTokens, nw, "rejectedTokens");
  const samples = count(spec.samples, 1, "samples");
  const spread = spec.spread ?? 0;
  if (!(spread >= 0) || !Number.isFinite(spread)) {
    throw new RangeError(`tokenGradientField: 'spread' must be >= 0, got ${spread}`);
  }
  const refTok = spec.refToken ?? -2;
  const rng = new Rng(spec.seed ?? 0);
  const points: [number, number][] = [];
  for (const l of uL) for (const w of uW) points.push([w, l]);
  const sums = { loss: new Float64Array(points.length), gW: new Float64Array(points.length) };
  const gLsum = new Float64Array(points.length);

  const evaluate = function* (pts: [number, number][], offset: number): WeightReads<void> {
    const b = pts.length;
    const pw = pts.map(([w]) => ratios(w, nw, spread, rng).map((r) => refTok + r));
    const pl = pts.map(([, l]) => ratios(l, nl, spread, rng).map((r) => refTok + r));
    const rowSum = (m: number[][]) => m.map((r) => r.reduce((a, c) => a + c, 0));
    const s: SequenceScores = {
      policyChosen: tf.tensor1d(rowSum(pw)),
      policyRejected: tf.tensor1d(rowSum(pl)),
      refChosen: tf.fill([b], refTok * nw) as tf.Tensor1D,
      refRejected: tf.fill([b], refTok * nl) as tf.Tensor1D,
      chosenLength: tf.fill([b], nw) as tf.Tensor1D,
      rejectedLength: tf.fill([b], nl) as tf.Tensor1D,
      tokens: {
        policyChosen: tf.tensor2d(pw),
        policyRejected: tf.tensor2d(pl),
        refChosen: tf.fill([b, nw], refTok) as tf.Tensor2D,
        refRejected: tf.fill([b, nl], refTok) as tf.Tensor2D,
        chosenMask: tf.ones([b, nw]) as tf.Tensor2D,
        rejectedMask: tf.ones([b, nl]) as tf.Tensor2D,
      },
    };
    try {
      const g = yield* weightReads(objective, s);
      const tok = g.tokens!;
      for (let i = 0; i < b; i++) {
        sums.loss[offset + i] += g.losses[i];
        sums.gW[offset + i] += g.gW[i] + tok.chosen[i].reduce((a, c) => a + c, 0) / nw;
        gLsum[offset + i] += g.gL[i] + tok.rejected[i].reduce((a, c) => a + c, 0) / nl;
      }
    } finally {
      tf.dispose([
        ...(Object.values(s).filter((v) => v instanceof tf.Tensor) as tf.Tensor[]),
        ...(Object.values(s.tokens!) as tf.Tensor[]),
      ]);
    }
  };

  for (let k = 0; k < samples; k++) {
    if (objective.batchCoupled) {
      for (const [i, p] of points.entries()) yield* evaluate([p], i);
    } else {
      yield* evaluate(points, 0);
    }
  }
  const grid = (v: Float64Array) =>
    uL.map((_, i) =>
      Array.from(v.subarray(i * uW.length, (i + 1) * uW.length), (x) => x / samples)
    );
  return { uW, uL, loss: grid(sums.loss), gW: grid(sums.gW), gL: grid(gLsum) };
}
