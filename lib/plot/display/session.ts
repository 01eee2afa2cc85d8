/**
 * The display state of one kernel session, shared by every copy of the plot module: whether
 * plotly.js has been sent, and the figure census (each displayed figure's number, optionally
 * logged to a file so tests can check that every figure reached the notebook).
 *
 * @module
 */
import { plainText } from "../text.ts";
import type { Figure } from "../types.ts";

/**
 * Environment variable naming a file to which every figure a notebook displays is appended as a
 * JSON line `{ figure, title, via }` (the census), written before the figure is sent, so a test
 * can check that each one reached the executed notebook.
 */
export const FIGURE_LOG_ENV = "DPO_LAB_FIGURE_LOG";

/** What the kernel session has displayed so far. */
export interface Session {
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

/**
 * This kernel session's display state (created on first use).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { session } from "./session.ts";
 * assert.equal(session(), session());
 * ```
 */
export function session(): Session {
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
 * import { resetPlotlySession } from "./session.ts";
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
 * import { noteFigure } from "./session.ts";
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
