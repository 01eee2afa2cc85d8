/**
 * Figures of training runs from plain step records: DPO reward curves, overlays of several runs
 * (ours and TRL's `log_history` alike), and per-pair trajectories.
 *
 * @module
 */
import { withAlpha } from "./color.ts";
import { type DisplayableFigure, makeFigure } from "./figure.ts";
import { metricSeries, metricTitle, numericKeys, type StepRecord } from "./records.ts";
import { smoothEma } from "../core/stats.ts";
import { ROLE_COLORS, seriesColor } from "./style.ts";
import { subplots } from "./subplots.ts";
import type { Layout, ScatterTrace } from "./types.ts";

const STEP_TITLE = "optimizer step";

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
          color: seriesColor(i),
          smoothing: opts.smoothing ?? 0,
        })
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

/** Options for {@link pairTrajectories}. */
export interface PairTrajectoryOptions {
  /** Record field identifying the pair; default `"pair"`. */
  pairKey?: string;
  /** Record field with the step; default `"step"`. */
  stepKey?: string;
  /** Record field to plot; default `"margin"`. */
  valueKey?: string;
  /** Pair ids to draw in colour. Default: the 2 lowest and 2 highest by final value. */
  highlight?: Array<string | number>;
  /** Draw the per-step median over all pairs (default true). */
  median?: boolean;
  /** y-axis title with units; default from the value key. */
  yTitle?: string;
  title?: string;
}

/**
 * Spaghetti plot of per-pair trajectories: every pair as a thin grey line, chosen pairs in
 * colour, and the per-step median. Records are `{ step, pair, <value> }`, e.g. the lines of a
 * run's `examples.jsonl`.
 *
 * @example
 * ```ts
 * import { pairTrajectories } from "./training.ts";
 * const records = [0, 1, 2].flatMap((step) =>
 *   [0, 1, 2, 3, 4].map((pair) => ({ step, pair, margin: (pair - 2) * step }))
 * );
 * const fig = pairTrajectories(records, { highlight: [4] });
 * console.log(fig.data.map((t) => t.name)); // ["other pairs (4)", "pair 4", "median"]
 * ```
 */
export function pairTrajectories(
  records: readonly StepRecord[],
  opts: PairTrajectoryOptions = {},
): DisplayableFigure {
  const valueKey = opts.valueKey ?? "margin";
  const byPair = groupByPair(records, opts.pairKey ?? "pair", opts.stepKey ?? "step", valueKey);
  const highlight = highlightedPairs(byPair, opts.highlight);
  const data: ScatterTrace[] = [];
  const others = otherPairsTrace(byPair, new Set(highlight));
  if (others) data.push(others);
  highlight.forEach((k, i) => {
    const pts = byPair.get(k)!;
    data.push({
      type: "scatter",
      mode: "lines",
      name: `pair ${k}`,
      x: pts.map((p) => p[0]),
      y: pts.map((p) => p[1]),
      line: { color: seriesColor(i), width: 2.2 },
    });
  });
  if (opts.median ?? true) data.push(medianTrace(byPair));
  return makeFigure({
    data,
    layout: {
      title: { text: opts.title ?? `Per-pair trajectories of ${valueKey}` },
      xaxis: { title: { text: STEP_TITLE } },
      yaxis: { title: { text: opts.yTitle ?? defaultPairTitle(valueKey) } },
      showlegend: true,
    },
  });
}

/** Each pair's `[step, value]` points, by step; records without a numeric step/value are skipped. */
function groupByPair(
  records: readonly StepRecord[],
  pairKey: string,
  stepKey: string,
  valueKey: string,
): Map<string, Array<[number, number]>> {
  const byPair = new Map<string, Array<[number, number]>>();
  for (const r of records) {
    const id = r?.[pairKey], s = r?.[stepKey], v = r?.[valueKey];
    if (
      (typeof id !== "string" && typeof id !== "number") || typeof s !== "number" ||
      !Number.isFinite(s)
    ) {
      continue;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    const k = String(id);
    byPair.set(k, [...(byPair.get(k) ?? []), [s, v]]);
  }
  if (byPair.size === 0) {
    throw new RangeError(
      `pairTrajectories: no records with "${pairKey}", numeric "${stepKey}" and numeric "${valueKey}"`,
    );
  }
  for (const pts of byPair.values()) pts.sort((a, b) => a[0] - b[0]);
  return byPair;
}

/** The pairs drawn in colour: those asked for, else the two lowest and two highest at the end. */
function highlightedPairs(
  byPair: Map<string, Array<[number, number]>>,
  asked: PairTrajectoryOptions["highlight"],
): string[] {
  if (asked) {
    const highlight = asked.map(String);
    const missing = highlight.filter((h) => !byPair.has(h));
    if (missing.length) {
      throw new RangeError(`pairTrajectories: highlighted pairs not found: ${missing.join(", ")}`);
    }
    return highlight;
  }
  const final = [...byPair].map(([k, pts]) => [k, pts[pts.length - 1][1]] as const)
    .sort((a, b) => a[1] - b[1]);
  const pick = final.length <= 4 ? final : [...final.slice(0, 2), ...final.slice(-2)];
  return pick.map(([k]) => k);
}

/** Every pair not highlighted, as one grey trace broken by nulls; undefined when there are none. */
function otherPairsTrace(
  byPair: Map<string, Array<[number, number]>>,
  hl: Set<string>,
): ScatterTrace | undefined {
  const xs: Array<number | null> = [], ys: Array<number | null> = [];
  let others = 0;
  for (const [k, pts] of byPair) {
    if (hl.has(k)) continue;
    others++;
    for (const [s, v] of pts) {
      xs.push(s);
      ys.push(v);
    }
    xs.push(null);
    ys.push(null);
  }
  if (!others) return undefined;
  return {
    type: "scatter",
    mode: "lines",
    name: `other pairs (${others})`,
    x: xs,
    y: ys,
    line: { color: ROLE_COLORS.context, width: 1 },
    opacity: 0.6,
    hoverinfo: "skip",
  };
}

function medianTrace(byPair: Map<string, Array<[number, number]>>): ScatterTrace {
  const atStep = new Map<number, number[]>();
  for (const pts of byPair.values()) {
    for (const [s, v] of pts) atStep.set(s, [...(atStep.get(s) ?? []), v]);
  }
  const steps = [...atStep.keys()].sort((a, b) => a - b);
  return {
    type: "scatter",
    mode: "lines",
    name: "median",
    x: steps,
    y: steps.map((s) => median(atStep.get(s)!)),
    line: { color: "#000000", width: 2.5, dash: "dash" },
  };
}

function defaultPairTitle(key: string): string {
  const known: Record<string, string> = {
    margin: "reward margin (nats)",
    chosen: "chosen reward (nats)",
    rejected: "rejected reward (nats)",
    logp_chosen: "log π(y<sub>w</sub>|x) (nats)",
    logp_rejected: "log π(y<sub>l</sub>|x) (nats)",
  };
  return known[key] ?? metricTitle(key);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
