/**
 * Live progress of a training run: step, loss, reward margin, elapsed time and ETA. In a Jupyter
 * notebook (Deno kernel) one output is updated in place (`Deno.jupyter.display` with a
 * `display_id`, throttled); in a terminal a `\r`-updated bar on stderr; when stderr is not a
 * terminal (logs, CI) one line every few seconds. It is a {@link TrainCallback}, independent of
 * any plotting.
 *
 * @module
 */
import type { EndContext, StepContext, TrainCallback } from "./callbacks.ts";

/** Where progress goes. */
export type ProgressMode = "auto" | "jupyter" | "tty" | "lines" | "none";

/** Options of {@link progressCallback}. */
export interface ProgressOptions {
  /** Default `auto`: Jupyter when running in the Deno kernel, else `tty` when stderr is a TTY, else `lines`. */
  mode?: ProgressMode;
  /** Minimum milliseconds between in-place updates (Jupyter and TTY; default 250). */
  minIntervalMs?: number;
  /** Milliseconds between lines in `lines` mode (default 10000). */
  lineIntervalMs?: number;
  /** Shown before the numbers, e.g. the run name. */
  label?: string;
  /** Where `tty`/`lines` output goes (default stderr); for tests. */
  write?: (text: string) => void;
  /** Replaces `Deno.jupyter.display` (for tests). */
  display?: JupyterDisplay;
}

/** The shape of `Deno.jupyter.display`. */
export type JupyterDisplay = (
  bundle: Record<string, string>,
  opts: { raw: boolean; update?: boolean; display_id?: string },
) => Promise<void> | void;

/** One progress snapshot. */
export interface ProgressState {
  step: number;
  totalSteps: number;
  loss?: number;
  margin?: number;
  /** Seconds since this process started training. */
  elapsed: number;
  /** Estimated seconds left (undefined until a step was timed). */
  eta?: number;
}

function jupyterDisplay(): JupyterDisplay | undefined {
  try {
    const j = (Deno as unknown as { jupyter?: { display?: JupyterDisplay } }).jupyter;
    return j?.display?.bind(j);
  } catch {
    // Outside `deno jupyter`, reading Deno.jupyter throws.
    return undefined;
  }
}

function resolveMode(mode: ProgressMode): Exclude<ProgressMode, "auto"> {
  if (mode !== "auto") return mode;
  if (jupyterDisplay()) return "jupyter";
  return Deno.stderr.isTerminal() ? "tty" : "lines";
}

/**
 * Human-readable seconds: `42s`, `3m05s`, `1h02m`.
 *
 * @example
 * ```ts
 * import { formatSeconds } from "./progress.ts";
 * console.log(formatSeconds(185)); // "3m05s"
 * ```
 */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}

function num(x: number | undefined, digits = 4): string {
  return x === undefined ? "-" : Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/**
 * One line of progress text with a bar of `width` characters.
 *
 * @example
 * ```ts
 * import { formatProgress } from "./progress.ts";
 * console.log(formatProgress({ step: 5, totalSteps: 10, loss: 0.5, margin: 0.2, elapsed: 10, eta: 10 }, { width: 10 }));
 * // [#####.....] 5/10 loss 0.5000 margin 0.2000 10s<10s
 * ```
 */
export function formatProgress(
  p: ProgressState,
  opts: { width?: number; label?: string } = {},
): string {
  const w = opts.width ?? 24;
  const frac = p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
  const filled = Math.round(frac * w);
  const bar = `[${"#".repeat(filled)}${".".repeat(w - filled)}]`;
  return `${opts.label ? opts.label + " " : ""}${bar} ${p.step}/${p.totalSteps} loss ${
    num(p.loss)
  } margin ${num(p.margin)} ${formatSeconds(p.elapsed)}<${
    p.eta === undefined ? "?" : formatSeconds(p.eta)
  }`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
}

function html(p: ProgressState, label?: string): string {
  const pct = p.totalSteps > 0 ? Math.min(100, (100 * p.step) / p.totalSteps) : 0;
  return `<div style="font:12px ui-monospace,monospace">${
    label ? `<b>${escapeHtml(label)}</b> ` : ""
  }<progress value="${pct.toFixed(1)}" max="100" style="width:180px;vertical-align:middle">` +
    `</progress> step ${p.step}/${p.totalSteps} · loss ${num(p.loss)} · margin ${num(p.margin)} · ${
      formatSeconds(p.elapsed)
    } elapsed · ETA ${p.eta === undefined ? "?" : formatSeconds(p.eta)}</div>`;
}

let displayCounter = 0;

/**
 * The progress display as a callback; the trainer adds one unless `progress: false`.
 *
 * @example
 * ```ts ignore
 * await train({ ...opts, progress: { mode: "lines", lineIntervalMs: 5000 } });
 * ```
 */
export function progressCallback(opts: ProgressOptions = {}): TrainCallback {
  const mode = resolveMode(opts.mode ?? "auto");
  const minInterval = opts.minIntervalMs ?? 250;
  const lineInterval = opts.lineIntervalMs ?? 10_000;
  const enc = new TextEncoder();
  const write = opts.write ?? ((s: string) => void Deno.stderr.writeSync(enc.encode(s)));
  const display = opts.display ?? jupyterDisplay();
  const displayId = `dpo-lab-progress-${Date.now()}-${displayCounter++}`;
  let t0 = 0, startStep = 0, last = -Infinity, shown = false, lastLen = 0;
  let state: ProgressState = { step: 0, totalSteps: 0, elapsed: 0 };

  async function show(final: boolean) {
    const text = formatProgress(state, { label: opts.label });
    if (mode === "jupyter" && display) {
      await display({ "text/plain": text, "text/html": html(state, opts.label) }, {
        raw: true,
        update: shown,
        display_id: displayId,
      });
      shown = true;
    } else if (mode === "tty") {
      write(`\r${text.padEnd(lastLen)}${final ? "\n" : ""}`);
      lastLen = text.length;
    } else if (mode === "lines") {
      write(text + "\n");
    }
  }

  function snapshot(ctx: StepContext | EndContext, loss?: number, margin?: number) {
    const elapsed = (performance.now() - t0) / 1000;
    const done = ctx.step - startStep;
    const eta = done > 0 ? (elapsed / done) * (ctx.totalSteps - ctx.step) : undefined;
    state = { step: ctx.step, totalSteps: ctx.totalSteps, loss, margin, elapsed, eta };
  }

  return {
    name: "progress",
    onTrainBegin(ctx) {
      t0 = performance.now();
      startStep = ctx.step;
      state = { step: ctx.step, totalSteps: ctx.totalSteps, elapsed: 0 };
    },
    async onStepEnd(ctx) {
      if (mode === "none") return;
      snapshot(ctx, ctx.metrics.loss, ctx.metrics["rewards/margins"]);
      const now = performance.now();
      const interval = mode === "lines" ? lineInterval : minInterval;
      if (now - last >= interval) {
        last = now;
        await show(false);
      }
    },
    async onTrainEnd(ctx) {
      if (mode === "none") return;
      snapshot(ctx, state.loss, state.margin);
      state.eta = 0;
      await show(true);
    },
  };
}

/** A step record as {@link recordsCallback} collects it: step, epoch, lr and the core metrics. */
export type CollectedRecord = { step: number; epoch: number; lr: number } & Record<string, number>;

/**
 * Hand the run's records so far to a function every `every` steps and at the end — e.g. to
 * update a live reward-curve figure in a notebook (kept apart from the text progress, so the
 * trainer needs no plotting code).
 *
 * @example
 * ```ts ignore
 * const live = liveFigure(rewardCurves([]));
 * await train({ ...opts, callbacks: [recordsCallback((r) => live.update(rewardCurves(r)), { every: 5 })] });
 * await live.flush();
 * ```
 */
export function recordsCallback(
  fn: (records: readonly CollectedRecord[]) => void | Promise<void>,
  opts: { every?: number } = {},
): TrainCallback {
  const every = opts.every ?? 1;
  if (!(Number.isInteger(every) && every > 0)) {
    throw new RangeError(`recordsCallback every must be a positive integer, got ${every}`);
  }
  const records: CollectedRecord[] = [];
  let sent = 0;
  return {
    name: "records",
    async onStepEnd(ctx) {
      records.push({ ...ctx.metrics, step: ctx.step, epoch: ctx.epoch, lr: ctx.lr });
      if (ctx.step % every === 0) {
        sent = records.length;
        await fn(records);
      }
    },
    async onTrainEnd() {
      if (sent !== records.length) await fn(records);
    },
  };
}
