/**
 * The likelihood-displacement tracker (a trainer callback): `ln pi(y+|x)` of followed pairs
 * against its value before training (Definition 1 of arXiv 2410.08847), benign or catastrophic.
 *
 * @module
 */
import type { HookResult, RunContext, TrainCallback } from "../train/callbacks.ts";
import type { Metrics } from "../train/types.ts";
import type { PreferenceScorer, TrainData } from "../core/scores.ts";
import { scoresAt } from "./tracked_scores.ts";
import { displacement, type DisplacementLabel, labelDisplacement } from "./displacement.ts";
import { defaultPositions, due, positiveInt, read1d } from "./tracker_util.ts";

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
