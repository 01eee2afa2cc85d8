/**
 * TRL's full per-step metric set as one figure: `entropy`, `mean_token_accuracy`,
 * `logits/chosen`, `logits/rejected`, `grad_norm`, `learning_rate` and `num_tokens` (definitions
 * in `lib/core/token_stats.ts` and `lib/train/trl_metrics.ts`), one panel each, for a run of ours
 * or a TRL `trainer_state.json` read by `readRun`.
 *
 * @module
 */
import type { DisplayableFigure } from "./figure.ts";
import { type NamedRun, runComparison } from "./training.ts";

/** TRL's per-step keys beyond `rewards/*` and `logps/*`, in panel order. */
export const TRL_EXTRA_KEYS: readonly string[] = [
  "entropy",
  "mean_token_accuracy",
  "logits/chosen",
  "logits/rejected",
  "grad_norm",
  "learning_rate",
  "num_tokens",
];

/**
 * One panel per TRL metric that some run logged (see {@link TRL_EXTRA_KEYS}), runs overlaid.
 *
 * @example
 * ```ts
 * import { trlMetricCurves } from "./trl_metrics.ts";
 * const records = [1, 2].map((step) => ({ step, entropy: 2 - 0.1 * step, num_tokens: 40 * step }));
 * const fig = trlMetricCurves([{ name: "run", records }]);
 * console.log(fig.data.length); // 2 (entropy, num_tokens)
 * ```
 */
export function trlMetricCurves(
  runs: readonly NamedRun[],
  opts: { title?: string; columns?: number } = {},
): DisplayableFigure {
  const keys = TRL_EXTRA_KEYS.filter((k) =>
    runs.some((r) => r.records.some((x) => typeof x[k] === "number"))
  );
  if (keys.length === 0) {
    throw new RangeError(`trlMetricCurves: no run has any of ${TRL_EXTRA_KEYS.join(", ")}`);
  }
  return runComparison(runs, {
    keys,
    columns: opts.columns ?? 2,
    title: opts.title ?? "TRL metrics per step",
  });
}
