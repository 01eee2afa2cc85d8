/**
 * The next-token distribution tracker (a trainer callback): where the mass of a few prompts' next
 * token goes over training (top-k gains, argmax mass, greedy log-prob).
 *
 * @module
 */
import type {
  BeginContext,
  HookResult,
  RunContext,
  StepContext,
  TrainCallback,
} from "../train/callbacks.ts";
import type { Metrics } from "../train/types.ts";
import { argmaxMass, massShift, topKGains } from "./distribution.ts";
import { labelDisplacement } from "./displacement.ts";
import type { NextTokenSource } from "./next_token.ts";
import { due, mean, positiveInt } from "./tracker_util.ts";

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
