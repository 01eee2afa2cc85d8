/**
 * `sgdpo_multiplier`: our earlier **reconstruction** of SGDPO (Zhu et al., arXiv 2505.12435)
 * from its abstract, kept for comparison. It is NOT the paper's method: the authors' code
 * (`sgdpo.ts`) contrasts full sequences with pilot sums inside two sigmoid terms; this one keeps
 * DPO's loss value and rescales DPO's gradient weights by pilot-driven multipliers.
 *
 * What the abstract says: a "pilot term" steers the gradient flow to control the updates of the
 * chosen and rejected rewards; built from random sub-sequences of the chosen and the rejected
 * response (fractions r1, r2; same or different random indices); goals: G1 enlarge the chosen
 * reward's update, G2 keep the rejected reward from falling too fast.
 *
 * Reconstruction (ours):
 * 1. Pilot: per pair, sample k = max(1, round(r·n)) of the n completion tokens of each side
 *    (seeded; "same" = the same completion positions on both sides where both exist,
 *    "different" = independent draws) and form the pilot log-ratio estimates
 *    `p̂ = (n/k)·Σ_{t∈sample} (log πθ(y_t) − log πref(y_t))`, detached — an unbiased estimate of
 *    u = ℓθ − ℓref from a fraction of the tokens.
 * 2. Rule ({@link defaultPilotRule}): gradient multipliers `k_w = 1 + λ_w·σ(−β p̂_w) ∈ [1, 1+λ_w]`
 *    and `k_l = 1 − λ_l·σ(−β p̂_l) ∈ [1−λ_l, 1]`: the chosen push grows most when the pilot sees
 *    the chosen response losing likelihood (G1), the rejected push shrinks most when the pilot
 *    sees the rejected response already pushed down (G2).
 * 3. Loss: `L = softplus(−βh) + c·[−(k_w−1)(u_w − sg u_w) + (k_l−1)(u_l − sg u_l)]`, `c = sg[βσ(−βh)]`.
 *    Its value equals DPO's; its gradient weights are `g_w = −βσ(−βh)·k_w`, `g_l = βσ(−βh)·k_l`,
 *    so `g_w ≤ g_w(DPO) < 0 < g_l ≤ g_l(DPO)`.
 *
 * Other rules: pass `rule` (see {@link defaultPilotRule}).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective, type Resolved } from "./define.ts";
import { sigmoid, softplus, stopGradient } from "./numerics.ts";
import { BETA, type ParamSpecs } from "./params.ts";
import { selectRanked } from "./sgdpo.ts";
import { PAIRED_TOKEN_FIELDS, requireRef, requireTokens } from "./scores.ts";
import type { LossOutput, Objective } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";
import { mulberry32 } from "../core/rng.ts";

/** Pilot estimates handed to a {@link PilotRule}; all detached, `[B]`. */
export interface Pilot {
  /** p̂_w: pilot estimate of u_w = ℓθ(y_w) − ℓref(y_w). */
  chosen: tf.Tensor1D;
  /** p̂_l: pilot estimate of u_l. */
  rejected: tf.Tensor1D;
  /** The full margin h = u_w − u_l (detached), for rules that want it. */
  margin: tf.Tensor1D;
  beta: number;
}

/**
 * A combination rule: pilot → multipliers `{ chosen: k_w, rejected: k_l }` of DPO's gradient
 * weights (`g_w = k_w·g_w(DPO)`, `g_l = k_l·g_l(DPO)`). The result is detached by the caller.
 */
export type PilotRule = (
  pilot: Pilot,
  params: { lambdaChosen: number; lambdaRejected: number },
) => { chosen: tf.Tensor1D; rejected: tf.Tensor1D };

/**
 * The reconstructed SGDPO rule: `k_w = 1 + λ_w·σ(−β p̂_w)`, `k_l = 1 − λ_l·σ(−β p̂_l)`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { defaultPilotRule } from "./sgdpo_multiplier.ts";
 * const z = tf.tensor1d([0]);
 * const k = defaultPilotRule({ chosen: z, rejected: z, margin: z, beta: 0.1 },
 *   { lambdaChosen: 0.5, lambdaRejected: 0.5 });
 * console.log(k.chosen.dataSync(), k.rejected.dataSync()); // [1.25] [0.75]
 * ```
 */
export const defaultPilotRule: PilotRule = (pilot, p) => ({
  chosen: tf.add(
    1,
    tf.mul(sigmoid(tf.mul(pilot.chosen, -pilot.beta)), p.lambdaChosen),
  ) as tf.Tensor1D,
  rejected: tf.sub(
    1,
    tf.mul(sigmoid(tf.mul(pilot.rejected, -pilot.beta)), p.lambdaRejected),
  ) as tf.Tensor1D,
});

/** The seeded PRNG this objective draws its pilots with (lib/core/rng.ts), re-exported. */
export { mulberry32 };

/** Options of {@link samplePilotMasks}. */
export interface PilotSampling {
  r1: number;
  r2: number;
  mode: "same" | "different";
  rng: () => number;
}

/** Ranks of `keys` in stable ascending order: `rank[q]` = place of entry q (ties by index). */
function ranksOf(keys: readonly number[]): number[] {
  const order = keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
  const rank = new Array<number>(keys.length);
  order.forEach((q, r) => rank[q] = r);
  return rank;
}

/**
 * The device half of the sampling: per row, select the k(n) completion positions whose
 * relative index (0 = first completion token) has the smallest key rank, where n is the row's
 * completion length; plus the scale n/k. `ranks` is `[B, R]` with R at least the row width.
 * Nothing is read back: n and the relative indices come from the mask with tensor ops, and k(n)
 * and n/k are looked up in tables computed here for every possible n.
 */
function selectPilot(
  mask: tf.Tensor2D,
  ranks: number[][],
  r: number,
): { sel: tf.Tensor2D; scale: tf.Tensor1D } {
  const [b, t] = mask.shape;
  if (b === 0 || t === 0) {
    return { sel: tf.zeros([b, t]) as tf.Tensor2D, scale: tf.zeros([b]) as tf.Tensor1D };
  }
  const kOf = (n: number) => n === 0 ? 0 : Math.min(n, Math.max(1, Math.round(r * n)));
  const kTable = Array.from({ length: t + 1 }, (_, n) => kOf(n));
  const sTable = kTable.map((k, n) => k > 0 ? n / k : 0);
  return tf.tidy(() => {
    const n = tf.cast(tf.sum(tf.cast(tf.greater(mask, 0), "float32"), 1), "int32");
    const k = tf.gather(tf.tensor1d(kTable, "int32"), n) as tf.Tensor1D;
    return {
      sel: selectRanked(mask, ranks, k),
      scale: tf.gather(tf.tensor1d(sTable, "float32"), n) as tf.Tensor1D,
    };
  });
}

/**
 * Random sub-sequence selection masks (`[B, T]`, 1 = sampled) over completion tokens, plus the
 * scale n/k per pair that turns a sampled sum into an estimate of the full sum.
 *
 * Per row, keys are drawn from `rng` for every possible relative completion index (the row
 * width, so the number of draws does not depend on the data), and the k = max(1, round(r·n))
 * indices with the smallest keys among the n completion tokens are taken; "same" mode shares
 * the keys between the two sides. The masks are never read back (the selection is computed on
 * the device), so this runs on every backend, webgpu included.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { mulberry32, samplePilotMasks } from "./sgdpo_multiplier.ts";
 * const m = tf.tensor2d([[0, 1, 1, 1, 1]]);
 * const s = samplePilotMasks(m, m, { r1: 0.5, r2: 0.5, mode: "same", rng: mulberry32(1) });
 * console.log(await tf.sum(s.chosen).data()); // [2]
 * ```
 */
export function samplePilotMasks(
  chosenMask: tf.Tensor2D,
  rejectedMask: tf.Tensor2D,
  opts: PilotSampling,
): {
  chosen: tf.Tensor2D;
  rejected: tf.Tensor2D;
  scaleChosen: tf.Tensor1D;
  scaleRejected: tf.Tensor1D;
} {
  const [b, tw] = chosenMask.shape;
  const tl = rejectedMask.shape[1];
  if (rejectedMask.shape[0] !== b) {
    throw new RangeError(
      `samplePilotMasks: chosenMask has ${b} rows, rejectedMask ${rejectedMask.shape[0]}`,
    );
  }
  const same = opts.mode === "same";
  const ranksW: number[][] = [], ranksL: number[][] = [];
  for (let i = 0; i < b; i++) {
    // "same": one key per relative index, shared, so both sides take the same indices.
    const kw = Array.from({ length: same ? Math.max(tw, tl) : tw }, opts.rng);
    const kl = same ? kw : Array.from({ length: tl }, opts.rng);
    ranksW.push(ranksOf(kw));
    ranksL.push(ranksOf(kl));
  }
  const w = selectPilot(chosenMask, ranksW, opts.r1);
  const l = selectPilot(rejectedMask, ranksL, opts.r2);
  return { chosen: w.sel, rejected: l.sel, scaleChosen: w.scale, scaleRejected: l.scale };
}

/** Parameters of {@link sgdpoMultiplier}. */
export interface SgdpoMultiplierParams {
  /** β, default 0.1. */
  beta?: number;
  /** Fraction of chosen tokens in the pilot, (0, 1], default 0.5. */
  r1?: number;
  /** Fraction of rejected tokens in the pilot, (0, 1], default 0.5. */
  r2?: number;
  /** "same" or "different" (default) random indices. */
  mode?: "same" | "different";
  /** Seed of the sampling stream, default 0. */
  seed?: number;
  /** λ_w ∈ [0, 1]: maximum relative boost of the chosen update, default 0.5. */
  lambdaChosen?: number;
  /** λ_l ∈ [0, 1]: maximum relative damping of the rejected update, default 0.5. */
  lambdaRejected?: number;
}

/**
 * `sgdpo_multiplier`, our **reconstruction** of SGDPO from its abstract (see the module doc; the
 * paper's method is {@link https://arxiv.org/abs/2505.12435 | sgdpo}, `sgdpo.ts`). Needs
 * `scores.tokens` with policy and reference per-token log-probs and masks. Each call draws new
 * pilot positions from the seeded stream; `reset()` restarts it. Pass `{ rule }` to supply your
 * own combination rule (the raw interface).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { sgdpoMultiplier } from "./sgdpo_multiplier.ts";
 * // The raw interface: your own rule from the pilot estimates.
 * const mine = sgdpoMultiplier({ r1: 0.3, mode: "same" }, {
 *   rule: (pilot) => ({
 *     chosen: tf.add(1, tf.sigmoid(tf.neg(pilot.chosen))) as tf.Tensor1D,
 *     rejected: tf.onesLike(pilot.rejected) as tf.Tensor1D,
 *   }),
 * });
 * console.log(mine.needsTokens, mine.params.rule); // true custom
 * ```
 */
export function sgdpoMultiplier(
  params: SgdpoMultiplierParams = {},
  options: { rule?: PilotRule } = {},
): Objective {
  const rule = options.rule ?? defaultPilotRule;
  let rng = mulberry32(0);
  let seed = 0;
  const obj = defineObjective({
    name: "sgdpo_multiplier",
    specs: MULTIPLIER_SPECS,
    needsTokens: () => true,
    validate: (p) => {
      seed = p.seed;
      rng = mulberry32(seed);
    },
    loss: (s: SequenceScores, p) => multiplierLoss(s, p, rng, rule),
    reset: () => {
      rng = mulberry32(seed);
    },
  }, params as Record<string, unknown>);
  return {
    ...obj,
    params: Object.freeze({ ...obj.params, rule: options.rule ? "custom" : "default" }),
  };
}

const MULTIPLIER_SPECS = {
  beta: BETA(0.1),
  r1: {
    default: 0.5,
    type: "number",
    range: "(0, 1]",
    about: "fraction of y_w tokens in the pilot",
  },
  r2: {
    default: 0.5,
    type: "number",
    range: "(0, 1]",
    about: "fraction of y_l tokens in the pilot",
  },
  mode: {
    default: "different",
    type: "string",
    values: ["same", "different"],
    about: "same or different random indices for y_w and y_l",
  },
  seed: {
    default: 0,
    type: "integer",
    range: "[0, inf)",
    about: "seed of the sampling stream",
  },
  lambdaChosen: {
    default: 0.5,
    type: "number",
    range: "[0, 1]",
    about: "λ_w: chosen update boosted by up to (1+λ_w)",
  },
  lambdaRejected: {
    default: 0.5,
    type: "number",
    range: "[0, 1]",
    about: "λ_l: rejected update damped by up to (1−λ_l)",
  },
} as const satisfies ParamSpecs;

/** The pilot estimates of one batch: fresh pilot positions from `rng`, detached log-ratios. */
function pilotOf(
  s: SequenceScores,
  p: Resolved<typeof MULTIPLIER_SPECS>,
  rng: () => number,
): { pilot: Pilot; uW: tf.Tensor1D; uL: tf.Tensor1D; h: tf.Tensor1D } {
  const ref = requireRef("sgdpo_multiplier", s);
  const t = requireTokens("sgdpo_multiplier", s, PAIRED_TOKEN_FIELDS);
  const sel = samplePilotMasks(t.chosenMask, t.rejectedMask, {
    r1: p.r1,
    r2: p.r2,
    mode: p.mode,
    rng,
  });
  const est = (pol: tf.Tensor2D, rf: tf.Tensor2D, m: tf.Tensor2D, scale: tf.Tensor1D) =>
    stopGradient(tf.mul(tf.sum(tf.mul(tf.sub(pol, rf), m), 1), scale)) as tf.Tensor1D;
  const uW = tf.sub(s.policyChosen, ref.chosen) as tf.Tensor1D;
  const uL = tf.sub(s.policyRejected, ref.rejected) as tf.Tensor1D;
  const h = tf.sub(uW, uL) as tf.Tensor1D;
  const pilot: Pilot = {
    chosen: est(t.policyChosen, t.refChosen!, sel.chosen, sel.scaleChosen),
    rejected: est(t.policyRejected, t.refRejected!, sel.rejected, sel.scaleRejected),
    margin: stopGradient(h),
    beta: p.beta,
  };
  return { pilot, uW, uL, h };
}

/** DPO's loss value plus the steering term that rescales its gradient weights by k_w, k_l. */
function multiplierLoss(
  s: SequenceScores,
  p: Resolved<typeof MULTIPLIER_SPECS>,
  rng: () => number,
  rule: PilotRule,
): LossOutput {
  const beta = p.beta;
  const { pilot, uW, uL, h } = pilotOf(s, p, rng);
  const k = rule(pilot, {
    lambdaChosen: p.lambdaChosen,
    lambdaRejected: p.lambdaRejected,
  });
  const kw = stopGradient(k.chosen);
  const kl = stopGradient(k.rejected);
  const c = stopGradient(tf.mul(sigmoid(tf.mul(h, -beta)), beta));
  const dW = tf.sub(uW, stopGradient(uW));
  const dL = tf.sub(uL, stopGradient(uL));
  const steer = tf.mul(c, tf.add(tf.neg(tf.mul(tf.sub(kw, 1), dW)), tf.mul(tf.sub(kl, 1), dL)));
  return {
    losses: tf.add(softplus(tf.mul(h, -beta)), steer) as tf.Tensor1D,
    extras: {
      pilotChosen: pilot.chosen,
      pilotRejected: pilot.rejected,
      kChosen: kw,
      kRejected: kl,
    },
  };
}
