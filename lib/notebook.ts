/**
 * Small helpers for study notebooks: smoke mode, and the backend header every notebook shows.
 *
 * @module
 */
import {
  type BackendReport,
  formatBackendReport,
  initBackend,
  type InitBackendOptions,
} from "./backend.ts";

/** The environment variable that puts notebooks in smoke mode (CI): `DPO_LAB_SMOKE=1`. */
export const SMOKE_ENV = "DPO_LAB_SMOKE";

/**
 * True when notebooks should cut their work for CI (`DPO_LAB_SMOKE` set to anything but "0" or
 * empty).
 *
 * @example
 * ```ts
 * import { isSmoke } from "./notebook.ts";
 * const steps = isSmoke() ? 5 : 200;
 * ```
 */
export function isSmoke(): boolean {
  const v = Deno.env.get(SMOKE_ENV);
  return v !== undefined && v !== "" && v !== "0";
}

/**
 * `full` normally, `smoke` in smoke mode.
 *
 * @example
 * ```ts
 * import { bySmoke } from "./notebook.ts";
 * const steps = bySmoke(200, 5);
 * ```
 */
export function bySmoke<T>(full: T, smoke: T): T {
  return isSmoke() ? smoke : full;
}

/**
 * Sends a MIME bundle to the Jupyter frontend; false when not running in a Jupyter kernel (the
 * `Deno.jupyter` namespace throws on access outside `deno jupyter`).
 */
async function displayInJupyter(bundle: Record<string, string>): Promise<boolean> {
  try {
    // Outside `deno jupyter`, merely reading Deno.jupyter throws.
    const j = (Deno as unknown as {
      jupyter: { display(b: Record<string, string>, o: { raw: boolean }): Promise<void> };
    }).jupyter;
    await j.display(bundle, { raw: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the backend and shows the report as the notebook's header (plain text outside Jupyter).
 *
 * @example
 * ```ts
 * import { setupNotebook } from "./notebook.ts";
 * const report = await setupNotebook({ backend: "cpu" });
 * ```
 */
export async function setupNotebook(opts: InitBackendOptions = {}): Promise<BackendReport> {
  const r = await initBackend(opts);
  const line = formatBackendReport(r) + (isSmoke() ? " [smoke mode]" : "");
  const kind = r.hardware ? "hardware" : r.softwareFallback ? "software fallback" : "CPU";
  const html = `<div style="font:13px system-ui;padding:6px 10px;border-left:4px solid #0072B2;` +
    `background:#f4f8fb"><b>backend</b> ${r.name} · ${escape(r.adapter)} · <i>${kind}</i>` +
    `${isSmoke() ? " · <b>smoke mode</b>" : ""}<br><span style="color:#555">${escape(r.reason)}; ` +
    `tfjs ${r.versions.tfjs}, deno ${r.versions.deno}, ${escape(r.host)}</span></div>`;
  if (!(await displayInJupyter({ "text/plain": line, "text/html": html }))) console.log(line);
  return r;
}

function escape(s: string): string {
  return s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
}
