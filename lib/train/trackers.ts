/**
 * Built-in trackers (see `callbacks.ts` for the interface): implicit rewards per pair, and the
 * probability mass of chosen, rejected and probe responses.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BeginContext, HookResult, StepContext, TrainCallback } from "./callbacks.ts";
import { pairRewards } from "./metrics.ts";
import { scoresAt } from "./tracked_scores.ts";
import type { PairValues, PreferenceScorer, TrainData } from "./types.ts";

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

function positiveInt(x: number, what: string): number {
  if (!(Number.isInteger(x) && x > 0)) throw new RangeError(`${what} must be a positive integer`);
  return x;
}

/**
 * Probe responses for the mass tracker: one batch the scorer's `logps` accepts, and for each of
 * its rows the prompt it belongs to and a label naming the kind of response (e.g.
 * `"paraphrase"`, `"irrelevant"`, `"yes"`).
 */
export interface ProbeSet<P> {
  batch: P;
  /** Prompt (or pair) id of each row. */
  prompts: readonly number[];
  /** Response kind of each row; `mass/<label>` is the mean over rows with that label. */
  labels: readonly string[];
}

/** Options of {@link probabilityMassTracker}. */
export interface MassTrackerOptions<B, P> {
  /** Training-data positions whose chosen/rejected log-probs to follow (default: the first 64). */
  positions?: readonly number[];
  /** Data to take those positions from (default: the training data). */
  data?: TrainData<B>;
  /** Extra responses scored through `policy.logps`. */
  probes?: ProbeSet<P>;
  /** Track every this many steps (default 1). Step 0 (the initial state) is always tracked. */
  every?: number;
  /** Pairs scored per forward pass (default 32). */
  batchSize?: number;
  /** JSONL file for per-prompt rows (default `mass`); `false` for no rows. */
  file?: string | false;
}

/**
 * Probability mass of chosen, rejected and user-supplied probe responses, scored with no
 * gradient after the step's update (and once before training, as `step: 0`).
 *
 * Metrics: `mass/chosen`, `mass/rejected` (mean summed log-prob over the tracked pairs),
 * `mass/<label>` for each probe label, and `mass/chosen_delta`, `mass/rejected_delta`,
 * `mass/<label>_delta` (change of that mean since step 0), plus `mass/chosen_down` (fraction of
 * tracked pairs whose chosen log-prob is below its initial value). Rows in `mass.jsonl`:
 * `{step, prompt, label, logp}` — `prompt` is the source pair index for chosen/rejected rows.
 *
 * @example
 * ```ts ignore
 * const tracker = probabilityMassTracker({ positions: [0, 1, 2], probes, every: 5 });
 * await train({ ...opts, callbacks: [tracker] });
 * ```
 */
export function probabilityMassTracker<B, P = never>(
  opts: MassTrackerOptions<B, P> = {},
): TrainCallback<B> {
  const every = positiveInt(opts.every ?? 1, "probabilityMassTracker every");
  const bs = positiveInt(opts.batchSize ?? 32, "probabilityMassTracker batchSize");
  const file = opts.file === undefined ? "mass" : opts.file;
  let initial: { chosen: number[]; rejected: number[]; probes: number[] } | undefined;

  // Reads are asynchronous so the tracker runs on webgpu, which cannot read synchronously.
  async function measure(ctx: BeginContext<B> | StepContext<B>) {
    const data = opts.data ?? ctx.data;
    const positions = opts.positions ??
      Array.from({ length: Math.min(64, data.size) }, (_, i) => i);
    const policy = ctx.policy as PreferenceScorer<B, P>;
    const scored = await scoresAt(ctx, data, positions, bs);
    const chosen = scored.map((s) => s.chosen), rejected = scored.map((s) => s.rejected);
    let probes: number[] = [];
    if (opts.probes) {
      if (!policy.logps) {
        throw new TypeError("probabilityMassTracker: probes need a scorer with logps()");
      }
      const lp = tf.tidy(() => policy.logps!(opts.probes!.batch));
      try {
        probes = Array.from(await lp.data());
      } finally {
        lp.dispose();
      }
      if (probes.length !== opts.probes.labels.length) {
        throw new RangeError(
          `probabilityMassTracker: logps gave ${probes.length} values for ${opts.probes.labels.length} probe rows`,
        );
      }
    }
    const ids = positions.map((p) => data.pairIndex?.(p) ?? p);
    return { chosen, rejected, probes, ids };
  }

  function report(
    ctx: BeginContext<B> | StepContext<B>,
    m: Awaited<ReturnType<typeof measure>>,
  ): HookResult {
    const init = initial!;
    const out: Record<string, number> = {
      "mass/chosen": mean(m.chosen),
      "mass/rejected": mean(m.rejected),
      "mass/chosen_delta": mean(m.chosen) - mean(init.chosen),
      "mass/rejected_delta": mean(m.rejected) - mean(init.rejected),
      "mass/chosen_down": m.chosen.filter((x, i) => x < init.chosen[i]).length / m.chosen.length,
    };
    if (opts.probes) {
      const labels = [...new Set(opts.probes.labels)];
      for (const label of labels) {
        const idx = opts.probes.labels.flatMap((l, i) => l === label ? [i] : []);
        const now = mean(idx.map((i) => m.probes[i]));
        out[`mass/${label}`] = now;
        out[`mass/${label}_delta`] = now - mean(idx.map((i) => init.probes[i]));
      }
    }
    if (file) {
      const rows: Record<string, unknown>[] = [];
      m.ids.forEach((id, i) => {
        rows.push({ prompt: id, label: "chosen", logp: m.chosen[i] });
        rows.push({ prompt: id, label: "rejected", logp: m.rejected[i] });
      });
      opts.probes?.labels.forEach((label, i) =>
        rows.push({ prompt: opts.probes!.prompts[i], label, logp: m.probes[i] })
      );
      ctx.rows.append(file, rows);
    }
    return out;
  }

  return {
    name: "probability_mass",
    async onTrainBegin(ctx) {
      if (ctx.resumed && initial) return;
      const m = await measure(ctx);
      initial = { chosen: m.chosen, rejected: m.rejected, probes: m.probes };
      return report(ctx, m);
    },
    async onStepEnd(ctx) {
      if (ctx.step % every !== 0 && ctx.step !== ctx.totalSteps) return;
      return report(ctx, await measure(ctx));
    },
    saveState: () => initial,
    loadState(state) {
      initial = state as typeof initial;
    },
  };
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : NaN;
}
