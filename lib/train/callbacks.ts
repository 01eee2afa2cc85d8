/**
 * Callbacks ("trackers"): how code outside the trainer observes a run and adds metrics to its
 * record.
 *
 * A tracker is a plain object with a unique {@link TrainCallback.name} and any of the hooks
 * below. The trainer calls the hooks in the order the callbacks were given, awaits each one, and
 * merges what it returns into the record being written:
 *
 * - {@link TrainCallback.onTrainBegin} before the first step (after a resume: before the first
 *   new step). Metrics returned on a fresh run form a `step: 0` line of `steps.jsonl`, so a
 *   tracker can record the initial state (e.g. initial log-probs).
 * - {@link TrainCallback.onStepEnd} after every optimizer step (after the update): metrics
 *   returned are merged into that step's line of `steps.jsonl`.
 * - {@link TrainCallback.onEvalEnd} after each evaluation: merged into that line of
 *   `evals.jsonl`.
 * - {@link TrainCallback.onTrainEnd} once at the end: merged into `summary.json`.
 *
 * **How to add metrics.** Return a flat `{ [key]: number }` object (or nothing). Keys must carry
 * the tracker's prefix, e.g. `mass/chosen`, `displacement/mean_drop`, `grad/inner_wl`,
 * `ches/mean`; the trainer throws a `RangeError` naming the callback when a key collides with a
 * core metric (`loss`, `lr`, `grad_norm`, `rewards/*`, `logps/*`, `step`, `epoch`, ...) or with a
 * key another callback returned in the same record. Non-finite values are written as `null`.
 * Per-pair or per-prompt rows (too many for one line) go to a JSONL file of the run directory
 * through {@link RunRows.append}: `ctx.rows.append("mass", rows)` appends to `mass.jsonl`;
 * every row gets the current `step` added, which is how a resumed run drops rows written after
 * its last checkpoint.
 *
 * **Tensors.** Hooks may run tfjs ops; wrap them in `tf.tidy` (or dispose what they create) so
 * the tensor count stays flat across steps — the trainer tests this. The scores in the context
 * are plain numbers, already read back from the device.
 *
 * **State.** A tracker that keeps state across steps (e.g. initial log-probs) implements
 * {@link TrainCallback.saveState} / {@link TrainCallback.loadState}: the state is stored in each
 * checkpoint, so a resumed run gives the same records as an uninterrupted one.
 *
 * **Cost.** Hooks run every step unless the tracker checks `ctx.step` itself; a tracker that does
 * extra forward passes should take an `every` option and return nothing on other steps.
 *
 * @example A tracker that logs the mean chosen-minus-rejected log-prob gap every 10 steps
 * ```ts
 * import type { TrainCallback } from "./callbacks.ts";
 * const gap: TrainCallback = {
 *   name: "gap",
 *   onStepEnd(ctx) {
 *     if (ctx.step % 10 !== 0) return;
 *     const p = ctx.pairs;
 *     const d = p.policyChosen.map((c, i) => c - p.policyRejected[i]);
 *     return { "gap/mean": d.reduce((a, b) => a + b, 0) / d.length };
 *   },
 * };
 * ```
 *
 * @module
 */
import type { Metrics, PairValues, TrainObjective } from "./types.ts";
import type { PreferenceScorer, TrainData } from "../core/scores.ts";

/** Appends rows to `<name>.jsonl` in the run directory (a no-op when the run has no directory). */
export interface RunRows {
  /**
   * Append rows to `<file>.jsonl`; `step` is added to every row. `file` is a plain name
   * (letters, digits, `_`, `-`), e.g. `"examples"` or `"mass"`.
   */
  append(file: string, rows: Record<string, unknown>[]): void;
}

/** What every hook sees. */
export interface RunContext<B = unknown> {
  /** Optimizer steps completed so far (0 before the first step). */
  step: number;
  /** Total optimizer steps of the run. */
  totalSteps: number;
  /** Fractional epoch: epochs completed plus the fraction of the current epoch done. */
  epoch: number;
  /** The model being trained (call `policy.scores`/`policy.logps` under `tf.tidy`). */
  policy: PreferenceScorer<B, unknown>;
  /** The objective being optimized. */
  objective: TrainObjective;
  /** `β` used for implicit rewards: `objective.params.beta`, else 1. */
  beta: number;
  /** The training data (positions `0..size-1`). */
  data: TrainData<B>;
  /** Run directory, when the run writes one. */
  runDir?: string;
  /** Per-pair / per-prompt rows for JSONL files of the run. */
  rows: RunRows;
}

/** Context of {@link TrainCallback.onTrainBegin}. */
export interface BeginContext<B = unknown> extends RunContext<B> {
  /** True when the run continues from a checkpoint (callback state was restored first). */
  resumed: boolean;
}

/** Context of {@link TrainCallback.onStepEnd}. */
export interface StepContext<B = unknown> extends RunContext<B> {
  /** Learning rate used for this step's update. */
  lr: number;
  /**
   * The core record of this step so far: `loss`, `grad_norm`, `rewards/*`, `logps/*` (means over
   * every pair of the accumulation window).
   */
  metrics: Readonly<Metrics>;
  /** Per-pair values of every pair of this step's accumulation window (pre-update scores). */
  pairs: Readonly<PairValues>;
  /** The micro-batches of this step, in the order they were processed. */
  batches: readonly B[];
  /** Wall-clock seconds of this step (forward, backward, update; trackers excluded). */
  stepSeconds: number;
}

/** Context of {@link TrainCallback.onEvalEnd}. */
export interface EvalContext<B = unknown> extends RunContext<B> {
  /** Eval metrics so far, TRL names without the `eval_` prefix (`loss`, `rewards/chosen`...). */
  metrics: Readonly<Metrics>;
  /** Per-pair values over the eval split. */
  pairs: Readonly<PairValues>;
  /** The eval data. */
  evalData: TrainData<B>;
}

/** Context of {@link TrainCallback.onTrainEnd}. */
export interface EndContext<B = unknown> extends RunContext<B> {
  /** Summary so far (`train_runtime`, `train_loss`, ...). */
  summary: Readonly<Metrics>;
}

/** What a hook may return: metrics to merge, or nothing. */
export type HookResult = Metrics | void | undefined;

const DEFERRED: unique symbol = Symbol("dpo-lab deferred metrics");

/**
 * Metrics of an `onStepEnd` hook that are still being computed (e.g. on another thread) while
 * the next steps run: {@link deferMetrics}.
 */
export interface DeferredMetrics {
  readonly [DEFERRED]: Promise<HookResult>;
}

/**
 * Let `onStepEnd` return before its metrics are ready. The trainer goes on with the next step,
 * merges the metrics into the step's record once `metrics` settles, and writes records in step
 * order (a record waits for its deferred metrics; later ones wait behind it). Before a checkpoint
 * and before `onTrainEnd` it waits for all of them. The hook must take what it needs from the
 * policy before it returns, because the next step changes the weights; rows it appends through
 * its context keep that context's step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deferMetrics, settleDeferred } from "./callbacks.ts";
 * const d = deferMetrics(Promise.resolve({ "late/x": 1 }));
 * assert.deepEqual(await settleDeferred(d), { "late/x": 1 });
 * ```
 */
export function deferMetrics(metrics: Promise<HookResult>): DeferredMetrics {
  // Kept from being reported as unhandled while it waits; the trainer still sees a rejection.
  metrics.catch(() => {});
  return { [DEFERRED]: metrics };
}

/**
 * True for what {@link deferMetrics} returned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deferMetrics, isDeferred } from "./callbacks.ts";
 * assert.equal(isDeferred(deferMetrics(Promise.resolve(undefined))), true);
 * assert.equal(isDeferred({ "a/b": 1 }), false);
 * ```
 */
export function isDeferred(x: unknown): x is DeferredMetrics {
  return typeof x === "object" && x !== null && DEFERRED in x;
}

/**
 * The metrics a {@link DeferredMetrics} settles to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deferMetrics, settleDeferred } from "./callbacks.ts";
 * assert.equal(await settleDeferred(deferMetrics(Promise.resolve(undefined))), undefined);
 * ```
 */
export function settleDeferred(d: DeferredMetrics): Promise<HookResult> {
  return d[DEFERRED];
}

/**
 * A training callback / tracker. Every hook is optional and may be async; see the module
 * documentation for how returned metrics are merged and named.
 *
 * @typeParam B the batch type of the run (most trackers work for any)
 */
export interface TrainCallback<B = unknown> {
  /** Unique name: keys the tracker's state in checkpoints and names it in errors. */
  readonly name: string;
  onTrainBegin?(ctx: BeginContext<B>): HookResult | Promise<HookResult>;
  /** May return {@link deferMetrics} to finish its metrics while the next steps run. */
  onStepEnd?(
    ctx: StepContext<B>,
  ): HookResult | DeferredMetrics | Promise<HookResult | DeferredMetrics>;
  onEvalEnd?(ctx: EvalContext<B>): HookResult | Promise<HookResult>;
  onTrainEnd?(ctx: EndContext<B>): HookResult | Promise<HookResult>;
  /** JSON-serialisable state stored in checkpoints. */
  saveState?(): unknown;
  /** Restore what {@link TrainCallback.saveState} returned (called before `onTrainBegin`). */
  loadState?(state: unknown): void;
}

/** Keys the trainer writes itself; a callback returning one of them is an error. */
export const CORE_KEYS: ReadonlySet<string> = new Set([
  "step",
  "epoch",
  "lr",
  "loss",
  "grad_norm",
  "time_s",
  "step_time_s",
  "pairs",
  "kl",
]);

/** Prefixes reserved for the trainer's own metrics. */
export const CORE_PREFIXES: readonly string[] = ["rewards/", "logps/", "eval_"];

/**
 * Merge a callback's metrics into a record, refusing core keys and keys already present.
 *
 * @example
 * ```ts
 * import { mergeMetrics } from "./callbacks.ts";
 * const rec: Record<string, unknown> = { step: 1, loss: 0.69 };
 * mergeMetrics(rec, { "mass/chosen": -1.2 }, "mass");
 * console.log(rec["mass/chosen"]); // -1.2
 * ```
 */
export function mergeMetrics(
  record: Record<string, unknown>,
  metrics: HookResult,
  callbackName: string,
): void {
  if (!metrics) return;
  if (typeof metrics !== "object") {
    throw new TypeError(`callback '${callbackName}' returned ${typeof metrics}, expected metrics`);
  }
  for (const [k, v] of Object.entries(metrics)) {
    if (CORE_KEYS.has(k) || CORE_PREFIXES.some((p) => k.startsWith(p))) {
      throw new RangeError(`callback '${callbackName}' returned core metric key '${k}'`);
    }
    if (k in record) {
      throw new RangeError(`callback '${callbackName}' returned key '${k}' already in the record`);
    }
    if (typeof v !== "number") {
      throw new TypeError(`callback '${callbackName}' metric '${k}' is ${typeof v}, not a number`);
    }
    record[k] = v;
  }
}
