/**
 * A figure's MIME bundle: plotly JSON, offline HTML (with plotly.js once per session), a static
 * SVG and a text summary, tagged with its census number.
 *
 * @module
 */
import { figureHtml, plotlyLoaderHtml } from "../html.ts";
import { figureToSvg } from "../svg.ts";
import type { Figure, Trace } from "../types.ts";
import { session } from "./session.ts";
import { summarize } from "./summary.ts";

/** The MIME bundle sent for a figure. */
export interface MimeBundle {
  "application/vnd.plotly.v1+json": {
    data: Trace[];
    layout: Figure["layout"];
    config: Figure["config"];
  };
  "text/html": string;
  "image/svg+xml": string;
  "text/plain": string;
  [mime: string]: unknown;
}

/** Options for {@link mimeBundle}. */
export interface BundleOptions {
  /**
   * Whether the HTML carries plotly.js: `"auto"` (default) includes it in the first bundle of
   * the kernel session only; `"inline"` always; `"omit"` never.
   */
  plotly?: "auto" | "inline" | "omit";
  /** Size of the static SVG, px; default the layout's, else 720 x 440. */
  width?: number;
  height?: number;
  /** The figure's number in the census ({@link noteFigure}), carried as {@link FIGURE_MIME}. */
  figureId?: number;
}

/**
 * MIME type of the census tag in a figure's bundle: `{ figure: n }`, the number
 * {@link noteFigure} gave it. Frontends ignore it; tests match it against the census file.
 */
export const FIGURE_MIME = "application/vnd.dpo-lab.figure+json";

/** A JSON-clean copy: drops functions and symbol keys, NaN/Infinity become null like plotly.js. */
function plain(fig: Figure): MimeBundle["application/vnd.plotly.v1+json"] {
  return JSON.parse(JSON.stringify({ data: fig.data, layout: fig.layout, config: fig.config }));
}

/**
 * The MIME bundle for a figure: plotly JSON, offline HTML (with plotly.js until show() or
 * liveFigure has sent it in this session), a static SVG and a text summary.
 *
 * @example
 * ```ts
 * import { mimeBundle } from "./bundle.ts";
 * const b = mimeBundle({ data: [], layout: {}, config: {} }, { plotly: "omit" });
 * console.log(Object.keys(b).length); // 4
 * ```
 */
export function mimeBundle(fig: Figure, opts: BundleOptions = {}): MimeBundle {
  const clean = plain(fig);
  const svg = figureToSvg(clean, { width: opts.width, height: opts.height });
  const mode = opts.plotly ?? "auto";
  // Building a bundle never marks plotly.js as sent: a bundle can still be lost on the way (a
  // cell's value arriving after the cell finished), and marking it here once left whole reports
  // without plotly.js. Only show()/liveFigure, which await the send, mark it.
  const carry = mode === "inline" || (mode === "auto" && !session().plotlySent);
  const html = (carry ? plotlyLoaderHtml() : "") + figureHtml(clean, { svg });
  return {
    "application/vnd.plotly.v1+json": clean,
    "text/html": html,
    "image/svg+xml": svg,
    "text/plain": summarize(clean),
    ...(opts.figureId !== undefined ? { [FIGURE_MIME]: { figure: opts.figureId } } : {}),
  };
}
