/**
 * Plain step records as training runs log them (ours and TRL's `log_history`):
 * `{ step: 10, loss: 0.69, "rewards/margins": 0.01, ... }`, and helpers to pull series out.
 *
 * @module
 */

/** One logged step. Values that are not finite numbers are treated as "not logged here". */
export type StepRecord = Record<string, unknown>;

/** An `{x, y}` series of finite numbers. */
export interface XY {
  x: number[];
  y: number[];
}

/** Options for {@link metricSeries}. */
export interface MetricSeriesOptions {
  /** Record field holding the x value; default `"step"`. */
  stepKey?: string;
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * The `(step, value)` pairs of one metric, skipping records that lack either (TRL interleaves
 * train, eval and summary records in one `log_history`), sorted by step.
 *
 * @example
 * ```ts
 * import { metricSeries } from "./records.ts";
 * const s = metricSeries([{ step: 2, loss: 0.6 }, { step: 1, loss: 0.7 }, { step: 2, eval_loss: 0.65 }], "loss");
 * console.log(s); // { x: [1, 2], y: [0.7, 0.6] }
 * ```
 */
export function metricSeries(
  records: readonly StepRecord[],
  key: string,
  opts: MetricSeriesOptions = {},
): XY {
  if (!Array.isArray(records)) {
    throw new TypeError(`metricSeries: records must be an array of objects, got ${typeof records}`);
  }
  const stepKey = opts.stepKey ?? "step";
  const pairs: Array<[number, number]> = [];
  for (const r of records) {
    const s = r?.[stepKey], v = r?.[key];
    if (finite(s) && finite(v)) pairs.push([s, v]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return { x: pairs.map((p) => p[0]), y: pairs.map((p) => p[1]) };
}

/** Keys that hold a finite number in at least one record (the step key excluded), sorted. */
export function numericKeys(records: readonly StepRecord[], stepKey = "step"): string[] {
  const keys = new Set<string>();
  for (const r of records) {
    for (const [k, v] of Object.entries(r ?? {})) if (k !== stepKey && finite(v)) keys.add(k);
  }
  return [...keys].sort();
}

/** Numbers for plotly: non-finite entries become null, which plotly draws as gaps. */
export function gapped(values: ArrayLike<number | null | undefined>): Array<number | null> {
  return Array.from(values, (v) => (typeof v === "number" && Number.isFinite(v) ? v : null));
}

/**
 * Axis title with units for a TRL/dpo-lab metric name; unknown names are returned as they are.
 *
 * @example
 * ```ts
 * import { metricTitle } from "./records.ts";
 * console.log(metricTitle("eval_rewards/margins")); // "reward margin (nats)"
 * ```
 */
export function metricTitle(key: string): string {
  const k = key.replace(/^(eval_|train_)/, "");
  const known: Record<string, string> = {
    "loss": "loss (nats)",
    "rewards/chosen": "chosen reward (nats)",
    "rewards/rejected": "rejected reward (nats)",
    "rewards/margins": "reward margin (nats)",
    "rewards/accuracies": "reward accuracy (fraction)",
    "logps/chosen": "log π(y<sub>w</sub>|x) (nats)",
    "logps/rejected": "log π(y<sub>l</sub>|x) (nats)",
    "logits/chosen": "mean chosen logit",
    "logits/rejected": "mean rejected logit",
    "grad_norm": "gradient norm",
    "learning_rate": "learning rate",
    "entropy": "predictive entropy per token (nats)",
    "mean_token_accuracy": "argmax = chosen token (fraction)",
    "num_tokens": "tokens seen (cumulative)",
    "epoch": "epoch",
  };
  if (known[k]) return known[k];
  if (k.startsWith("mass/")) return `${k} (probability)`;
  return key;
}
