/**
 * Probability-mass evolution: where the policy's next-token (or response) probability mass goes
 * during training, as a stacked area of the top-k tokens plus "everything else".
 *
 * @module
 */
import { withAlpha } from "./color.ts";
import { type DisplayableFigure, makeFigure } from "./figure.ts";
import { markAutoColored, ROLE_COLORS, seriesColor } from "./style.ts";
import type { ScatterTrace } from "./types.ts";

/** Distributions over a vocabulary at several steps. */
export interface MassData {
  /** Step of each row of `probs`. */
  steps: ArrayLike<number>;
  /** `probs[t][v]`: probability of token v at step t (each row a distribution). */
  probs: ArrayLike<number>[];
}

/** One measured distribution, as the analysis area's distribution tracker records them. */
export interface MassSnapshot {
  step: number;
  probs: ArrayLike<number>;
  prompt?: number;
}

/** Options for {@link massEvolution}. */
export interface MassOptions {
  /** Tokens drawn individually (default 5), the rest pooled into "everything else". */
  topK?: number;
  /** Token ids always drawn individually, at the bottom of the stack in this order (e.g. the
   * chosen and rejected tokens); they take slots of `topK` first. */
  include?: number[];
  /** How the top tokens are chosen: by peak probability over the steps (default; catches
   * tokens that rise and fall), by final probability, or by mean probability. */
  rankBy?: "max" | "final" | "mean";
  /** Display string of each token id (e.g. the tokenizer's decoded tokens). */
  labels?: readonly string[];
  /** With snapshots from several prompts: the prompt to plot (default: the first one seen). */
  prompt?: number;
  title?: string;
}

function fromSnapshots(snaps: readonly MassSnapshot[], prompt: number | undefined): MassData {
  const want = prompt ?? snaps.find((s) => s.prompt !== undefined)?.prompt;
  const rows = snaps.filter((s) =>
    want === undefined || s.prompt === undefined || s.prompt === want
  )
    .slice().sort((a, b) => a.step - b.step);
  return { steps: rows.map((r) => r.step), probs: rows.map((r) => r.probs) };
}

/**
 * Stacked-area chart of the top-k tokens' probability against the step, with the remainder
 * `1 - sum(shown)` on top as "everything else", so each step's stack reaches 1. Takes
 * `{ steps, probs }` or a list of `{ step, probs, prompt? }` snapshots (a distribution
 * tracker's `history`).
 *
 * @example
 * ```ts
 * import { massEvolution } from "./mass.ts";
 * const fig = massEvolution(
 *   { steps: [0, 10], probs: [[0.5, 0.3, 0.2], [0.2, 0.7, 0.1]] },
 *   { topK: 2, labels: ["yes", "no", "maybe"] },
 * );
 * console.log(fig.data.map((t) => t.name)); // ['"no"', '"yes"', "everything else"]
 * ```
 */
export function massEvolution(
  data: MassData | readonly MassSnapshot[],
  opts: MassOptions = {},
): DisplayableFigure {
  const { steps, probs } = checkedMassData(data, opts.prompt);
  const shown = shownTokens(probs, opts);
  const x = Array.from(steps);
  const label = (v: number) => JSON.stringify(opts.labels?.[v] ?? `#${v}`);
  const traces: ScatterTrace[] = shown.map((v, i) => {
    const color = seriesColor(i, shown.length);
    return markAutoColored({
      type: "scatter",
      mode: "lines",
      name: label(v),
      x,
      y: probs.map((row) => Math.max(0, row[v])),
      stackgroup: "mass",
      line: { color, width: 0.8 },
      fillcolor: withAlpha(color, 0.7),
      hovertemplate: `${label(v)}: %{y:.3f}<extra></extra>`,
    } as ScatterTrace);
  });
  traces.push(remainderTrace(probs, shown, x));
  return makeFigure({
    data: traces,
    layout: {
      title: { text: opts.title ?? "Probability mass by token" },
      xaxis: { title: { text: "optimizer step" } },
      yaxis: { title: { text: "probability (stacked)" }, range: [0, 1] },
      showlegend: true,
    },
  });
}

/** The steps and rows, checked: one row per step, all of one length, every entry a probability. */
function checkedMassData(
  data: MassData | readonly MassSnapshot[],
  prompt: number | undefined,
): MassData {
  const { steps, probs } = Array.isArray(data)
    ? fromSnapshots(data as readonly MassSnapshot[], prompt)
    : (data as MassData) ?? {};
  if (!steps || !Array.isArray(probs)) {
    throw new TypeError("massEvolution: data needs steps and probs (one probability row per step)");
  }
  if (steps.length !== probs.length) {
    throw new RangeError(
      `massEvolution: ${steps.length} steps but ${probs.length} probability rows`,
    );
  }
  if (!probs.length) throw new RangeError("massEvolution: need at least one step");
  const vocab = probs[0].length;
  probs.forEach((row, t) => {
    if (row.length !== vocab) {
      throw new RangeError(
        `massEvolution: row ${t} has ${row.length} probabilities, row 0 has ${vocab}`,
      );
    }
    for (let v = 0; v < row.length; v++) {
      if (!(row[v] >= -1e-9 && row[v] <= 1 + 1e-6)) {
        throw new RangeError(`massEvolution: probs[${t}][${v}] = ${row[v]} is not a probability`);
      }
    }
  });
  return { steps, probs };
}

/** The token ids drawn individually: `include` first, then the best ranked up to `topK`. */
function shownTokens(probs: ArrayLike<number>[], opts: MassOptions): number[] {
  const vocab = probs[0].length;
  const topK = opts.topK ?? 5;
  if (!Number.isInteger(topK) || topK < 1) {
    throw new RangeError(`massEvolution: topK must be a positive integer, got ${topK}`);
  }
  const include = opts.include ?? [];
  for (const v of include) {
    if (!Number.isInteger(v) || v < 0 || v >= vocab) {
      throw new RangeError(
        `massEvolution: include id ${v} is outside the vocabulary 0..${vocab - 1}`,
      );
    }
  }
  const score = rankScores(probs, opts.rankBy ?? "max");
  const chosen = [...new Set(include)];
  const rest = Array.from({ length: vocab }, (_, v) => v)
    .filter((v) => !chosen.includes(v))
    .sort((a, b) => score[b] - score[a] || a - b);
  return [...chosen, ...rest.slice(0, Math.max(0, Math.min(vocab, topK) - chosen.length))];
}

function rankScores(
  probs: ArrayLike<number>[],
  rankBy: NonNullable<MassOptions["rankBy"]>,
): Float64Array {
  const vocab = probs[0].length;
  const score = new Float64Array(vocab);
  for (let v = 0; v < vocab; v++) {
    let s = rankBy === "max" ? -Infinity : 0;
    for (let t = 0; t < probs.length; t++) {
      const p = probs[t][v];
      if (rankBy === "max") s = Math.max(s, p);
      else if (rankBy === "mean") s += p / probs.length;
    }
    score[v] = rankBy === "final" ? probs[probs.length - 1][v] : s;
  }
  return score;
}

/** "everything else": 1 − the shown tokens' mass at each step, on top of the stack. */
function remainderTrace(probs: ArrayLike<number>[], shown: number[], x: number[]): ScatterTrace {
  const other = probs.map((row) => {
    let s = 0;
    for (const v of shown) s += Math.max(0, row[v]);
    return Math.max(0, 1 - s);
  });
  return {
    type: "scatter",
    mode: "lines",
    name: "everything else",
    x,
    y: other,
    stackgroup: "mass",
    line: { color: ROLE_COLORS.context, width: 0.8 },
    fillcolor: withAlpha(ROLE_COLORS.context, 0.6),
    hovertemplate: "everything else: %{y:.3f}<extra></extra>",
  };
}
