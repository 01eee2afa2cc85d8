/**
 * HTML for figures: plotly.js inlined from the installed npm package (never a CDN), a loader
 * that defines `window.Plotly` once per page, and per-figure markup that draws as soon as
 * plotly.js is available, showing the static SVG until then (or forever, where scripts do not
 * run).
 *
 * How a notebook page gets plotly.js exactly once: the first figure shown in a kernel session
 * carries the loader; every figure's script either draws at once (`window.Plotly` exists) or
 * queues itself on `window.__dpoLabPlotlyQueue`, which the loader drains. That works in a live
 * JupyterLab/Notebook page and in an nbconvert HTML export alike, since both put all outputs in
 * one document.
 *
 * @module
 */
import { figureToSvg } from "./svg.ts";
import { escapeXml, plainText } from "./text.ts";
import { toBase64 } from "./png.ts";
import type { Figure } from "./types.ts";

const PLOTLY_FILE = "plotly.js-dist-min/plotly.min.js";

/** Where the plotly.js bundle lives: the import map's npm package, else ../../node_modules. */
export function plotlyJsUrl(): URL {
  try {
    const resolved = import.meta.resolve(PLOTLY_FILE);
    if (resolved.startsWith("file:")) return new URL(resolved);
  } catch {
    // Not in this module's import map (e.g. lib/ imported from elsewhere): use the repo layout.
  }
  return new URL(`../../node_modules/${PLOTLY_FILE}`, import.meta.url);
}

let plotlyCache: string | undefined;

/**
 * The plotly.js bundle, made safe to inline in a `<script>` element: the few `<!--`, `<script`
 * and `</script` sequences inside its string literals are written as `\x3C...`, which means the
 * same in JS strings and regexes but cannot end or confuse the HTML script element.
 *
 * @example
 * ```ts
 * import { plotlyJsSource } from "./html.ts";
 * console.log(plotlyJsSource().includes("window.Plotly")); // true
 * ```
 */
export function plotlyJsSource(): string {
  if (plotlyCache !== undefined) return plotlyCache;
  const url = plotlyJsUrl();
  let src: string;
  try {
    src = Deno.readTextFileSync(url);
  } catch (err) {
    throw new Error(
      `plotly.js not found at ${url.pathname} (${(err as Error).message}); ` +
        `run \`deno install\` in the repository root to fetch npm:plotly.js-dist-min`,
    );
  }
  plotlyCache = src.replace(/(?<!\\)<(?=!--|\/?script)/gi, "\\x3C");
  return plotlyCache;
}

/**
 * JSON for embedding in a `<script>`: `<`, `>`, `&`, U+2028/9 escaped so no data can close the
 * element or break the parser.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * Markup that defines `window.Plotly` (inlined plotly.js) and then draws every figure that was
 * waiting for it. Including it twice in one page is harmless, only wasteful.
 *
 * @example
 * ```ts
 * import { plotlyLoaderHtml } from "./html.ts";
 * console.log(plotlyLoaderHtml().length > 1_000_000); // true (about 4.8 MB)
 * ```
 */
export function plotlyLoaderHtml(): string {
  // The wrapper hides any page-level CommonJS `module`, so the UMD header always takes its
  // browser branch, which sets window.Plotly.
  return `<script type="text/javascript" data-dpo-lab="plotly.js">` +
    `/* plotly.js (MIT, Plotly Inc.), inlined by dpo-lab once per notebook page */\n` +
    `(function (module, exports, define) {\n${plotlyJsSource()}\n}).call(window);</script>\n` +
    `<script type="text/javascript">(function (w) {` +
    `var q = w.__dpoLabPlotlyQueue;` +
    `w.__dpoLabPlotlyQueue = { push: function (f) { f(w.Plotly); } };` +
    `if (q && q.length) for (var i = 0; i < q.length; i++) {` +
    `try { q[i](w.Plotly); } catch (e) { console.error(e); } }` +
    `})(window);</script>\n`;
}

let figureCounter = 0;

/** Options for {@link figureHtml}. */
export interface FigureHtmlOptions {
  /** Put the static SVG inside the figure's div, shown until (unless) plotly draws. Default true. */
  fallback?: boolean;
  /** Pre-rendered SVG for the fallback (saves rendering twice). */
  svg?: string;
  /** Element id suffix; default a fresh one per call. */
  id?: string;
}

/**
 * A `<div>` plus `<script>` that draws the figure with plotly.js when it is (or becomes)
 * available on the page. Does not include plotly.js itself; see {@link plotlyLoaderHtml}.
 *
 * @example
 * ```ts
 * import { figureHtml } from "./html.ts";
 * const html = figureHtml({ data: [], layout: {}, config: {} }, { fallback: false });
 * console.log(html.includes("__dpoLabPlotlyQueue")); // true
 * ```
 */
export function figureHtml(fig: Figure, opts: FigureHtmlOptions = {}): string {
  const id = opts.id ??
    `${Date.now().toString(36)}${(figureCounter++).toString(36)}${
      Math.random().toString(36).slice(2, 7)
    }`;
  const title = plainText(fig.layout?.title?.text ?? "figure");
  let inner = "";
  if (opts.fallback ?? true) {
    const svg = opts.svg ?? figureToSvg(fig);
    const b64 = toBase64(new TextEncoder().encode(svg));
    // An <img> survives JupyterLab's sanitizer (inline <svg> does not), so an untrusted notebook
    // still shows the static figure.
    inner = `<img src="data:image/svg+xml;base64,${b64}" alt="${escapeXml(title)}" ` +
      `style="max-width:100%;height:auto;"/>`;
  }
  const note = "Interactive version unavailable: plotly.js was not loaded in this page. " +
    "Re-run the notebook from the top, or call resetPlotlySession() and show the figure again.";
  return `<div class="dpo-lab-figure" data-dpo-lab-figure="${id}">${inner}</div>\n` +
    `<script type="text/javascript">(function (w, d) {\n` +
    `var id = ${scriptJson(id)};\n` +
    `var s = d.currentScript, el = s && s.previousElementSibling;\n` +
    `if (!el || el.getAttribute("data-dpo-lab-figure") !== id) {\n` +
    `  var all = d.querySelectorAll('[data-dpo-lab-figure="' + id + '"]');\n` +
    `  el = all.length ? all[all.length - 1] : null;\n}\n` +
    `if (!el) return;\n` +
    `var fig = ${scriptJson({ data: fig.data, layout: fig.layout, config: fig.config })};\n` +
    `function draw(P) {\n` +
    `  if (!P || !P.newPlot || el.getAttribute("data-dpo-lab-drawn")) return;\n` +
    `  el.setAttribute("data-dpo-lab-drawn", "1"); el.removeAttribute("title"); el.innerHTML = "";\n` +
    `  P.newPlot(el, fig.data, fig.layout, fig.config);\n}\n` +
    `if (w.Plotly && w.Plotly.newPlot) draw(w.Plotly);\n` +
    `else {\n  (w.__dpoLabPlotlyQueue = w.__dpoLabPlotlyQueue || []).push(draw);\n` +
    `  setTimeout(function () { if (!el.getAttribute("data-dpo-lab-drawn")) ` +
    `el.title = ${scriptJson(note)}; }, 5000);\n}\n` +
    `})(window, document);</script>\n`;
}

const PAGE_STYLE = `body{margin:0;font-family:Helvetica,Arial,'DejaVu Sans',sans-serif;` +
  `color:#222;background:#fff}main{max-width:980px;margin:0 auto;padding:24px}` +
  `h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em}p{line-height:1.5}` +
  `.dpo-lab-figure{margin:12px 0}pre,code{background:#f4f4f4}pre{padding:8px;overflow:auto}`;

/** Options for {@link figurePageHtml}. */
export interface PageOptions {
  /** Document title; default the figure's title. */
  title?: string;
  /** Drop page padding so the figure fills the viewport (used for PNG screenshots). */
  bare?: boolean;
}

/**
 * A complete, self-contained HTML document showing one figure (plotly.js inlined; works offline).
 *
 * @example
 * ```ts
 * import { figurePageHtml } from "./html.ts";
 * const page = figurePageHtml({ data: [], layout: { title: { text: "t" } }, config: {} });
 * console.log(page.startsWith("<!DOCTYPE html>")); // true
 * ```
 */
export function figurePageHtml(fig: Figure, opts: PageOptions = {}): string {
  const title = opts.title ?? plainText(fig.layout?.title?.text ?? "figure");
  const body = opts.bare
    ? figureHtml(fig, { fallback: false })
    : `<main>${figureHtml(fig, { fallback: false })}</main>`;
  return htmlDocument(title, body, opts.bare ? "body{margin:0;background:#fff}" : PAGE_STYLE);
}

/** Wrap body markup in a document whose head carries plotly.js (loaded before any figure). */
export function htmlDocument(title: string, body: string, style: string = PAGE_STYLE): string {
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${escapeXml(title)}</title>\n<style>${style}</style>\n` +
    `${plotlyLoaderHtml()}</head>\n<body>\n${body}\n</body>\n</html>\n`;
}
