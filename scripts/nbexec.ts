/**
 * Executes notebooks headless through Jupyter (nbconvert + the Deno kernel) and exports them to
 * self-contained HTML. Used by the notebook test and by the main job (`./lab.sh studies`).
 *
 * @module
 */

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
      env: opts.env,
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
  let cells: Cell[] = [];
  try {
    cells = JSON.parse(await Deno.readTextFile(executed)).cells as Cell[];
  } catch {
    return {
      notebook,
      executed,
      ok: false,
      seconds,
      log,
      error: { cell: -1, ename: "NotExecuted", evalue: "nbconvert wrote no notebook", source: "" },
    };
  }
  for (let i = 0; i < cells.length; i++) {
    const err = cells[i]!.outputs?.find((o) => o.output_type === "error");
    if (err) {
      return {
        notebook,
        executed,
        ok: false,
        seconds,
        log,
        error: {
          cell: i,
          ename: err.ename ?? "Error",
          evalue: err.evalue ?? "",
          source: text(cells[i]!.source).slice(0, 400),
        },
      };
    }
  }
  if (!out.success) {
    return {
      notebook,
      executed,
      ok: false,
      seconds,
      log,
      error: { cell: -1, ename: "nbconvert", evalue: `exit code ${out.code}`, source: "" },
    };
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

/**
 * Exports an executed notebook to HTML next to it and strips the CDN script tags nbconvert's
 * template adds (require.js and MathJax, from a CDN or from /usr/share on Debian), so the page
 * works offline and on other machines, and plotly.js (inlined by our
 * figures) does not register itself as an AMD module instead of `window.Plotly`.
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
  await Deno.writeTextFile(html, page);
  return html;
}
