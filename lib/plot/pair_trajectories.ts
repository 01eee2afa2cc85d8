/**
 * Per-pair trajectories of a training run: every pair's value (margin, rewards, log-probs)
 * against the step, a few pairs in colour, and the per-step median.
 *
 * @module
 */
import { type DisplayableFigure, makeFigure } from "./figure.ts";
import { metricTitle, type StepRecord } from "./records.ts";
import { markAutoColored, ROLE_COLORS, seriesColor } from "./style.ts";
import { STEP_TITLE } from "./training.ts";
import type { ScatterTrace } from "./types.ts";

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
  /**
   * Colour of a highlighted pair by its id, to keep a pair's colour across figures (e.g. from
   * `seriesColors`); others take the palette by their place in `highlight`.
   */
  colors?: Record<string, string>;
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
 * import { pairTrajectories } from "./pair_trajectories.ts";
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
    const pinned = opts.colors?.[k];
    const t: ScatterTrace = {
      type: "scatter",
      mode: "lines",
      name: `pair ${k}`,
      x: pts.map((p) => p[0]),
      y: pts.map((p) => p[1]),
      line: { color: pinned ?? seriesColor(i, highlight.length), width: 2.2 },
    };
    data.push(pinned === undefined ? markAutoColored(t) : t);
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
