/**
 * Showing figures in the Deno Jupyter kernel: one MIME bundle per figure
 * (`application/vnd.plotly.v1+json`, offline `text/html`, `image/svg+xml`, `text/plain`),
 * `show()`, and live figures updated in place while a cell runs.
 *
 * What each frontend shows (it picks the richest type it can render):
 * - VS Code, JupyterLab with the plotly extension: the plotly JSON, interactive.
 * - JupyterLab / Notebook 7 without it, trusted output: the HTML, interactive; plotly.js comes
 *   from the first figure of the kernel session (see {@link resetPlotlySession}).
 * - A reopened *untrusted* notebook (someone else's, or edited outside Jupyter): JupyterLab
 *   strips scripts from the HTML, so the static SVG `<img>` inside it shows instead; running the
 *   notebook (or "Trust Notebook") brings the interactive version back.
 * - nbconvert HTML export: all outputs share one page, so the first figure's plotly.js serves
 *   every figure, interactive and offline.
 * - GitHub and other static viewers: the SVG.
 *
 * @module
 */
import { plotlyLoaderHtml } from "./html.ts";
import type { Figure } from "./types.ts";
import { type BundleOptions, mimeBundle } from "./display/bundle.ts";
import { jupyterDisplay } from "./display/jupyter.ts";
import { noteFigure, session } from "./display/session.ts";
import { summarize } from "./display/summary.ts";

export { type BundleOptions, FIGURE_MIME, type MimeBundle, mimeBundle } from "./display/bundle.ts";
export { jupyterDisplay, sendWaitMs } from "./display/jupyter.ts";
export { type LiveFigure, liveFigure, type LiveOptions } from "./display/live.ts";
export { FIGURE_LOG_ENV, noteFigure, resetPlotlySession } from "./display/session.ts";
export { summarize } from "./display/summary.ts";

/** Options for {@link show}. */
export interface ShowOptions extends BundleOptions {
  /** Jupyter display id, so a later `show(..., { displayId, update: true })` can replace it. */
  displayId?: string;
  /** Replace the output with this display id instead of adding a new one. */
  update?: boolean;
}

/**
 * Display a figure in the Jupyter output of the running cell; outside a Jupyter kernel, print
 * its text summary instead.
 *
 * @example
 * ```ts
 * import { show } from "./display.ts";
 * await show({ data: [{ type: "scatter", x: [0, 1], y: [1, 0] }], layout: {}, config: {} });
 * ```
 */
export async function show(fig: Figure, opts: ShowOptions = {}): Promise<void> {
  const display = jupyterDisplay();
  if (!display) {
    console.log(summarize(fig));
    return;
  }
  if (opts.update && !opts.displayId) {
    throw new TypeError("show: update: true needs a displayId naming the output to replace");
  }
  const s = session();
  if (!opts.update && (opts.plotly ?? "auto") === "auto" && !s.plotlySent) {
    // plotly.js (~5 MB) goes out in an output of its own: the Deno kernel has been seen to sign
    // one very large message (plotly.js plus a big figure's SVG) wrongly, and Jupyter then drops
    // the connection ("Invalid Signature").
    await display({ "text/html": plotlyLoaderHtml(), "text/plain": "" }, { raw: true });
    s.plotlySent = true;
  }
  // An update replaces an output already counted: it keeps that output's census number.
  const known = opts.displayId ? s.displayed.get(opts.displayId) : undefined;
  const figureId = opts.update && known !== undefined ? known : noteFigure(fig, "show");
  if (opts.displayId) s.displayed.set(opts.displayId, figureId);
  const plotly = opts.update ? "omit" : opts.plotly;
  await display(mimeBundle(fig, { ...opts, plotly, figureId }), {
    raw: true,
    update: opts.update ?? false,
    ...(opts.displayId ? { display_id: opts.displayId } : {}),
  });
}
