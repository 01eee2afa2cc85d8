/**
 * Likelihood displacement against the CHES score (centered hidden embedding similarity of the
 * chosen and rejected responses; Razin et al., 2024, arXiv:2410.08847): one point per pair, with
 * Spearman's rank correlation in the figure.
 *
 * @module
 */
import { type DisplayableFigure, makeFigure } from "./figure.ts";
import type { StepRecord } from "./records.ts";
import { spearmanCorrelation } from "../core/stats.ts";
import { OKABE_ITO } from "./style.ts";
import type { ScatterTrace } from "./types.ts";

/** Options for {@link displacementVsChes}. */
export interface ChesFigureOptions {
  /** Field with the CHES score; default `"ches"`. */
  xKey?: string;
  /** Field with the displacement; default `"displacement"`. */
  yKey?: string;
  /** Field naming the pair (shown on hover); default `"pair"`. */
  labelKey?: string;
  /** Pair labels to mark in colour (e.g. the most displaced). */
  highlight?: Array<string | number>;
  xTitle?: string;
  yTitle?: string;
  title?: string;
}

/** Format a correlation for display: 2 decimals, true minus sign, "n/a" for NaN. */
function fmtRho(r: number): string {
  return Number.isFinite(r) ? r.toFixed(2).replace("-", "\u2212") : "n/a";
}

/**
 * Scatter of per-pair displacement (default: change in log π(y_w|x), nats) against the CHES
 * score, annotated with Spearman's ρ over the pairs with finite values. `layout.meta` carries
 * `{ spearman, n }` for programmatic use.
 *
 * @example
 * ```ts
 * import { displacementVsChes } from "./ches.ts";
 * const fig = displacementVsChes([
 *   { pair: 0, ches: 1, displacement: -0.1 },
 *   { pair: 1, ches: 2, displacement: -0.4 },
 *   { pair: 2, ches: 3, displacement: -0.9 },
 * ]);
 * console.log((fig.layout.meta as { spearman: number }).spearman); // -1
 * ```
 */
export function displacementVsChes(
  records: readonly StepRecord[],
  opts: ChesFigureOptions = {},
): DisplayableFigure {
  if (!Array.isArray(records)) {
    throw new TypeError("displacementVsChes: records must be an array of { ches, displacement }");
  }
  const xKey = opts.xKey ?? "ches", yKey = opts.yKey ?? "displacement";
  const labelKey = opts.labelKey ?? "pair";
  const pts: Array<{ x: number; y: number; label: string }> = [];
  records.forEach((r, i) => {
    const x = r?.[xKey], y = r?.[yKey];
    if (
      typeof x === "number" && Number.isFinite(x) && typeof y === "number" && Number.isFinite(y)
    ) {
      const l = r[labelKey];
      pts.push({
        x,
        y,
        label: typeof l === "string" || typeof l === "number" ? String(l) : String(i),
      });
    }
  });
  if (pts.length === 0) {
    throw new RangeError(`displacementVsChes: no records with numeric "${xKey}" and "${yKey}"`);
  }
  const rho = pts.length >= 2 ? spearmanCorrelation(pts.map((p) => p.x), pts.map((p) => p.y)) : NaN;
  const hl = new Set((opts.highlight ?? []).map(String));
  const base = pts.filter((p) => !hl.has(p.label));
  const marked = pts.filter((p) => hl.has(p.label));
  const trace = (ps: typeof pts, name: string, color: string, size: number): ScatterTrace => ({
    type: "scatter",
    mode: "markers",
    name,
    x: ps.map((p) => p.x),
    y: ps.map((p) => p.y),
    text: ps.map((p) => `pair ${p.label}`),
    marker: { color, size, opacity: 0.75, line: { color: "#FFFFFF", width: 0.5 } },
    hovertemplate: "%{text}<br>CHES %{x:.3g}<br>displacement %{y:.3g}<extra></extra>",
  });
  const data = [trace(base, "pairs", OKABE_ITO.blue, 7)];
  if (marked.length) data.push(trace(marked, "highlighted", OKABE_ITO.vermillion, 10));
  return makeFigure({
    data,
    layout: {
      title: { text: opts.title ?? "Likelihood displacement vs CHES score" },
      xaxis: { title: { text: opts.xTitle ?? "CHES score (a.u.)" } },
      yaxis: { title: { text: opts.yTitle ?? "Δ log π(y<sub>w</sub>|x) (nats)" } },
      showlegend: marked.length > 0,
      meta: { spearman: rho, n: pts.length },
      annotations: [{
        text: `Spearman ρ = ${fmtRho(rho)} (n = ${pts.length})`,
        // Just above the plotting area, so it can never sit on a point (a corner inside the
        // axes holds data whenever the correlation runs through that corner).
        x: 0,
        y: 1.01,
        xref: "paper",
        yref: "paper",
        xanchor: "left",
        yanchor: "bottom",
        showarrow: false,
        font: { size: 13 },
        bgcolor: "rgba(255,255,255,0.8)",
      }],
    },
  });
}
