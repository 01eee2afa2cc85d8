/**
 * The trainer's own tracker: per-pair implicit rewards of every step (`examples.jsonl`) and the
 * fractions of rewards going up. `train()` always adds it; the other trackers live in analysis/.
 *
 * @module
 */
import type { HookResult, TrainCallback } from "./callbacks.ts";
import { pairRewards } from "./metrics.ts";
import type { PairValues } from "./types.ts";

function positiveInt(x: number, what: string): number {
  if (!(Number.isInteger(x) && x > 0)) throw new RangeError(`${what} must be a positive integer`);
  return x;
}

/** Options of {@link implicitRewardsTracker}. */
export interface ImplicitRewardsOptions {
  /** Write per-pair rows every this many steps (default 1). */
  every?: number;
  /** JSONL file name for the rows (default `examples`). */
  file?: string;
}

/**
 * Per-pair implicit rewards (TRL definitions, objectives.md §1.5) of every pair each step saw,
 * written to `examples.jsonl` — one row per pair: `pair`, `logp_chosen`, `logp_rejected`,
 * `ref_chosen`, `ref_rejected` (when there is a reference), `reward_chosen = β(ℓθ(y_w) −
 * ℓref(y_w))`, `reward_rejected`, `margin = reward_chosen − reward_rejected`, `loss`. Scores are
 * the ones the step's forward pass computed (before its update).
 *
 * Aggregates beyond TRL's `rewards/*` (which the trainer logs itself), per step:
 * `implicit/chosen_up` = fraction of pairs whose chosen log-prob is above the reference
 * (`reward_chosen > 0`; below half means most chosen responses lost likelihood — likelihood
 * displacement), `implicit/rejected_up` likewise, and `implicit/margin_min`.
 *
 * @example
 * ```ts ignore
 * await train({ ...opts, callbacks: [implicitRewardsTracker({ every: 5 })] });
 * ```
 */
export function implicitRewardsTracker(opts: ImplicitRewardsOptions = {}): TrainCallback {
  const every = positiveInt(opts.every ?? 1, "implicitRewardsTracker every");
  const file = opts.file ?? "examples";
  return {
    name: "implicit_rewards",
    onStepEnd(ctx): HookResult {
      const p = ctx.pairs;
      const r = pairRewards(p, ctx.beta);
      if (ctx.step % every === 0) ctx.rows.append(file, rewardRows(p, r));
      // Unpaired rows: each side counts only where it exists.
      const has = (side: "chosen" | "rejected", i: number) => !p.present || p.present[side][i] > 0;
      const frac = (xs: number[], side: "chosen" | "rejected") => {
        const idx = xs.flatMap((_, i) => has(side, i) ? [i] : []);
        return idx.filter((i) => xs[i] > 0).length / idx.length;
      };
      const margins = r.margin.filter((_, i) => has("chosen", i) && has("rejected", i));
      return {
        "implicit/chosen_up": frac(r.chosen, "chosen"),
        "implicit/rejected_up": frac(r.rejected, "rejected"),
        "implicit/margin_min": margins.length ? Math.min(...margins) : NaN,
      };
    },
  };
}

function rewardRows(p: PairValues, r: ReturnType<typeof pairRewards>): Record<string, unknown>[] {
  return p.pairIndex.map((pair, i) => {
    const row: Record<string, unknown> = {
      pair,
      logp_chosen: p.policyChosen[i],
      logp_rejected: p.policyRejected[i],
      ...(p.refChosen ? { ref_chosen: p.refChosen[i], ref_rejected: p.refRejected![i] } : {}),
      reward_chosen: r.chosen[i],
      reward_rejected: r.rejected[i],
      margin: r.margin[i],
      loss: p.losses[i],
    };
    // Unpaired (KTO) rows: drop the side the example does not have.
    for (const side of ["chosen", "rejected"] as const) {
      if (p.present && !(p.present[side][i] > 0)) {
        delete row[`logp_${side}`], delete row[`ref_${side}`], delete row[`reward_${side}`];
        delete row.margin;
      }
    }
    return row;
  });
}
