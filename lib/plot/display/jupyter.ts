/**
 * The Deno Jupyter kernel's `display`, wrapped so a large output is on the wire before the cell
 * can finish.
 *
 * @module
 */

/** `Deno.jupyter.display`'s signature. */
export type DisplayFn = (
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
 * import { sendWaitMs } from "./jupyter.ts";
 * console.log(sendWaitMs(5e6)); // 2500: the 5 MB plotly.js output
 * ```
 */
export function sendWaitMs(bytes: number): number {
  return bytes < 1e6 ? 50 + Math.ceil(bytes / 1e5) * 40 : 500 + Math.ceil(bytes / 1e6) * 400;
}

/**
 * `Deno.jupyter.display` when running in the Deno Jupyter kernel, else undefined; each call
 * waits {@link sendWaitMs} after handing the output over.
 *
 * @example
 * ```ts
 * import { jupyterDisplay } from "./jupyter.ts";
 * console.log(jupyterDisplay() === undefined); // true outside `deno jupyter`
 * ```
 */
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
