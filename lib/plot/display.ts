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
import { figureHtml, plotlyLoaderHtml } from "./html.ts";
import { figureToSvg } from "./svg.ts";
import { plainText } from "./text.ts";
import type { Figure, HeatmapTrace, Trace } from "./types.ts";

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

/**
 * Environment variable naming a file to which every figure a notebook displays is appended as a
 * JSON line `{ figure, title, via }` (the census), written before the figure is sent, so a test
 * can check that each one reached the executed notebook.
 */
export const FIGURE_LOG_ENV = "DPO_LAB_FIGURE_LOG";

interface Session {
  /** Set only once an output carrying plotly.js was handed to the kernel by show/liveFigure. */
  plotlySent: boolean;
  /** Figures noted in the census so far. */
  figures: number;
  /** Census number of each output shown with a display id, so updates keep it. */
  displayed: Map<string, number>;
}

// On globalThis, not in module scope, so two copies of this module in one kernel (imported via
// different URLs) still agree on whether the page already has plotly.js.
const SESSION_KEY = Symbol.for("dpo-lab.plot.session");

function session(): Session {
  const g = globalThis as unknown as Record<symbol, Session | undefined>;
  return (g[SESSION_KEY] ??= { plotlySent: false, figures: 0, displayed: new Map() });
}

/**
 * Forget that plotly.js was sent, so the next figure carries it again. Use after clearing or
 * re-running the output that carried it: otherwise, once the notebook is saved and reopened,
 * no output holds plotly.js and figures stay static.
 *
 * @example
 * ```ts
 * import { resetPlotlySession } from "./display.ts";
 * resetPlotlySession();
 * ```
 */
export function resetPlotlySession(): void {
  session().plotlySent = false;
}

function censusFile(): string | undefined {
  try {
    return Deno.env.get(FIGURE_LOG_ENV) || undefined;
  } catch {
    return undefined; // no env permission: no census
  }
}

/**
 * Give a displayed figure its number in this kernel session and, when {@link FIGURE_LOG_ENV}
 * names a file, append `{ figure, title, via }` to it. `via` says how it was displayed: `show`,
 * `live`, or `value` (a bare cell value, which the Deno kernel may deliver too late to keep).
 *
 * @example
 * ```ts
 * import { noteFigure } from "./display.ts";
 * const a = noteFigure({ data: [], layout: {}, config: {} }, "show");
 * const b = noteFigure({ data: [], layout: {}, config: {} }, "show");
 * console.log(b === a + 1); // true
 * ```
 */
export function noteFigure(fig: Figure, via: "show" | "live" | "value"): number {
  const id = ++session().figures;
  const file = censusFile();
  if (file) {
    const title = plainText(fig.layout?.title?.text ?? "");
    Deno.writeTextFileSync(file, JSON.stringify({ figure: id, title, via }) + "\n", {
      append: true,
    });
  }
  return id;
}

/** A JSON-clean copy: drops functions and symbol keys, NaN/Infinity become null like plotly.js. */
function plain(fig: Figure): MimeBundle["application/vnd.plotly.v1+json"] {
  return JSON.parse(JSON.stringify({ data: fig.data, layout: fig.layout, config: fig.config }));
}

function rangeText(ys: unknown[]): string {
  const v = ys.filter((y): y is number => typeof y === "number" && Number.isFinite(y));
  if (!v.length) return "no finite values";
  const f = (x: number) => Number(x.toPrecision(4)).toString();
  return `y ${f(Math.min(...v))} .. ${f(Math.max(...v))}`;
}

/**
 * A short text description of a figure: title, traces with sizes and value ranges, axis titles.
 * What terminals, logs and text-only frontends show.
 *
 * @example
 * ```ts
 * import { summarize } from "./display.ts";
 * const text = summarize({
 *   data: [{ type: "scatter", x: [0, 1], y: [2, 3], name: "loss" }],
 *   layout: { title: { text: "Loss" } },
 *   config: {},
 * });
 * console.log(text.split("\n")[0]); // Figure "Loss" (1 trace)
 * ```
 */
export function summarize(fig: Figure): string {
  const title = plainText(fig.layout?.title?.text ?? "");
  const n = fig.data.length;
  const lines = [`Figure${title ? ` "${title}"` : ""} (${n} trace${n === 1 ? "" : "s"})`];
  const shown = fig.data.slice(0, 12);
  for (const t of shown) {
    const name = t.name ? plainText(t.name) : "(unnamed)";
    if (t.type === "heatmap") {
      const z = (t as HeatmapTrace).z;
      lines.push(
        `  - ${name}: heatmap ${z.length} x ${z[0]?.length ?? 0}, ${rangeText(z.flat())}`.replace(
          " y ",
          " z ",
        ),
      );
    } else {
      const ys = (t as { y?: unknown[] }).y ?? [];
      lines.push(`  - ${name}: ${t.type}, ${ys.length} points, ${rangeText(ys)}`);
    }
  }
  if (n > shown.length) lines.push(`  ... and ${n - shown.length} more`);
  const axes = Object.keys(fig.layout ?? {}).filter((k) => /^[xy]axis\d*$/.test(k)).sort()
    .map((k) => {
      const text = (fig.layout[k] as { title?: { text?: string } })?.title?.text;
      return text ? `${k}: ${plainText(text)}` : "";
    }).filter(Boolean);
  if (axes.length) lines.push(`  axes: ${axes.join("; ")}`);
  return lines.join("\n");
}

/**
 * The MIME bundle for a figure: plotly JSON, offline HTML (with plotly.js until show() or
 * liveFigure has sent it in this session), a static SVG and a text summary.
 *
 * @example
 * ```ts
 * import { mimeBundle } from "./display.ts";
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

type DisplayFn = (
  obj: unknown,
  options: { raw?: boolean; update?: boolean; display_id?: string },
) => Promise<void>;

function bundleBytes(obj: unknown): number {
  return Object.values(obj as Record<string, unknown>).reduce(
    (n: number, v) => n + (typeof v === "string" ? v.length : JSON.stringify(v)?.length ?? 0),
    0,
  );
}

/**
 * How long show() waits after handing `bytes` to the kernel, ms (see jupyterDisplay).
 *
 * @example
 * ```ts
 * import { sendWaitMs } from "./display.ts";
 * console.log(sendWaitMs(5e6)); // 2500: the 5 MB plotly.js output
 * ```
 */
export function sendWaitMs(bytes: number): number {
  return bytes < 1e6 ? 50 + Math.ceil(bytes / 1e5) * 40 : 500 + Math.ceil(bytes / 1e6) * 400;
}

/** `Deno.jupyter.display` when running in the Deno Jupyter kernel, else undefined. */
export function jupyterDisplay(): DisplayFn | undefined {
  try {
    // Outside `deno jupyter` the getter throws rather than returning undefined.
    const j = (Deno as unknown as { jupyter?: { display?: DisplayFn } }).jupyter;
    if (typeof j?.display !== "function") return undefined;
    const send = j.display.bind(j);
    // The Deno kernel resolves display() before the message is on the wire, and a cell that ends
    // right after a large output can report idle first; headless runs (nbconvert) then drop the
    // output. Waiting in proportion to the payload lets it go out while the cell still runs.
    // Measured on a loaded 2-core machine (load ~10): 150 ms per MB lost 03's first figure
    // together with the 5 MB plotly.js output before it; hence 400 ms per MB, 0.5 s at least
    // after a megabyte-sized message.
    return async (obj, opts) => {
      await send(obj, opts);
      await new Promise((r) => setTimeout(r, sendWaitMs(bundleBytes(obj))));
    };
  } catch {
    return undefined;
  }
}

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

/** Options for {@link liveFigure}. */
export interface LiveOptions {
  /** Jupyter display id; default a fresh unique one. */
  displayId?: string;
  /** Least time between two updates sent to the frontend, ms; default 500. */
  minIntervalMs?: number;
}

/** A figure shown once and then replaced in place; see {@link liveFigure}. */
export interface LiveFigure {
  /** The Jupyter display id of the output being updated. */
  readonly displayId: string;
  /** The most recent figure passed in (sent or pending). */
  readonly figure: Figure;
  /**
   * Replace the figure. Sent at once if `minIntervalMs` has passed since the last send; otherwise
   * kept as pending and sent when the interval is up (only the newest pending figure is sent).
   */
  update(fig: Figure): Promise<void>;
  /** Send the pending figure now, if any; call at the end of the cell. */
  flush(): Promise<void>;
}

let liveCounter = 0;

/**
 * Show a figure that a long-running cell can update in place (training curves while training).
 * Updates carry the plotly JSON, SVG and a small HTML snippet, never plotly.js again. Outside a
 * Jupyter kernel, nothing is shown until `flush()`, which prints the final figure's summary.
 *
 * @example
 * ```ts
 * import { liveFigure } from "./display.ts";
 * const fig = (n: number) => ({
 *   data: [{ type: "scatter" as const, x: [...Array(n).keys()], y: [...Array(n).keys()] }],
 *   layout: {},
 *   config: {},
 * });
 * const live = liveFigure(fig(1), { minIntervalMs: 250 });
 * for (let step = 2; step <= 5; step++) await live.update(fig(step));
 * await live.flush();
 * ```
 */
export function liveFigure(initial: Figure, opts: LiveOptions = {}): LiveFigure {
  const minInterval = opts.minIntervalMs ?? 500;
  if (!(minInterval >= 0) || !Number.isFinite(minInterval)) {
    throw new RangeError(
      `liveFigure: minIntervalMs must be a finite number >= 0, got ${minInterval}`,
    );
  }
  const displayId = opts.displayId ??
    `dpo-lab-live-${++liveCounter}-${Math.random().toString(36).slice(2, 8)}`;
  const display = jupyterDisplay();
  let chain: Promise<void> = Promise.resolve();
  let last = -Infinity;
  let pending: Figure | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current = initial;

  // A failed send must not reject into an un-awaited update() and kill the kernel.
  const enqueue = (fn: () => Promise<void>): Promise<void> => {
    chain = chain.then(fn).catch((err) => console.error("liveFigure: display failed:", err));
    return chain;
  };
  const send = (): Promise<void> => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    const fig = pending;
    pending = undefined;
    if (!fig || !display) return chain;
    last = performance.now();
    const bundle = mimeBundle(fig, { plotly: "omit", figureId });
    return enqueue(() => display(bundle, { raw: true, update: true, display_id: displayId }));
  };

  const figureId = display ? noteFigure(initial, "live") : 0;
  if (display) {
    const s = session();
    if (!s.plotlySent) {
      // plotly.js goes into an output of its own: the live output is replaced on every update,
      // and would take plotly.js with it.
      const loader = { "text/html": plotlyLoaderHtml(), "text/plain": "" };
      enqueue(async () => {
        await display(loader, { raw: true });
        s.plotlySent = true;
      });
    }
    const bundle = mimeBundle(initial, { plotly: "omit", figureId });
    enqueue(() => display(bundle, { raw: true, display_id: displayId }));
    last = performance.now();
  }

  return {
    displayId,
    get figure() {
      return current;
    },
    update(fig: Figure): Promise<void> {
      current = fig;
      pending = fig;
      if (!display) return chain;
      const wait = last + minInterval - performance.now();
      if (wait <= 0) return send();
      timer ??= setTimeout(send, wait);
      return chain;
    },
    flush(): Promise<void> {
      if (!display) {
        console.log(summarize(current));
        pending = undefined;
        return chain;
      }
      return send();
    },
  };
}
