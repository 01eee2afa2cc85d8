/**
 * The probability-mass tracker: log-probs of chosen, rejected and probe responses over training
 * (a train callback, lib/train/callbacks.ts; the trainer's own implicit-rewards tracker is
 * lib/train/implicit_rewards.ts).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BeginContext, HookResult, StepContext, TrainCallback } from "../train/callbacks.ts";
import { scoresAt } from "./tracked_scores.ts";
import { mean, positiveInt } from "./tracker_util.ts";
import type { PreferenceScorer, ProbeSet, TrainData } from "../core/scores.ts";

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
