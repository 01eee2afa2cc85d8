/**
 * Executes notebooks headless through Jupyter (nbconvert + the Deno kernel) and exports them to
 * self-contained HTML. Used by the notebook test and by the main job (`./lab.sh studies`).
 *
 * @module
 */
import { plotlyLoaderHtml } from "../lib/plot/html.ts";
import { headlessChromiumArgs } from "../lib/plot/save.ts";

/** The outcome of one notebook run. */
export interface NotebookRun {
  /** Path of the source notebook. */
  notebook: string;
  /** Path of the executed copy (written even when a cell failed). */
  executed: string;
  /** True when every cell ran without an error output. */
  ok: boolean;
  /** First failing cell, 0-based among all cells, with its error; undefined when ok. */
  error?: { cell: number; ename: string; evalue: string; source: string };
  /** Wall time in seconds, kernel start included. */
  seconds: number;
  /** Tail of nbconvert's own output, for failures outside any cell (kernel died, timeout). */
  log: string;
  /**
   * Runs repeated because Jupyter dropped a kernel message as "Invalid Signature" (a transport
   * fault of the Deno kernel, not a cell's error); at most one.
   */
  retries?: number;
}

/** Jupyter's client rejecting a kernel message it could not authenticate. */
const TRANSPORT_FAULT = "Invalid Signature";

interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: { output_type: string; ename?: string; evalue?: string }[];
}

function text(s: string | string[]): string {
  return Array.isArray(s) ? s.join("") : s;
}

/**
 * The environment for a Jupyter run: `extra` over this process's, with this clone's kernelspec
 * folder (`.tools/jupyter`, written by set-up) first on `JUPYTER_PATH`, so the Deno kernel is this
 * clone's even when the runner was started without `./lab.sh` (a global spec may point at
 * another clone's Deno, or at one that no longer exists).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jupyterEnv } from "./nbexec.ts";
 * const env = jupyterEnv({ A: "1" });
 * assert.equal(env.A, "1");
 * ```
 */
export function jupyterEnv(extra: Record<string, string> = {}): Record<string, string> {
  const local = new URL("../.tools/jupyter", import.meta.url).pathname;
  const env: Record<string, string> = { ...extra };
  try {
    if (Deno.statSync(local).isDirectory) {
      const rest = extra.JUPYTER_PATH ?? Deno.env.get("JUPYTER_PATH");
      const parts = (rest ?? "").split(":").filter((p) => p !== "" && p !== local);
      env.JUPYTER_PATH = [local, ...parts].join(":");
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return env;
}

/**
 * Runs `notebook` with the Deno kernel into `outDir/<name>.ipynb`. Cell errors do not stop the
 * run (`--allow-errors`), so the executed copy shows everything up to and after the failure; the
 * result names the first failing cell.
 */
export async function executeNotebook(
  notebook: string,
  opts: { outDir: string; env?: Record<string, string>; timeoutSeconds?: number },
): Promise<NotebookRun> {
  await Deno.mkdir(opts.outDir, { recursive: true });
  const name = notebook.split("/").pop()!;
  const executed = `${opts.outDir}/${name}`;
  const t0 = performance.now();
  const convert = () =>
    new Deno.Command("jupyter", {
      args: [
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--allow-errors",
        "--ExecutePreprocessor.kernel_name=deno",
        `--ExecutePreprocessor.timeout=${opts.timeoutSeconds ?? 1800}`,
        // A figure's first output carries plotly.js (~5 MB); on a loaded machine it can reach
        // Jupyter after the cell's reply, and nbclient's default 4 s wait silently drops it.
        "--ExecutePreprocessor.iopub_timeout=120",
        "--ExecutePreprocessor.raise_on_iopub_timeout=True",
        "--output-dir",
        opts.outDir,
        "--output",
        name,
        notebook,
      ],
      env: jupyterEnv(opts.env),
      stdout: "piped",
      stderr: "piped",
    }).output();
  const tail = (o: Deno.CommandOutput) =>
    (new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr))
      .split("\n").slice(-40).join("\n");
  let out = await convert();
  let log = tail(out);
  let retries = 0;
  // The Deno kernel (2.9.6) now and then sends a message Jupyter cannot authenticate; nbconvert
  // then stops without a notebook. That is the transport, not the notebook: run it once more.
  if (!out.success && log.includes(TRANSPORT_FAULT)) {
    await Deno.remove(executed).catch(() => {});
    retries = 1;
    out = await convert();
    log = tail(out);
  }
  const seconds = (performance.now() - t0) / 1000;
  const failed = (error: NonNullable<NotebookRun["error"]>): NotebookRun => ({
    notebook,
    executed,
    ok: false,
    seconds,
    log,
    error,
  });
  let cells: Cell[] = [];
  try {
    cells = JSON.parse(await Deno.readTextFile(executed)).cells as Cell[];
  } catch {
    return failed({
      cell: -1,
      ename: "NotExecuted",
      evalue: "nbconvert wrote no notebook",
      source: "",
    });
  }
  for (let i = 0; i < cells.length; i++) {
    const err = cells[i]!.outputs?.find((o) => o.output_type === "error");
    if (err) {
      return failed({
        cell: i,
        ename: err.ename ?? "Error",
        evalue: err.evalue ?? "",
        source: text(cells[i]!.source).slice(0, 400),
      });
    }
  }
  if (!out.success) {
    return failed({ cell: -1, ename: "nbconvert", evalue: `exit code ${out.code}`, source: "" });
  }
  return { notebook, executed, ok: true, seconds, log, ...(retries ? { retries } : {}) };
}

/** One line describing a failed run, naming the notebook and the cell. */
export function describeFailure(run: NotebookRun): string {
  const e = run.error;
  if (!e) return `${run.notebook}: ok`;
  const where = e.cell >= 0 ? `cell ${e.cell + 1}` : "outside any cell";
  return `${run.notebook}: ${where}: ${e.ename}: ${e.evalue}` +
    (e.source ? `\n--- cell source ---\n${e.source}` : "") +
    (e.cell < 0 ? `\n--- nbconvert ---\n${run.log}` : "");
}

// Every copy of plotly.js our outputs carry starts with this tag (lib/plot/html.ts).
const PLOTLY_SCRIPT = /<script[^>]*data-dpo-lab="plotly\.js"[^>]*>[\s\S]*?<\/script>\n?/g;

/**
 * A report page with exactly one plotly.js, in its head, when it has a figure: copies carried by
 * outputs are removed and one is put before `</head>`. The report then draws every figure
 * whichever output carried plotly.js, even when that output never reached the notebook.
 *
 * @example
 * ```ts
 * import { withPlotlyOnce } from "./nbexec.ts";
 * const page = withPlotlyOnce("<html><head></head><body><p>no figures</p></body></html>");
 * console.log(page.includes("plotly")); // false: a page without figures is left alone
 * ```
 */
export function withPlotlyOnce(page: string): string {
  if (!page.includes("data-dpo-lab-figure=")) return page;
  const stripped = page.replace(PLOTLY_SCRIPT, "");
  const at = stripped.search(/<\/head>/i);
  if (at < 0) throw new Error("report page has no </head> to put plotly.js in");
  // Sliced in, not String.replace: plotly.js holds `$&`-like sequences a replacement would expand.
  return stripped.slice(0, at) + plotlyLoaderHtml() + stripped.slice(at);
}

/**
 * Exports an executed notebook to HTML next to it and strips the CDN script tags nbconvert's
 * template adds (require.js and MathJax, from a CDN or from /usr/share on Debian), so the page
 * works offline and on other machines, and plotly.js (inlined once, in the head, by
 * {@link withPlotlyOnce}) does not register itself as an AMD module instead of `window.Plotly`.
 */
export async function exportHtml(executed: string): Promise<string> {
  const out = await new Deno.Command("jupyter", {
    args: ["nbconvert", "--to", "html", executed],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `nbconvert --to html ${executed} failed: ${new TextDecoder().decode(out.stderr).slice(-600)}`,
    );
  }
  const html = executed.replace(/\.ipynb$/, ".html");
  const page = (await Deno.readTextFile(html)).replace(
    /<script[^>]*src="[^"]*(require|mathjax)[^"]*"[^>]*>\s*<\/script>/gi,
    "",
  );
  await Deno.writeTextFile(html, withPlotlyOnce(page));
  return html;
}

/** One figure a notebook displayed, as the library's census file records it. */
export interface CensusEntry {
  figure: number;
  title: string;
  /** `show`, `live` or `value` (a bare cell value). */
  via: string;
}

/** The census of a run against its executed notebook: which figures never arrived. */
export interface FigureCheck {
  /** Every figure the notebook displayed, in order. */
  created: CensusEntry[];
  /** Those with no output carrying the plotly MIME type and their census tag. */
  missing: CensusEntry[];
}

const PLOTLY_MIME = "application/vnd.plotly.v1+json";
const FIGURE_MIME = "application/vnd.dpo-lab.figure+json";

/**
 * Compares the census file a run wrote (env `DPO_LAB_FIGURE_LOG`, see lib/plot/display.ts) with
 * the outputs of the executed notebook: a figure is present when some output carries both its
 * census tag and the plotly JSON. A run that displayed nothing has no census file: nothing
 * created, nothing missing.
 */
export async function checkFigures(executed: string, census: string): Promise<FigureCheck> {
  let text = "";
  try {
    text = await Deno.readTextFile(census);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const created = text.split("\n").filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as CensusEntry;
    } catch {
      throw new Error(`${census}: line ${i + 1} is not JSON: ${l.slice(0, 80)}`);
    }
  });
  const cells = JSON.parse(await Deno.readTextFile(executed)).cells as {
    outputs?: { data?: Record<string, unknown> }[];
  }[];
  const present = new Set<number>();
  for (const c of cells) {
    for (const o of c.outputs ?? []) {
      const tag = o.data?.[FIGURE_MIME] as { figure?: number } | undefined;
      if (tag?.figure !== undefined && o.data?.[PLOTLY_MIME]) present.add(tag.figure);
    }
  }
  return { created, missing: created.filter((f) => !present.has(f.figure)) };
}

/** What a browser drew of a report: figure containers, those plotly drew, and plotly.js. */
export interface DrawnFigures {
  figures: number;
  drawn: number;
  plotlyJs: boolean;
}

/**
 * Opens an HTML report in headless Chromium and counts the figure containers and those plotly
 * drew (marked drawn and holding a plotly plot), from the DOM after scripts ran.
 */
export async function drawnFigures(html: string, chromium: string): Promise<DrawnFigures> {
  const profile = await Deno.makeTempDir({ prefix: "nbexec-chromium-" });
  try {
    const out = await new Deno.Command(chromium, {
      args: [...headlessChromiumArgs(profile, 15000), "--dump-dom", `file://${html}`],
      stdout: "piped",
      stderr: "null",
    }).output();
    const dom = new TextDecoder().decode(out.stdout);
    const divs = dom.match(/<div class="dpo-lab-figure[ "][^>]*>/g) ?? []; // plotly adds classes
    const plots = (dom.match(/class="plot-container plotly"/g) ?? []).length;
    const marked = divs.filter((d) => d.includes('data-dpo-lab-drawn="1"')).length;
    return {
      figures: divs.length,
      drawn: Math.min(marked, plots),
      plotlyJs: (await Deno.readTextFile(html)).includes('data-dpo-lab="plotly.js"'),
    };
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}
