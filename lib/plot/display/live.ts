/**
 * Live figures: shown once, then replaced in place while a cell runs (training curves while
 * training), at most one update per interval, never resending plotly.js.
 *
 * @module
 */
import { plotlyLoaderHtml } from "../html.ts";
import type { Figure } from "../types.ts";
import { mimeBundle } from "./bundle.ts";
import { type DisplayFn, jupyterDisplay } from "./jupyter.ts";
import { noteFigure, session } from "./session.ts";
import { summarize } from "./summary.ts";

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

/** The sending side of a live figure: one queue of sends, the newest pending figure, a timer. */
class LiveSender {
  chain: Promise<void> = Promise.resolve();
  last = -Infinity;
  pending: Figure | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  figureId = 0;

  constructor(readonly display: DisplayFn | undefined, readonly displayId: string) {}

  // A failed send must not reject into an un-awaited update() and kill the kernel.
  enqueue(fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(fn).catch((err) =>
      console.error("liveFigure: display failed:", err)
    );
    return this.chain;
  }

  /** Send the pending figure, if any, as an update of the output. */
  send(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const fig = this.pending;
    this.pending = undefined;
    const display = this.display;
    if (!fig || !display) return this.chain;
    this.last = performance.now();
    const bundle = mimeBundle(fig, { plotly: "omit", figureId: this.figureId });
    return this.enqueue(() =>
      display(bundle, { raw: true, update: true, display_id: this.displayId })
    );
  }

  /** Show the first figure (after plotly.js in an output of its own, once per session). */
  open(initial: Figure, display: DisplayFn): void {
    this.figureId = noteFigure(initial, "live");
    const s = session();
    if (!s.plotlySent) {
      // plotly.js goes into an output of its own: the live output is replaced on every update,
      // and would take plotly.js with it.
      const loader = { "text/html": plotlyLoaderHtml(), "text/plain": "" };
      this.enqueue(async () => {
        await display(loader, { raw: true });
        s.plotlySent = true;
      });
    }
    const bundle = mimeBundle(initial, { plotly: "omit", figureId: this.figureId });
    this.enqueue(() => display(bundle, { raw: true, display_id: this.displayId }));
    this.last = performance.now();
  }
}

/**
 * Show a figure that a long-running cell can update in place (training curves while training).
 * Updates carry the plotly JSON, SVG and a small HTML snippet, never plotly.js again. Outside a
 * Jupyter kernel, nothing is shown until `flush()`, which prints the final figure's summary.
 *
 * @example
 * ```ts
 * import { liveFigure } from "./live.ts";
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
  const out = new LiveSender(display, displayId);
  let current = initial;
  if (display) out.open(initial, display);
  return {
    displayId,
    get figure() {
      return current;
    },
    update(fig: Figure): Promise<void> {
      current = fig;
      out.pending = fig;
      if (!display) return out.chain;
      const wait = out.last + minInterval - performance.now();
      if (wait <= 0) return out.send();
      out.timer ??= setTimeout(() => out.send(), wait);
      return out.chain;
    },
    flush(): Promise<void> {
      if (!display) {
        console.log(summarize(current));
        out.pending = undefined;
        return out.chain;
      }
      return out.send();
    },
  };
}
