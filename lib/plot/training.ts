/**
 * Figures of training runs from plain step records: DPO reward curves and overlays of several runs
 * (ours and TRL's `log_history` alike). Per-pair trajectories are in `pair_trajectories.ts`.
 *
 * @module
 */
import { withAlpha } from "./color.ts";
import { type DisplayableFigure, makeFigure } from "./figure.ts";
import { metricSeries, metricTitle, numericKeys, type StepRecord } from "./records.ts";
import { smoothEma } from "../core/stats.ts";
import { markAutoColored, ROLE_COLORS, seriesColor } from "./style.ts";
import { subplots } from "./subplots.ts";
import type { Layout, ScatterTrace } from "./types.ts";

/** The x-axis title of every figure against the optimizer step. */
export const STEP_TITLE = "optimizer step";

/**
 * A metric as one trace, or as a faint raw trace plus a smoothed one when `smoothing > 0`.
 * Both share a legend group so the legend toggles them together.
 */
function curveTraces(
  x: number[],
  y: number[],
  o: {
    name: string;
    color: string;
    smoothing: number;
    dash?: "solid" | "dash" | "dot";
    axes?: [string, string];
    showlegend?: boolean;
  },
): ScatterTrace[] {
  const axes = o.axes ? { xaxis: o.axes[0], yaxis: o.axes[1] } : {};
  const base = {
    type: "scatter" as const,
    mode: "lines" as const,
    x,
    legendgroup: o.name,
    ...axes,
  };
  if (o.smoothing > 0) {
    return [
      {
        ...base,
        name: `${o.name} (raw)`,
        y,
        line: { color: withAlpha(o.color, 0.3), width: 1 },
        showlegend: false,
        hoverinfo: "skip",
      },
      {
        ...base,
        name: o.name,
        y: smoothEma(y, o.smoothing),
        line: { color: o.color, width: 2.2, dash: o.dash ?? "solid" },
        ...(o.showlegend === false ? { showlegend: false } : {}),
      },
    ];
  }
  return [{
    ...base,
    name: o.name,
    y,
    line: { color: o.color, width: 2.2, dash: o.dash ?? "solid" },
    ...(o.showlegend === false ? { showlegend: false } : {}),
  }];
}

/** Options for {@link rewardCurves}. */
export interface RewardCurveOptions {
  /** Metric name prefix: `""` (train, default) or `"eval_"` (TRL's evaluation records). */
  prefix?: string;
  /** Record field with the step; default `"step"`. */
  stepKey?: string;
  /** EMA smoothing weight in [0, 1); 0 (default) draws raw curves only. */
  smoothing?: number;
  title?: string;
}

/**
 * DPO reward curves: chosen and rejected implicit rewards and their margin (top panel, nats) and
 * the reward accuracy (bottom panel, fraction of pairs with positive margin) against the step.
 * Reads TRL's metric names: `rewards/chosen`, `rewards/rejected`, `rewards/margins`,
 * `rewards/accuracies` (with `prefix`, e.g. `eval_rewards/chosen`).
 *
 * @example
 * ```ts
 * import { rewardCurves } from "./training.ts";
 * const records = [0, 1, 2].map((step) => ({
 *   step, "rewards/chosen": 0.1 * step, "rewards/rejected": -0.2 * step,
 *   "rewards/margins": 0.3 * step, "rewards/accuracies": 0.5 + 0.2 * step,
 * }));
 * const fig = rewardCurves(records);
 * console.log(fig.data.map((t) => t.name)); // ["chosen", "rejected", "margin", "accuracy"]
 * ```
 */
export function rewardCurves(
  records: readonly StepRecord[],
  opts: RewardCurveOptions = {},
): DisplayableFigure {
  const prefix = opts.prefix ?? "";
  const smoothing = opts.smoothing ?? 0;
  const stepKey = opts.stepKey ?? "step";
  const get = (k: string) => metricSeries(records, `${prefix}rewards/${k}`, { stepKey });
  const top = [
    { key: "chosen", name: "chosen", color: ROLE_COLORS.chosen },
    { key: "rejected", name: "rejected", color: ROLE_COLORS.rejected },
    { key: "margins", name: "margin", color: ROLE_COLORS.margin, dash: "dash" as const },
  ].map((m) => ({ ...m, s: get(m.key) })).filter((m) => m.s.x.length > 0);
  const acc = get("accuracies");
  if (!top.length && !acc.x.length) {
    const have = numericKeys(records, stepKey).slice(0, 12).join(", ") || "none";
    throw new RangeError(
      `rewardCurves: no "${prefix}rewards/*" values with a numeric "${stepKey}" in the records ` +
        `(numeric keys found: ${have})`,
    );
  }
  const split = top.length > 0 && acc.x.length > 0;
  const data: ScatterTrace[] = [];
  for (const m of top) {
    data.push(
      ...curveTraces(m.s.x, m.s.y, { name: m.name, color: m.color, smoothing, dash: m.dash }),
    );
  }
  if (acc.x.length) {
    data.push(
      ...curveTraces(acc.x, acc.y, {
        name: "accuracy",
        color: ROLE_COLORS.accuracy,
        smoothing,
        axes: split ? ["x2", "y2"] : ["x", "y"],
      }),
    );
  }
  const rewardAxis = { title: { text: "implicit reward (nats)" } };
  const accAxis = {
    title: { text: "accuracy (fraction)" },
    range: [-0.02, 1.02] as [number, number],
  };
  const layout: Layout = split
    ? {
      height: 560,
      xaxis: { anchor: "y", matches: "x2", showticklabels: false, domain: [0, 1] },
      yaxis: { ...rewardAxis, domain: [0.36, 1] },
      xaxis2: { anchor: "y2", title: { text: STEP_TITLE }, domain: [0, 1] },
      yaxis2: { ...accAxis, domain: [0, 0.26] },
    }
    : {
      xaxis: { title: { text: STEP_TITLE } },
      yaxis: top.length ? rewardAxis : accAxis,
    };
  layout.title = {
    text: opts.title ?? `DPO implicit rewards${prefix ? ` (${prefix.replace(/_$/, "")})` : ""}`,
  };
  return makeFigure({ data, layout });
}

/** A named run: its step records (ours, or TRL's `trainer_state.json` `log_history`). */
export interface NamedRun {
  name: string;
  records: readonly StepRecord[];
}

/** Options for {@link runComparison}. */
export interface RunComparisonOptions {
  /** Metrics to compare, one panel each; default those of loss, rewards/margins,
   * rewards/accuracies, rewards/chosen that some run has. */
  keys?: string[];
  stepKey?: string;
  smoothing?: number;
  /** Panels per row (default 2). */
  columns?: number;
  title?: string;
}

/**
 * Overlay several runs, one panel per metric, one colour per run (same colour in every panel).
 *
 * @example
 * ```ts
 * import { runComparison } from "./training.ts";
 * const ours = [{ step: 1, loss: 0.69 }, { step: 2, loss: 0.6 }];
 * const trl = [{ step: 1, loss: 0.69, epoch: 0.1 }, { step: 2, loss: 0.62, epoch: 0.2 }];
 * const fig = runComparison([{ name: "dpo-lab", records: ours }, { name: "TRL", records: trl }], { keys: ["loss"] });
 * console.log(fig.data.length); // 2
 * ```
 */
export function runComparison(
  runs: readonly NamedRun[],
  opts: RunComparisonOptions = {},
): DisplayableFigure {
  if (!Array.isArray(runs) || runs.length === 0) {
    throw new RangeError("runComparison: need at least one run");
  }
  runs.forEach((r, i) => {
    if (!r || typeof r.name !== "string" || !Array.isArray(r.records)) {
      throw new TypeError(
        `runComparison: run ${i} must be { name: string, records: StepRecord[] }`,
      );
    }
  });
  const stepKey = opts.stepKey ?? "step";
  const available = new Set(runs.flatMap((r) => numericKeys(r.records, stepKey)));
  const keys = opts.keys ??
    ["loss", "rewards/margins", "rewards/accuracies", "rewards/chosen"].filter((k) =>
      available.has(k)
    );
  if (!keys.length) {
    throw new RangeError(
      `runComparison: none of the default metrics are logged; pass keys (available: ${
        [...available].slice(0, 12).join(", ") || "none"
      })`,
    );
  }
  const panels = keys.map((key) => {
    const data = runs.flatMap((run, i) => {
      const s = metricSeries(run.records, key, { stepKey });
      return s.x.length
        ? curveTraces(s.x, s.y, {
          name: run.name,
          color: seriesColor(i, runs.length),
          smoothing: opts.smoothing ?? 0,
        }).map(markAutoColored)
        : [];
    });
    return makeFigure({
      data,
      layout: {
        title: { text: key },
        xaxis: { title: { text: STEP_TITLE } },
        yaxis: { title: { text: metricTitle(key) } },
      },
    });
  });
  const fig = panels.length === 1
    ? panels[0]
    : subplots(panels, { columns: opts.columns ?? 2, xgap: 0.12 });
  fig.layout.title = { text: opts.title ?? (panels.length === 1 ? keys[0] : "Run comparison") };
  fig.layout.showlegend = true;
  return fig;
}
