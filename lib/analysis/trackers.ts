/**
 * Analysis trackers: trainer callbacks (see `lib/train/callbacks.ts`) that follow the dynamics
 * the papers study, each cheap enough to leave on.
 *
 * - {@link distributionTracker}: the whole next-token distribution of a few prompts over time
 *   (single-token and toy models), where the mass went (top-k gains), argmax mass and greedy
 *   log-prob (squeezing). Metrics `dist/*`, rows `distribution.jsonl`.
 * - {@link displacementTracker}: likelihood displacement per pair (Definition 1 of
 *   arXiv 2410.08847), labelled benign or catastrophic from user-given good responses.
 *   Metrics `displacement/*`, rows `displacement.jsonl`.
 * - {@link gradientAlignmentTracker}: on a few pairs, `<grad l_w, grad l_l>` and the norms,
 *   which decide whether the chosen log-prob can fall. Metrics `grad/*`, rows `gradients.jsonl`.
 *
 * Each also keeps what it measured in memory (`history`, `last`) for notebooks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type {
  BeginContext,
  HookResult,
  RunContext,
  StepContext,
  TrainCallback,
} from "../train/callbacks.ts";
import type { Metrics, TrainObjective } from "../train/types.ts";
import type { PreferenceScorer, TrainData } from "../core/scores.ts";
import { knownScore, type PairScore, recordScore, scoresAt } from "./tracked_scores.ts";
import { argmaxMass, massShift, topKGains } from "./distribution.ts";
import { displacement, type DisplacementLabel, labelDisplacement } from "./displacement.ts";
import {
  firstOrderLogpChange,
  type GradientGeometry,
  gradientInnerProducts,
  type PairSides,
  sideGradientInnerProducts,
} from "./gradient_alignment.ts";
import type { NextTokenSource } from "./next_token.ts";

function positiveInt(x: number, what: string): number {
  if (!(Number.isInteger(x) && x > 0)) {
    throw new RangeError(`${what}: ${x} is not a positive integer`);
  }
  return x;
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : NaN;
}

/** Track at step 0, every `every` steps, and at the last step. */
function due(ctx: RunContext, every: number): boolean {
  return ctx.step % every === 0 || ctx.step === ctx.totalSteps;
}

/** Values of a 1-D tensor built by `f` (under tidy), read asynchronously (WebGPU-safe). */
async function read1d(f: () => tf.Tensor): Promise<number[]> {
  const t = tf.tidy(f);
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

function defaultPositions<B>(data: TrainData<B>, cap: number): number[] {
  return Array.from({ length: Math.min(cap, data.size) }, (_, i) => i);
}

// ---------------------------------------------------------------------------------------------
// Next-token distributions.

/** Options of {@link distributionTracker}. */
export interface DistributionTrackerOptions {
  /** Where distributions come from: a toy model, or `causalNextTokenSource(model, prompts)`. */
  source: NextTokenSource;
  /** Prompt ids to follow (default [0]). */
  prompts?: readonly number[];
  /** The preferred token y+ of each followed prompt (enables `dist/chosen*`). */
  chosen?: readonly number[];
  /** The dispreferred token y- of each followed prompt (enables `dist/rejected`, `dist/other`). */
  rejected?: readonly number[];
  /**
   * Tokens as good as y+, per followed prompt: when y+ lost mass, the prompt is labelled
   * benign if the good set took at least `benignShare` of it, else catastrophic.
   */
  good?: readonly (readonly number[])[];
  /** Default 0.5. */
  benignShare?: number;
  /** Tokens listed per prompt in the rows, by probability gained since step 0 (default 10). */
  k?: number;
  /** Measure every this many steps (default 1); step 0 and the last step always. */
  every?: number;
  /** Write the whole distribution in each row (default: when V <= 4096). */
  fullDistribution?: boolean;
  /** JSONL file for per-prompt rows (default `distribution`); false for none. */
  file?: string | false;
}

/** One measured distribution. */
export interface DistributionSnapshot {
  step: number;
  prompt: number;
  probs: Float64Array;
}

/** A {@link distributionTracker}: a callback plus what it measured. */
export interface DistributionTracker extends TrainCallback {
  /** Every measured distribution, in order (step 0 first). */
  readonly history: DistributionSnapshot[];
}

/**
 * Follow the next-token distribution of a few prompts through training.
 *
 * Metrics (means over the followed prompts): `dist/argmax_mass`, `dist/greedy_logp` (the
 * squeezing effect: it rises while most tokens fall), `dist/top_gain` (largest probability
 * gained since step 0 by a token other than y+/y-); with `chosen`: `dist/chosen` (pi(y+)),
 * `dist/chosen_drop` (pi_0(y+) - pi_t(y+)), `dist/chosen_drop_max` (largest drop of any
 * followed prompt so far); with `rejected`: `dist/rejected`, `dist/other` (mass off y+ and y-);
 * with `good`: `dist/good`, `dist/benign`, `dist/catastrophic` (fractions of prompts).
 * Rows: `{step, prompt, argmax, argmax_mass, greedy_logp, top_gains: [{token, before, after,
 * gain}], chosen?, kind?, probs?}`.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "../models/toy.ts";
 * import { distributionTracker } from "./trackers.ts";
 * const m = createUnconstrainedFeatures({ tokens: ["Yes", "No", "Never"], dim: 4, seed: 0 });
 * const tracker = distributionTracker({ source: m, chosen: [1], rejected: [2], good: [[]] });
 * // pass `callbacks: [tracker]` to train(); afterwards tracker.history holds every distribution
 * console.log(tracker.name); // distribution
 * m.dispose();
 * ```
 */
export function distributionTracker(opts: DistributionTrackerOptions): DistributionTracker {
  const prompts = [...(opts.prompts ?? [0])];
  const every = positiveInt(opts.every ?? 1, "distributionTracker every");
  const k = opts.k ?? 10;
  const file = opts.file === undefined ? "distribution" : opts.file;
  for (const [name, col] of [["chosen", opts.chosen], ["rejected", opts.rejected]] as const) {
    if (col && col.length !== prompts.length) {
      throw new RangeError(
        `distributionTracker ${name}: ${col.length} tokens for ${prompts.length} prompts`,
      );
    }
  }
  if (opts.good && opts.good.length !== prompts.length) {
    throw new RangeError(
      `distributionTracker good: ${opts.good.length} sets for ${prompts.length} prompts`,
    );
  }
  if (opts.good && !opts.chosen) throw new TypeError("distributionTracker good needs chosen");
  const history: DistributionSnapshot[] = [];
  let initial: number[][] | undefined;
  let dropMax = 0;

  const read = async (prompt: number): Promise<Float64Array> => {
    const lp = opts.source.logProbs(prompt);
    try {
      if (lp.rank !== 1) {
        throw new RangeError(`source gave shape [${lp.shape}] for prompt ${prompt}`);
      }
      return Float64Array.from(await lp.data(), Math.exp);
    } finally {
      lp.dispose();
    }
  };

  const measure = async (ctx: RunContext): Promise<HookResult> => {
    const now: Float64Array[] = [];
    const greedyNow: (number | undefined)[] = [];
    for (const prompt of prompts) {
      now.push(await read(prompt));
      greedyNow.push(await opts.source.greedyLogProb?.(prompt));
    }
    if (!initial) initial = now.map((p) => Array.from(p));
    const rows: Record<string, unknown>[] = [];
    const acc: Record<string, number[]> = {};
    const push = (key: string, v: number) => (acc[key] ??= []).push(v);
    now.forEach((p, i) => {
      const prompt = prompts[i], p0 = initial![i];
      history.push({ step: ctx.step, prompt, probs: p });
      const top = argmaxMass(p);
      const greedy = greedyNow[i] ?? top.logProb;
      const y = opts.chosen?.[i], yl = opts.rejected?.[i];
      const exclude = [y, yl].filter((t): t is number => t !== undefined);
      const gains = topKGains(p0, p, { k, exclude });
      push("argmax_mass", top.mass);
      push("greedy_logp", greedy);
      push("top_gain", gains.length ? gains[0].gain : NaN);
      const row: Record<string, unknown> = {
        prompt,
        argmax: top.token,
        argmax_mass: top.mass,
        greedy_logp: greedy,
        top_gains: gains.map((g) => ({
          token: g.token,
          before: g.before,
          after: g.after,
          gain: g.gain,
        })),
      };
      if (y !== undefined) {
        const drop = p0[y] - p[y];
        dropMax = Math.max(dropMax, drop);
        push("chosen", p[y]);
        push("chosen_drop", drop);
        row.chosen = p[y];
        const good = opts.good?.[i];
        if (good) {
          const shift = massShift(p0, p, { chosen: y, rejected: yl, good });
          const goodNow = good.filter((g) => g !== y && g !== yl).reduce((s, g) => s + p[g], 0);
          const label = labelDisplacement(
            { initial: Math.log(p0[y]), final: Math.log(p[y]) },
            {
              good: good.filter((g) => g !== y && g !== yl).map((g) => ({
                initial: Math.log(p0[g]),
                final: Math.log(p[g]),
              })),
              benignShare: opts.benignShare,
            },
          );
          push("good", goodNow);
          push("benign", label.kind === "benign" ? 1 : 0);
          push("catastrophic", label.kind === "catastrophic" ? 1 : 0);
          row.kind = label.kind;
          row.good_gain = shift.good;
        }
      }
      if (yl !== undefined) {
        push("rejected", p[yl]);
        push("other", 1 - p[yl] - (y !== undefined ? p[y] : 0));
      }
      if (opts.fullDistribution ?? p.length <= 4096) row.probs = Array.from(p);
      rows.push(row);
    });
    if (file) ctx.rows.append(file, rows);
    const out: Metrics = {};
    for (const [key, xs] of Object.entries(acc)) out[`dist/${key}`] = mean(xs);
    if (opts.chosen) out["dist/chosen_drop_max"] = dropMax;
    return out;
  };

  return {
    name: "distribution",
    history,
    onTrainBegin(ctx: BeginContext) {
      if (ctx.resumed && initial) return;
      return measure(ctx);
    },
    onStepEnd(ctx: StepContext) {
      if (due(ctx, every)) return measure(ctx);
    },
    saveState: () => ({ initial, dropMax }),
    loadState(state) {
      const s = state as { initial?: number[][]; dropMax?: number };
      initial = s?.initial;
      dropMax = s?.dropMax ?? 0;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Likelihood displacement.

/** Options of {@link displacementTracker}. */
export interface DisplacementTrackerOptions<B, P = unknown> {
  /** Data positions to follow (default: the first 64). */
  positions?: readonly number[];
  /** Data to take them from (default: the training data). */
  data?: TrainData<B>;
  /** Measure every this many steps (default 10); step 0 and the last step always. */
  every?: number;
  /** Pairs per scoring pass (default 32). */
  batchSize?: number;
  /**
   * Responses as good as y+ for a pair (by source pair index), as a batch the policy's
   * `logps` scores (`ToyProbes` for toy models, a collated `ProbeBatch` for causal LMs);
   * undefined for pairs without any.
   */
  good?: (pairIndex: number) => P | undefined;
  /** Share of y+'s lost mass the good set must gain for "benign" (default 0.5). */
  benignShare?: number;
  /** JSONL file for per-pair rows (default `displacement`); false for none. */
  file?: string | false;
}

/** A {@link displacementTracker}: a callback plus its latest measurement. */
export interface DisplacementTracker<B> extends TrainCallback<B> {
  /** Latest per-pair state, or undefined before the first measurement. */
  readonly last:
    | {
      step: number;
      pairIndex: number[];
      initial: number[];
      current: number[];
      labels?: (DisplacementLabel | undefined)[];
    }
    | undefined;
}

/**
 * Follow `ln pi(y+|x)` of a set of pairs from its value before training (step 0) and report
 * likelihood displacement (Definition 1: `ln pi_t(y+|x) < ln pi_0(y+|x)`).
 *
 * Metrics: `displacement/fraction` (pairs displaced), `displacement/mean_change` (mean
 * `ln pi_t - ln pi_0` of y+; negative = displaced on average), `displacement/min_change`; with
 * `good`: `displacement/benign` and `displacement/catastrophic` (fractions of the followed
 * pairs). Rows: `{step, pair, initial, current, change, displaced, kind?, good_share?}`.
 *
 * @example
 * ```ts
 * import { displacementTracker } from "./trackers.ts";
 * const tracker = displacementTracker({ every: 5 });
 * // train({ ..., callbacks: [tracker] }); then tracker.last.current vs tracker.last.initial
 * console.log(tracker.name); // displacement
 * ```
 */
export function displacementTracker<B, P = unknown>(
  opts: DisplacementTrackerOptions<B, P> = {},
): DisplacementTracker<B> {
  const every = positiveInt(opts.every ?? 10, "displacementTracker every");
  const bs = positiveInt(opts.batchSize ?? 32, "displacementTracker batchSize");
  const file = opts.file === undefined ? "displacement" : opts.file;
  let initial: { chosen: number[]; good: (number[] | undefined)[] } | undefined;
  let last: DisplacementTracker<B>["last"];

  const measure = async (ctx: RunContext<B>): Promise<HookResult> => {
    const data = opts.data ?? ctx.data;
    const positions = opts.positions ?? defaultPositions(data, 64);
    const policy = ctx.policy as PreferenceScorer<B, P>;
    const chosen = (await scoresAt(ctx, data, positions, bs)).map((s) => s.chosen);
    const ids = positions.map((p) => data.pairIndex?.(p) ?? p);
    const good: (number[] | undefined)[] = [];
    for (const id of ids) {
      const probes = opts.good?.(id);
      if (probes === undefined) {
        good.push(undefined);
        continue;
      }
      if (!policy.logps) {
        throw new TypeError("displacementTracker good needs a scorer with logps()");
      }
      good.push(await read1d(() => policy.logps!(probes)));
    }
    if (!initial) initial = { chosen, good };
    const init = initial;
    const d = displacement(init.chosen, chosen);
    const labels = opts.good
      ? ids.map((_, i) => {
        const g0 = init.good[i], g1 = good[i];
        if (!g0 || !g1) return undefined;
        return labelDisplacement({ initial: init.chosen[i], final: chosen[i] }, {
          good: g0.map((v, j) => ({ initial: v, final: g1[j] })),
          benignShare: opts.benignShare,
        });
      })
      : undefined;
    last = { step: ctx.step, pairIndex: ids, initial: init.chosen, current: chosen, labels };
    if (file) {
      ctx.rows.append(
        file,
        d.pairs.map((p, i) => ({
          pair: ids[i],
          initial: p.initial,
          current: p.final,
          change: p.change,
          displaced: p.displaced,
          ...(labels?.[i] ? { kind: labels[i]!.kind, good_share: labels[i]!.goodShare } : {}),
        })),
      );
    }
    const out: Metrics = {
      "displacement/fraction": d.fractionDisplaced,
      "displacement/mean_change": d.meanChange,
      "displacement/min_change": Math.min(...d.pairs.map((p) => p.change)),
    };
    if (labels) {
      const n = labels.length;
      out["displacement/benign"] = labels.filter((l) => l?.kind === "benign").length / n;
      out["displacement/catastrophic"] = labels.filter((l) => l?.kind === "catastrophic").length /
        n;
    }
    return out;
  };

  return {
    name: "displacement",
    get last() {
      return last;
    },
    onTrainBegin(ctx) {
      if (ctx.resumed && initial) return;
      return measure(ctx);
    },
    onStepEnd(ctx) {
      if (due(ctx, every)) return measure(ctx);
    },
    saveState: () => initial,
    loadState(state) {
      initial = state as typeof initial;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Gradient alignment.

/** Options of {@link gradientAlignmentTracker}. */
export interface GradientTrackerOptions<B, P = unknown> {
  /** Data positions to measure, one pair at a time (default: the first 4). */
  positions?: readonly number[];
  /** Data to take them from (default: the training data). */
  data?: TrainData<B>;
  /** Measure every this many steps (default 10); step 0 and the last step always. */
  every?: number;
  /**
   * Reference log-probs of the followed pairs (same order as `positions`). Default: the
   * policy's own at step 0, which is the trainer's default reference.
   */
  reference?: { chosen: readonly number[]; rejected: readonly number[] };
  /** JSONL file for per-pair rows (default `gradients`); false for none. */
  file?: string | false;
  /**
   * A data position's chosen and rejected responses as one-row batches for the policy's
   * `logps` (for causal LMs: `pairSides`). Each backward pass then runs only the row it
   * differentiates instead of both rows of the pair, for the same values; each side's log-prob
   * must match the pair's score (checked to relative 1e-4).
   */
  sides?: (position: number) => PairSides<P>;
}

/** A {@link gradientAlignmentTracker}: a callback plus its latest per-pair rows. */
export interface GradientTracker<B> extends TrainCallback<B> {
  readonly last: Record<string, number>[] | undefined;
}

/**
 * On a few pairs, the gradients of `l_w` and `l_l` with respect to all policy parameters:
 * their inner product, norms and cosine, the objective's gradient weights `g_w`, `g_l` at the
 * current scores, and the first-order change of `l_w` per unit learning rate under plain
 * gradient descent, `-(g_w ||grad l_w||^2 + g_l <grad l_w, grad l_l>)` (negative: the chosen
 * log-prob falls; optimizers with per-parameter scaling, e.g. Adam, change the factor).
 *
 * Metrics (means over the pairs): `grad/inner_wl`, `grad/norm_chosen`, `grad/norm_rejected`,
 * `grad/cos_wl`, `grad/pred_dlogp_chosen`, and `grad/chosen_can_fall` (fraction of pairs whose
 * predicted change is negative). Costs two backward passes per pair measured.
 *
 * @example
 * ```ts
 * import { gradientAlignmentTracker } from "./trackers.ts";
 * const tracker = gradientAlignmentTracker({ positions: [0, 1], every: 20 });
 * console.log(tracker.name); // gradient_alignment
 * ```
 */
export function gradientAlignmentTracker<B, P = unknown>(
  opts: GradientTrackerOptions<B, P> = {},
): GradientTracker<B> {
  const every = positiveInt(opts.every ?? 10, "gradientAlignmentTracker every");
  const file = opts.file === undefined ? "gradients" : opts.file;
  let reference = opts.reference
    ? { chosen: [...opts.reference.chosen], rejected: [...opts.reference.rejected] }
    : undefined;
  let last: Record<string, number>[] | undefined;
  // Sides are checked against the pairs' own scores at a run's first measurement; after that
  // their passes' log-probs stand in for the pairs' scores of the step (shared with the others).
  let sidesChecked = false;

  const measure = async (ctx: RunContext<B>): Promise<HookResult> => {
    const data = opts.data ?? ctx.data;
    const positions = opts.positions ?? defaultPositions(data, 4);
    const policy = ctx.policy as PreferenceScorer<B, P>;
    const rows: Record<string, number>[] = [];
    const shared = opts.sides && sidesChecked
      ? await sharedSideGeometry(ctx, policy, data, positions, opts.sides)
      : undefined;
    const current = shared?.scores ?? await scoresAt(ctx, data, positions, 32);
    if (!reference) {
      reference = {
        chosen: current.map((c) => c.chosen),
        rejected: current.map((c) => c.rejected),
      };
    }
    if (reference.chosen.length !== positions.length) {
      throw new RangeError(
        `gradientAlignmentTracker: ${reference.chosen.length} reference values for ${positions.length} pairs`,
      );
    }
    const weights = await pairWeights(ctx.objective, {
      policyChosen: current.map((c) => c.chosen),
      policyRejected: current.map((c) => c.rejected),
      refChosen: reference.chosen,
      refRejected: reference.rejected,
      chosenLength: current.map((c) => c.chosenLength),
      rejectedLength: current.map((c) => c.rejectedLength),
    });
    for (const [i, c] of current.entries()) {
      const g = shared?.geometry[i] ??
        await pairGeometry(policy, data, positions[i], c, opts.sides);
      const w = { chosen: weights.chosen[i], rejected: weights.rejected[i] };
      const pred = firstOrderLogpChange(g, { weights: w, lr: 1 });
      rows.push({
        pair: data.pairIndex?.(positions[i]) ?? positions[i],
        inner: g.inner,
        norm_chosen: Math.sqrt(g.chosenSq),
        norm_rejected: Math.sqrt(g.rejectedSq),
        cosine: g.cosine,
        g_w: w.chosen,
        g_l: w.rejected,
        pred_dlogp_chosen: pred.chosen,
        pred_dlogp_rejected: pred.rejected,
      });
    }
    last = rows;
    sidesChecked = opts.sides !== undefined;
    if (file) ctx.rows.append(file, rows);
    const col = (k: string) => mean(rows.map((r) => r[k]));
    return {
      "grad/inner_wl": col("inner"),
      "grad/norm_chosen": col("norm_chosen"),
      "grad/norm_rejected": col("norm_rejected"),
      "grad/cos_wl": col("cosine"),
      "grad/pred_dlogp_chosen": col("pred_dlogp_chosen"),
      "grad/chosen_can_fall": rows.filter((r) => r.pred_dlogp_chosen < 0).length / rows.length,
    };
  };

  return {
    name: "gradient_alignment",
    get last() {
      return last;
    },
    onTrainBegin(ctx) {
      if (ctx.resumed && reference) return;
      return measure(ctx);
    },
    onStepEnd(ctx) {
      if (due(ctx, every)) return measure(ctx);
    },
    saveState: () => reference,
    loadState(state) {
      if (state) reference = state as typeof reference;
      sidesChecked = false;
    },
  };
}

/** Gradient geometry of the pair at `position`, from its one-row sides when given. */
async function pairGeometry<B, P>(
  policy: PreferenceScorer<B, P>,
  data: TrainData<B>,
  position: number,
  score: PairScore,
  sides: ((position: number) => PairSides<P>) | undefined,
): Promise<GradientGeometry> {
  if (!sides) return await gradientInnerProducts(policy, data.batch([position]));
  const s = sides(position);
  const g = await sideGradientInnerProducts(policy, s);
  checkSides(position, g, s.lengths, score);
  return g;
}

/** Refuse sides whose log-probs (relative 1e-4) or lengths are not the pair's. */
function checkSides(
  position: number,
  got: { chosen: number; rejected: number },
  lengths: PairSides<unknown>["lengths"],
  score: PairScore,
): void {
  for (const k of ["chosen", "rejected"] as const) {
    if (!(Math.abs(got[k] - score[k]) <= 1e-4 * Math.max(1, Math.abs(score[k])))) {
      throw new RangeError(
        `gradientAlignmentTracker sides: position ${position}'s ${k} side scores ${got[k]}, ` +
          `the pair ${score[k]}; the sides do not hold this pair`,
      );
    }
    const n = score[k === "chosen" ? "chosenLength" : "rejectedLength"];
    if (lengths && lengths[k] !== n) {
      throw new RangeError(
        `gradientAlignmentTracker sides: position ${position}'s ${k} side has ${lengths[k]} ` +
          `tokens, the pair ${n}; the sides do not hold this pair`,
      );
    }
  }
}

/**
 * Geometry of every pair from its sides, with the passes' log-probs as the pairs' scores of the
 * step: recorded for the other trackers where none has scored the pair yet, checked against the
 * score where one has. Undefined when a side set has no lengths (then the pairs are scored).
 */
async function sharedSideGeometry<B, P>(
  ctx: RunContext<B>,
  policy: PreferenceScorer<B, P>,
  data: TrainData<B>,
  positions: readonly number[],
  sides: (position: number) => PairSides<P>,
): Promise<{ scores: PairScore[]; geometry: GradientGeometry[] } | undefined> {
  const all = positions.map(sides);
  if (all.some((s) => !s.lengths)) return undefined;
  const scores: PairScore[] = [], geometry: GradientGeometry[] = [];
  for (const [i, s] of all.entries()) {
    const g = await sideGradientInnerProducts(policy, s);
    const known = knownScore(ctx, data, positions[i]);
    if (known) checkSides(positions[i], g, s.lengths, known);
    const score = known ?? {
      chosen: g.chosen,
      rejected: g.rejected,
      chosenLength: s.lengths!.chosen,
      rejectedLength: s.lengths!.rejected,
    };
    if (!known) recordScore(ctx, data, positions[i], score);
    scores.push(score);
    geometry.push(g);
  }
  return { scores, geometry };
}

/**
 * `g_w = dL/d l_w`, `g_l = dL/d l_l` per pair by autodiff of the objective's summed losses
 * (what `gradientWeights` of `lib/objectives` computes), read back asynchronously so the
 * tracker also runs on WebGPU. Inputs an objective ignores get 0.
 */
async function pairWeights(
  objective: TrainObjective,
  v: Record<
    | "policyChosen"
    | "policyRejected"
    | "refChosen"
    | "refRejected"
    | "chosenLength"
    | "rejectedLength",
    number[]
  >,
): Promise<{ chosen: number[]; rejected: number[] }> {
  const packed = tf.tidy(() => {
    const t = (xs: number[]) => tf.tensor1d(xs);
    const fixed = {
      refChosen: t(v.refChosen),
      refRejected: t(v.refRejected),
      chosenLength: t(v.chosenLength),
      rejectedLength: t(v.rejectedLength),
    };
    const f = (c: tf.Tensor, r: tf.Tensor) => {
      const losses = objective.loss({
        ...fixed,
        policyChosen: c as tf.Tensor1D,
        policyRejected: r as tf.Tensor1D,
      }).losses;
      // 0 * sum ties both inputs to the output, so an ignored input gets 0, not an error.
      return tf.add(tf.sum(losses), tf.mul(tf.add(tf.sum(c), tf.sum(r)), 0)) as tf.Scalar;
    };
    const [gc, gr] = tf.grads(f)([t(v.policyChosen), t(v.policyRejected)]);
    return tf.concat([gc, gr]);
  });
  const n = v.policyChosen.length;
  try {
    const all = Array.from(await packed.data());
    return { chosen: all.slice(0, n), rejected: all.slice(n) };
  } finally {
    packed.dispose();
  }
}
