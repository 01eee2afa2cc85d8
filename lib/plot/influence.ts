/**
 * The learning-dynamics influence matrix (`influenceMatrix` in `lib/analysis/learning_dynamics.ts`)
 * as heatmaps, probes down and pairs across: the part of each probe's log-prob change that one
 * step on each pair causes through the chosen response's gradient, through the rejected one's,
 * their sum and, when measured, the change observed after a real step. One colour scale for all
 * panels, centred on 0 (warm = the probe gains).
 *
 * @module
 */
import type { DisplayableFigure } from "./figure.ts";
import { heatmapFigure } from "./generic.ts";
import { subplots } from "./subplots.ts";
import type { Annotation, Axis, Figure } from "./types.ts";

/** The matrices to draw, `[probe][pair]` (the fields of an `InfluenceMatrix`). */
export interface InfluenceData {
  chosen: readonly (readonly number[])[];
  rejected: readonly (readonly number[])[];
  predicted: readonly (readonly number[])[];
  observed?: readonly (readonly number[])[];
}

/** Options of {@link influenceFigure}. */
export interface InfluenceFigureOptions {
  /** One label per probe (rows). */
  probeLabels?: readonly string[];
  /** One label per pair (columns). */
  pairLabels?: readonly string[];
  title?: string;
  /** Colour-bar title (default "Δ ln π (nats)"). */
  zTitle?: string;
  /** Figure width, px (default 900); panels wrap to one per 330 px. */
  width?: number;
}

/** Width of a 10 px label, px: ~6 px per character (Helvetica/DejaVu average), plus padding. */
const labelPx = (chars: number) => 6 * chars + 12;

/**
 * Panels: chosen-gradient part, rejected-gradient part, first-order total and (when given) the
 * observed change, each a probes x pairs heatmap with the labels written beside the rows and
 * under the columns. `layout.meta.range` is the shared colour range.
 *
 * @example
 * ```ts
 * import { influenceFigure } from "./influence.ts";
 * const fig = influenceFigure(
 *   { chosen: [[0.2, 0]], rejected: [[-0.5, 0.1]], predicted: [[-0.3, 0.1]], observed: [[-0.29, 0.1]] },
 *   { probeLabels: ["y+ of pair 0"], pairLabels: ["pair 0", "pair 1"] },
 * );
 * console.log(fig.data.length, (fig.layout.meta as { range: number }).range); // 4 0.5
 * ```
 */
export function influenceFigure(
  d: InfluenceData,
  opts: InfluenceFigureOptions = {},
): DisplayableFigure {
  const panels: Array<[string, readonly (readonly number[])[]]> = [
    ["chosen part", d.chosen],
    ["rejected part", d.rejected],
    ["first-order total", d.predicted],
  ];
  if (d.observed) panels.push(["observed", d.observed]);
  const rows = d.predicted.length, cols = d.predicted[0]?.length ?? 0;
  if (rows === 0 || cols === 0) throw new RangeError("influenceFigure: empty matrix");
  for (const [name, m] of panels) {
    if (m.length !== rows || m.some((r) => r.length !== cols)) {
      throw new RangeError(`influenceFigure: ${name} is not ${rows} x ${cols} like the total`);
    }
  }
  for (
    const [what, labels, n] of [["probeLabels", opts.probeLabels, rows], [
      "pairLabels",
      opts.pairLabels,
      cols,
    ]] as const
  ) {
    if (labels && labels.length !== n) {
      throw new RangeError(`influenceFigure: ${what} has ${labels.length} labels for ${n} entries`);
    }
  }
  const range = Math.max(...panels.flatMap(([, m]) => m.flat().map(Math.abs))) || 1;
  // Rows drawn top-down: probe 0 at the top.
  const flip = <T>(m: readonly T[]) => [...m].reverse();
  const figs = panels.map(([name, m], k) => {
    const f = heatmapFigure({ z: flip(m) as number[][] }, {
      title: name,
      colorscale: "diverging",
      zmin: -range,
      zmax: range,
      zTitle: opts.zTitle ?? "Δ ln π (nats)",
    });
    const t = f.data[0] as { showscale?: boolean };
    t.showscale = k === panels.length - 1;
    // Fixed ranges: the labels sit outside the cells instead of stretching the axes.
    const axis = (n: number) => ({
      range: [-0.5, n - 0.5],
      showticklabels: false,
      showgrid: false,
      zeroline: false,
      title: { text: "" },
    });
    f.layout.xaxis = axis(cols);
    f.layout.yaxis = axis(rows);
    return f;
  });
  // Every panel carries its own row labels (a reader should not trace rows across panels), so
  // the gap between panels is as wide as the longest label.
  const width = opts.width ?? 900;
  const longest = Math.max(0, ...(opts.probeLabels ?? []).map((l) => l.length));
  const left = 20 + labelPx(longest);
  // Plot area: width minus the left margin, the right margin (30) and the colour bar (~90).
  const plotW = width - left - 30 - 90;
  const fig = subplots(figs, {
    columns: panels.length,
    title: opts.title ??
      "Influence of one step on each pair (columns) on each probe's log-prob (rows)",
    rowHeight: Math.max(260, 40 * rows + 120),
    width,
    xgap: longest > 0 ? Math.min(0.4, (labelPx(longest) + 16) / plotW) : 0.08,
  });
  fig.layout.meta = { range };
  fig.layout.annotations = [
    ...(fig.layout.annotations ?? []),
    ...labels(fig, panels.length, rows, cols, opts),
  ];
  fig.layout.margin = { ...(fig.layout.margin ?? {}), l: left };
  return fig;
}

/**
 * Row labels left of every panel and column labels under every panel, in paper coordinates
 * (plotly hides annotations placed in data coordinates outside an axis range).
 */
function labels(
  fig: Figure,
  panels: number,
  rows: number,
  cols: number,
  opts: InfluenceFigureOptions,
): Annotation[] {
  const domain = (k: number, d: "x" | "y") =>
    ((fig.layout[`${d}axis${k === 0 ? "" : k + 1}`] as Axis | undefined)?.domain ?? [0, 1]) as [
      number,
      number,
    ];
  const at = (dom: [number, number], i: number, n: number) =>
    dom[0] + ((i + 0.5) / n) * (dom[1] - dom[0]);
  const font = { size: 10 };
  const out: Annotation[] = [];
  for (let k = 0; k < panels; k++) {
    (opts.probeLabels ?? []).forEach((text, j) =>
      out.push({
        text,
        x: domain(k, "x")[0] - 0.005,
        y: at(domain(k, "y"), rows - 1 - j, rows),
        xref: "paper",
        yref: "paper",
        xanchor: "right",
        yanchor: "middle",
        showarrow: false,
        font,
      })
    );
  }
  for (let k = 0; k < panels; k++) {
    (opts.pairLabels ?? []).forEach((text, i) =>
      out.push({
        text,
        x: at(domain(k, "x"), i, cols),
        y: domain(k, "y")[0] - 0.02,
        xref: "paper",
        yref: "paper",
        // Paper-referenced annotations default to an anchor that depends on x: pin it.
        xanchor: "center",
        yanchor: "top",
        showarrow: false,
        font,
      })
    );
  }
  return out;
}
