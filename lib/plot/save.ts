/**
 * Writing figures to files for write-ups: self-contained HTML and SVG with no browser, PNG by
 * screenshotting the HTML in headless Chromium (Debian's `chromium` package).
 *
 * @module
 */
import { figurePageHtml } from "./html.ts";
import { figureToSvg } from "./svg.ts";
import type { Figure } from "./types.ts";
import { prepareOutput, writeOutput } from "../output.ts";

/** File formats {@link save} writes. */
export type SaveFormat = "html" | "svg" | "png";

/** Options for {@link save}. */
export interface SaveFigureOptions {
  /** Default: from the file extension. */
  format?: SaveFormat;
  /** Size in CSS px; default the layout's, else 720 x 440. */
  width?: number;
  height?: number;
  /** PNG pixel density (device scale factor); default 2 for sharp images in documents. */
  scale?: number;
  /** Chromium executable for PNG; default `chromium` (or `chromium-browser`) on PATH. */
  chromium?: string;
  /** Give up on Chromium after this many ms; default 60000. */
  timeoutMs?: number;
  /** Replace an existing file at the path (default false: refused before any rendering). */
  force?: boolean;
}

const INSTALL_HINT = "install it with `bash scripts/install_chromium.sh` as root " +
  "(or `sudo apt-get install chromium`)";

/**
 * Path of a Chromium executable on PATH (`chromium`, then `chromium-browser`), or undefined.
 *
 * @example
 * ```ts
 * import { findChromium } from "./save.ts";
 * console.log(findChromium() ?? "no chromium: PNG export unavailable");
 * ```
 */
export function findChromium(): string | undefined {
  const dirs = (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":").filter(Boolean);
  for (const name of ["chromium", "chromium-browser"]) {
    for (const dir of dirs) {
      const p = `${dir}/${name}`;
      try {
        if (Deno.statSync(p).isFile) return p;
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
}

/**
 * The flags every headless Chromium run of the project shares (figure PNGs, report checks,
 * browser tests): no sandbox, GPU or background network work, a throw-away profile, and a
 * virtual-time budget so plotly's deferred drawing finishes before the DOM dump or screenshot.
 *
 * @example
 * ```ts
 * import { headlessChromiumArgs } from "./save.ts";
 * const args = headlessChromiumArgs("/tmp/profile", 2000, { hideScrollbars: true });
 * if (!args.includes("--virtual-time-budget=2000") || !args.includes("--hide-scrollbars")) {
 *   throw new Error("missing flag");
 * }
 * ```
 */
export function headlessChromiumArgs(
  profile: string,
  virtualTimeMs: number,
  opts: { hideScrollbars?: boolean } = {},
): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    ...(opts.hideScrollbars ? ["--hide-scrollbars"] : []),
    `--user-data-dir=${profile}`,
    `--virtual-time-budget=${virtualTimeMs}`,
  ];
}

function formatOf(path: string, format: SaveFormat | undefined): SaveFormat {
  if (format) {
    if (!["html", "svg", "png"].includes(format)) {
      throw new TypeError(`save: format must be "html", "svg" or "png", got "${format}"`);
    }
    return format;
  }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext === "html" || ext === "htm") return "html";
  if (ext === "svg" || ext === "png") return ext;
  throw new TypeError(
    `save: cannot tell the format of "${path}" (use .html, .svg or .png, or pass { format })`,
  );
}

function sized(fig: Figure, width: number, height: number): Figure {
  return { ...fig, layout: { ...fig.layout, width, height, autosize: false } };
}

/**
 * Render a figure to PNG bytes with headless Chromium: screenshot of its self-contained HTML page.
 * Throws an Error naming the install command when Chromium is missing.
 *
 * @example
 * ```ts
 * import { renderPng } from "./save.ts";
 * import { findChromium } from "./save.ts";
 * if (findChromium()) {
 *   const png = await renderPng({ data: [{ type: "bar", x: ["a", "b"], y: [1, 2] }], layout: {}, config: {} });
 *   console.log(png[1] === 0x50); // true
 * }
 * ```
 */
export async function renderPng(fig: Figure, opts: SaveFigureOptions = {}): Promise<Uint8Array> {
  const exe = opts.chromium ?? findChromium();
  if (!exe) {
    throw new Error(
      `save: PNG export needs headless Chromium, which is not on PATH; ${INSTALL_HINT}`,
    );
  }
  const width = Math.round(opts.width ?? (fig.layout?.width as number | undefined) ?? 720);
  const height = Math.round(opts.height ?? (fig.layout?.height as number | undefined) ?? 440);
  const scale = opts.scale ?? 2;
  if (!(width > 0 && height > 0 && scale > 0)) {
    throw new RangeError(
      `save: width, height and scale must be positive, got ${width}, ${height}, ${scale}`,
    );
  }
  const page = sized(
    { ...fig, config: { ...fig.config, staticPlot: true, displayModeBar: false } },
    width,
    height,
  );
  const dir = await Deno.makeTempDir({ prefix: "dpo-lab-png-" });
  try {
    const htmlPath = `${dir}/figure.html`;
    const shot = `${dir}/figure.png`;
    await Deno.writeTextFile(htmlPath, figurePageHtml(page, { bare: true }));
    const signal = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(exe, {
        args: [
          // The virtual-time budget lets plotly's deferred work finish before the shot; it is
          // virtual time, so it is not slow.
          ...headlessChromiumArgs(`${dir}/profile`, 3000, { hideScrollbars: true }),
          `--window-size=${width},${height}`,
          `--force-device-scale-factor=${scale}`,
          `--screenshot=${shot}`,
          `file://${htmlPath}`,
        ],
        stdout: "piped",
        stderr: "piped",
        signal,
      }).output();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new Error(`save: Chromium executable "${exe}" not found; ${INSTALL_HINT}`);
      }
      throw err;
    }
    let png: Uint8Array;
    try {
      png = await Deno.readFile(shot);
    } catch {
      const tail = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
      throw new Error(
        `save: Chromium (${exe}) wrote no screenshot, exit code ${out.code}:\n${tail}`,
      );
    }
    return png;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Write a figure to `path` as self-contained HTML (plotly.js inlined, works offline), SVG (the
 * static renderer), or PNG (headless Chromium). The format comes from the extension unless
 * `format` is given. An existing file is refused (before rendering) unless `force`; missing
 * folders are created, and the file is written atomically.
 *
 * @example
 * ```ts
 * import { save } from "./save.ts";
 * const fig = { data: [{ type: "scatter" as const, x: [0, 1], y: [1, 0] }], layout: {}, config: {} };
 * const dir = await Deno.makeTempDir();
 * await save(fig, `${dir}/fig.svg`);
 * await save(fig, `${dir}/fig.html`);
 * ```
 */
export async function save(
  fig: Figure,
  path: string | URL,
  opts: SaveFigureOptions = {},
): Promise<void> {
  const p = path instanceof URL ? path.pathname : path;
  const format = formatOf(p, opts.format);
  // Refused before rendering when the file exists; written atomically, parent folders created.
  await prepareOutput(p, { force: opts.force });
  if (format === "png") {
    await writeOutput(p, await renderPng(fig, opts), { force: opts.force });
    return;
  }
  const f = opts.width || opts.height
    ? sized(fig, opts.width ?? fig.layout?.width ?? 720, opts.height ?? fig.layout?.height ?? 440)
    : fig;
  const text = format === "svg"
    ? `<?xml version="1.0" encoding="UTF-8"?>\n${figureToSvg(f)}\n`
    : figurePageHtml(f);
  await writeOutput(p, text, { force: opts.force });
}
