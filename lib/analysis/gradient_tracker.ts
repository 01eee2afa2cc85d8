/**
 * The gradient-alignment tracker (a trainer callback): on a few pairs, the inner product and
 * norms of the chosen and rejected log-probs' gradients, which decide whether `l_w` can fall.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { HookResult, RunContext, TrainCallback } from "../train/callbacks.ts";
import type { TrainObjective } from "../train/types.ts";
import type { PreferenceScorer, TrainData } from "../core/scores.ts";
import { knownScore, type PairScore, recordScore, scoresAt } from "./tracked_scores.ts";
import {
  firstOrderLogpChange,
  type GradientGeometry,
  gradientInnerProducts,
  type PairSides,
  sideGradientInnerProducts,
} from "./gradient_alignment.ts";
import { defaultPositions, due, mean, positiveInt } from "./tracker_util.ts";

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
