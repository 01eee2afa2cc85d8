/**
 * SGDPO, Self-Guided DPO (Zhu, Liu, Wang, Wu, Zhang; arXiv 2505.12435, ACL Findings 2025), as
 * its authors' training code computes it (repository `WNQzhu/SGDPO`,
 * `code/scripts/pdpo_trainer_v4.py`, `pdpo_loss` and `get_pilot_logps`; defaults in
 * `pdpo_config.py`). Formula from the authors' code, not a reconstruction.
 *
 * Per pair, with completion lengths n_w, n_l and m = min(n_w, n_l):
 * - pilot index sets, drawn afresh at every call, uniformly without replacement and
 *   independently for the two sides (the paper's "different indices" variant, the one the code
 *   runs): `S_w`, `k_w = max(⌊r1·m⌋, 1)` of the n_w positions of y_w; `S_l`,
 *   `k_l = max(⌊r2·m⌋, 1)` of the n_l positions of y_l;
 * - pilot log-ratios `p_w = Σ_{t∈S_w} (log πθ − log πref)(y_w,t)`, `p_l` likewise: plain sums
 *   (no n/k rescaling), held constant (the code rebuilds them as fresh tensors: no gradient);
 * - `L = ½·ℓ_ε(β(u_w − p_l)) + ½·ℓ_ε(β(p_w − u_l))`, `ℓ_ε(z) = (1−ε)·softplus(−z) + ε·softplus(z)`
 *   (the code's only loss type, "sigmoid", with label smoothing ε), u = ℓθ − ℓref summed.
 *
 * Gradient weights (pilots constant): `g_w = (β/2)·ℓ_ε'(β(u_w − p_l))`,
 * `g_l = −(β/2)·ℓ_ε'(β(p_w − u_l))`, with `ℓ_ε'(z) = −(1−ε)σ(−z) + εσ(z)`. Every token of a
 * completion gets the same weight, since only the full sums carry gradient.
 *
 * Randomness: the draws are a pure function of (`seed`, the number of calls since `reset()`,
 * the row, the side, the completion length), so a run repeats exactly, the draws do not depend
 * on padding, and the state a checkpoint needs is one counter (`saveState`/`loadState`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective } from "./define.ts";
import { softplus, stopGradient } from "./numerics.ts";
import { BETA, LABEL_SMOOTHING } from "./params.ts";
import { PAIRED_TOKEN_FIELDS, requireRef, requireTokens } from "./scores.ts";
import type { Objective, ObjectiveState } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

/** murmur3's 32-bit finaliser: a bijective mix with full avalanche. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The random key of relative completion position `q` of one side of one row at one call: a
 * uniform float in [0, 1) determined by its five arguments. A side's pilot set is the k
 * positions among its n with the smallest keys (ties by position), which is a uniformly drawn
 * k-subset; the chosen (`side` 0) and rejected (`side` 1) keys are independent.
 *
 * @example
 * ```ts
 * import { pilotKey } from "./sgdpo.ts";
 * console.log(pilotKey(0, 0, 0, 0, 3) === pilotKey(0, 0, 0, 0, 3)); // true
 * ```
 */
export function pilotKey(seed: number, call: number, row: number, side: 0 | 1, q: number): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ (call >>> 0));
  h = fmix32(h ^ Math.imul(row >>> 0, 2) ^ side);
  h = fmix32(h ^ (q >>> 0));
  return h / 4294967296;
}

/** Pilot sizes `max(⌊r·min(n_w, n_l)⌋, 1)`, as the authors' code computes them (`int()`). */
export function pilotSize(r: number, nW: number, nL: number): number {
  return Math.max(Math.floor(r * Math.min(nW, nL)), 1);
}

/** Relative positions (0 = first completion token) of the pilot sets {@link sgdpo} draws. */
export interface PilotSets {
  chosen: number[][];
  rejected: number[][];
}

/**
 * The pilot index sets {@link sgdpo} draws at call `call` (0 = the first call after a reset)
 * for rows with the given completion lengths: sorted relative positions. The objective selects
 * the same sets on the device; this is the JavaScript statement of the draw, for tests,
 * notebooks and the CLI.
 *
 * @example
 * ```ts
 * import { pilotSets } from "./sgdpo.ts";
 * const s = pilotSets({ seed: 0, call: 0, r1: 0.6, r2: 0.9 }, [5], [8]);
 * console.log(s.chosen[0].length, s.rejected[0].length); // 3 4
 * ```
 */
export function pilotSets(
  opts: { seed: number; call: number; r1: number; r2: number },
  chosenLengths: readonly number[],
  rejectedLengths: readonly number[],
): PilotSets {
  const pick = (row: number, side: 0 | 1, n: number, k: number) =>
    Array.from({ length: n }, (_, q) => q)
      .map((q) => ({ q, key: pilotKey(opts.seed, opts.call, row, side, q) }))
      .sort((a, b) => a.key - b.key || a.q - b.q)
      .slice(0, Math.min(k, n))
      .map((e) => e.q)
      .sort((a, b) => a - b);
  const out: PilotSets = { chosen: [], rejected: [] };
  chosenLengths.forEach((nW, i) => {
    const nL = rejectedLengths[i];
    out.chosen.push(pick(i, 0, nW, pilotSize(opts.r1, nW, nL)));
    out.rejected.push(pick(i, 1, nL, pilotSize(opts.r2, nW, nL)));
  });
  return out;
}

/** Ranks of `keys` in ascending order, ties by index: `rank[q]` = place of entry q. */
function ranksOf(keys: readonly number[]): number[] {
  const order = keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
  const rank = new Array<number>(keys.length);
  order.forEach((q, r) => rank[q] = r);
  return rank;
}

/**
 * Selection mask `[B, T]`: per row, the `k[i]` completion positions whose relative index has
 * the smallest rank in `ranks[i]` (`[B][≥T]`). Computed with tensor ops from the mask, so no
 * value is read back from the device (webgpu cannot read synchronously inside a tape).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { selectRanked } from "./sgdpo.ts";
 * const sel = selectRanked(tf.tensor2d([[0, 1, 1, 1]]), [[2, 0, 1, 3]], tf.tensor1d([2], "int32"));
 * console.log(Array.from(sel.dataSync())); // [0, 0, 1, 1]
 * ```
 */
export function selectRanked(mask: tf.Tensor2D, ranks: number[][], k: tf.Tensor1D): tf.Tensor2D {
  const [b, t] = mask.shape;
  if (b === 0 || t === 0) return tf.zeros([b, t]) as tf.Tensor2D;
  const width = ranks[0].length;
  return tf.tidy(() => {
    const on = tf.cast(tf.greater(mask, 0), "float32");
    // Relative index of each completion position (exact: sums of 0/1 in float32).
    const q = tf.cast(tf.maximum(tf.sub(tf.cumsum(on, 1), 1), 0), "int32");
    const rowStart = tf.tensor2d(Array.from({ length: b }, (_, i) => [i * width]), [b, 1], "int32");
    const keyAt = tf.gather(tf.tensor1d(ranks.flat(), "float32"), tf.add(q, rowStart)) as tf.Tensor;
    // Positions outside the completion sort after every completion position.
    const key = tf.where(tf.greater(on, 0), keyAt, tf.fill([b, t], width + 1));
    // topk breaks ties by lower index on every backend; the order of the order is the place.
    const order = tf.topk(tf.neg(key), t).indices;
    const place = tf.topk(tf.neg(tf.cast(order, "float32")), t).indices;
    const sel = tf.cast(tf.less(place, tf.expandDims(tf.cast(k, "int32"), 1)), "float32");
    return tf.mul(sel, on) as tf.Tensor2D;
  });
}

/** Pilot sizes per row on the device: `max(⌊r·m⌋, 1)` looked up in a table by m. */
function sizes(m: tf.Tensor1D, r: number, maxM: number): tf.Tensor1D {
  const table = Array.from({ length: maxM + 1 }, (_, n) => pilotSize(r, n, n));
  return tf.gather(tf.tensor1d(table, "int32"), tf.cast(m, "int32")) as tf.Tensor1D;
}

/** Hand-picked pilot sets for a call (the raw interface): relative positions per row. */
export type PilotOverride = (call: number, rows: number) => PilotSets;

/** Parameters of {@link sgdpo}. */
export interface SgdpoParams {
  /** β, default 0.1. */
  beta?: number;
  /** `sample_ratio_r1`: chosen pilot size r1·min(n_w, n_l), in (0, 1], default 0.6. */
  r1?: number;
  /** `sample_ratio_r2`: rejected pilot size r2·min(n_w, n_l), in (0, 1], default 0.9. */
  r2?: number;
  /** Label smoothing ε, default 0. */
  labelSmoothing?: number;
  /** Seed of the pilot draws, default 0. */
  seed?: number;
}

function pilotMasks(
  t: { chosenMask: tf.Tensor2D; rejectedMask: tf.Tensor2D },
  p: { seed: number; r1: number; r2: number },
  call: number,
  override: PilotOverride | undefined,
): { chosen: tf.Tensor2D; rejected: tf.Tensor2D; kW: tf.Tensor1D; kL: tf.Tensor1D } {
  const [b, tw] = t.chosenMask.shape;
  const tl = t.rejectedMask.shape[1];
  const nW = tf.sum(tf.cast(tf.greater(t.chosenMask, 0), "float32"), 1);
  const nL = tf.sum(tf.cast(tf.greater(t.rejectedMask, 0), "float32"), 1);
  if (override) {
    // Hand-picked sets: a set's position q becomes rank q - |set| (before every other position).
    const sets = override(call, b);
    const ranks = (set: number[], width: number) => {
      const r = Array.from({ length: width }, (_, q) => q + width);
      set.forEach((q, j) => (r[q] = j));
      return ranksOf(r);
    };
    const kC = tf.tensor1d(sets.chosen.map((s) => s.length), "int32");
    const kR = tf.tensor1d(sets.rejected.map((s) => s.length), "int32");
    return {
      chosen: selectRanked(t.chosenMask, sets.chosen.map((s) => ranks(s, tw)), kC),
      rejected: selectRanked(t.rejectedMask, sets.rejected.map((s) => ranks(s, tl)), kR),
      kW: tf.cast(kC, "float32") as tf.Tensor1D,
      kL: tf.cast(kR, "float32") as tf.Tensor1D,
    };
  }
  const keys = (side: 0 | 1, width: number) =>
    Array.from(
      { length: b },
      (_, i) =>
        ranksOf(Array.from({ length: width }, (_, q) => pilotKey(p.seed, call, i, side, q))),
    );
  const m = tf.minimum(nW, nL) as tf.Tensor1D;
  const kW = sizes(m, p.r1, Math.min(tw, tl));
  const kL = sizes(m, p.r2, Math.min(tw, tl));
  const chosen = selectRanked(t.chosenMask, keys(0, tw), kW);
  const rejected = selectRanked(t.rejectedMask, keys(1, tl), kL);
  // Sizes actually used: a side with fewer positions than k (only when it is empty) takes all.
  return {
    chosen,
    rejected,
    kW: tf.sum(chosen, 1) as tf.Tensor1D,
    kL: tf.sum(rejected, 1) as tf.Tensor1D,
  };
}

/**
 * SGDPO as in the authors' code (see the module doc for the formula and its source). Needs
 * `scores.tokens` (policy and reference per-token log-probs, masks). Every call draws new pilot
 * sets; `reset()` restarts the draws, `saveState()` / `loadState()` carry the call counter
 * through checkpoints. Logs `pilotChosen` (p_w), `pilotRejected` (p_l) and the set sizes
 * `kChosen`, `kRejected`. `options.pilots` replaces the random draw by hand-picked sets.
 *
 * @example
 * ```ts
 * import { sgdpo } from "./sgdpo.ts";
 * const o = sgdpo();
 * console.log(o.params.r1, o.params.r2, o.needsTokens); // 0.6 0.9 true
 * ```
 */
export function sgdpo(
  params: SgdpoParams = {},
  options: { pilots?: PilotOverride } = {},
): Objective {
  let calls = 0;
  return defineObjective({
    name: "sgdpo",
    specs: {
      beta: BETA(0.1),
      r1: {
        default: 0.6,
        type: "number",
        range: "(0, 1]",
        aliases: ["sample_ratio_r1"],
        about: "chosen pilot size r1·min(|y_w|, |y_l|)",
      },
      r2: {
        default: 0.9,
        type: "number",
        range: "(0, 1]",
        aliases: ["sample_ratio_r2"],
        about: "rejected pilot size r2·min(|y_w|, |y_l|)",
      },
      labelSmoothing: LABEL_SMOOTHING,
      seed: {
        default: 0,
        type: "integer",
        range: "[0, inf)",
        about: "seed of the pilot draws",
      },
    },
    needsTokens: () => true,
    loss: (s: SequenceScores, p) => {
      const ref = requireRef("sgdpo", s);
      const t = requireTokens("sgdpo", s, PAIRED_TOKEN_FIELDS);
      const call = calls++;
      const sel = pilotMasks(
        t,
        { seed: p.seed, r1: p.r1, r2: p.r2 },
        call,
        options.pilots,
      );
      const pilot = (pol: tf.Tensor2D, rf: tf.Tensor2D, m: tf.Tensor2D) =>
        stopGradient(tf.sum(tf.mul(tf.sub(pol, rf), m), 1)) as tf.Tensor1D;
      const pW = pilot(t.policyChosen, t.refChosen!, sel.chosen);
      const pL = pilot(t.policyRejected, t.refRejected!, sel.rejected);
      const uW = tf.sub(s.policyChosen, ref.chosen);
      const uL = tf.sub(s.policyRejected, ref.rejected);
      const beta = p.beta, eps = p.labelSmoothing;
      const ell = (z: tf.Tensor) =>
        eps === 0
          ? softplus(tf.neg(z))
          : tf.add(tf.mul(softplus(tf.neg(z)), 1 - eps), tf.mul(softplus(z), eps));
      const losses = tf.mul(
        tf.add(ell(tf.mul(tf.sub(uW, pL), beta)), ell(tf.mul(tf.sub(pW, uL), beta))),
        0.5,
      ) as tf.Tensor1D;
      return {
        losses,
        extras: { pilotChosen: pW, pilotRejected: pL, kChosen: sel.kW, kRejected: sel.kL },
      };
    },
    reset: () => {
      calls = 0;
    },
    saveState: () => Promise.resolve({ calls } as ObjectiveState),
    loadState: (state: ObjectiveState) => {
      const c = state.calls;
      if (typeof c !== "number" || !Number.isInteger(c) || c < 0) {
        throw new TypeError(`sgdpo: saved state 'calls' must be a count, got ${JSON.stringify(c)}`);
      }
      calls = c;
    },
  }, params as Record<string, unknown>);
}
