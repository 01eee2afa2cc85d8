/**
 * The scoring trackers on a second thread: a Deno worker holding a replica of the causal LM runs
 * the library's probability-mass, displacement and gradient-alignment trackers on a copy of the
 * weights of each measured step, while the main thread goes on training. On the single-threaded
 * `wasm` and `cpu` backends the measurements then cost the training thread only the copy of the
 * weights; their metrics reach the step's record through {@link deferMetrics}, their rows keep
 * the step, and the values are the in-process trackers' (same code, same weights, same backend).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { PreferenceBatch, TokenizedPair } from "../data/types.ts";
import type { CausalLM } from "../models/types.ts";
import {
  type BeginContext,
  deferMetrics,
  type HookResult,
  type RunContext,
  type TrainCallback,
} from "../train/callbacks.ts";
import { preferenceData } from "../train/train_data.ts";
import { type WorkerChannel, workerChannel } from "../scoring/worker_channel.ts";

/** Which trackers run on the thread, with their options (all plain data). */
export interface ThreadTrackerSettings {
  /** {@link probabilityMassTracker} options (no probes on the thread). */
  mass?: { positions?: number[]; batchSize?: number; file?: string | false };
  /** {@link displacementTracker} options (no `good` sets on the thread). */
  displacement?: { positions?: number[]; batchSize?: number; file?: string | false };
  /** {@link gradientAlignmentTracker} options; one-row sides unless `sides: false`. */
  gradient?: { positions?: number[]; file?: string | false; sides?: boolean };
}

/** Options of {@link trackerThread}. */
export interface TrackerThreadOptions extends ThreadTrackerSettings {
  /** The policy's model: its variables are copied at each measured step. */
  model: CausalLM;
  /** The training pairs: data position p must be `pairs[p]`, as in `preferenceData(pairs, ...)`. */
  pairs: readonly TokenizedPair[];
  /** The data's padding id (and fixed row length, if any), as given to `preferenceData`. */
  padId: number;
  length?: number;
  /** Measure every this many steps (default 10); step 0 and the last step always. */
  every?: number;
  /** Callback name (default `tracker_thread`). */
  name?: string;
}

interface Reply {
  cmd: string;
  message?: string;
  stack?: string;
  metrics?: Record<string, number>;
  rows?: { file: string; rows: Record<string, unknown>[] }[];
  states?: Record<string, unknown>;
}

/** Idle time after which the worker stops (it restarts, with the trackers' state, when needed). */
export const TRACKER_THREAD_IDLE_MS = 10_000;

/**
 * The mass, displacement and gradient-alignment trackers as one callback whose measurements run
 * on a worker thread (causal LMs on `wasm` or `cpu`; other backends are refused). Each measured
 * step copies the weights (a few ms for the shipped model) and returns; the trainer merges the
 * metrics into that step's record when they arrive and waits for them before checkpoints and at
 * the end. Metric names, rows and checkpointed state are those of the in-process trackers.
 *
 * @example
 * ```ts ignore
 * const pairs = ...; // TokenizedPair[]
 * await train({
 *   policy: lmScorer(model), data: preferenceData(pairs, { padId: 0 }), objective: dpo(),
 *   optimizer: { name: "adamw" }, lr: 1e-5, batchSize: 4, maxSteps: 100,
 *   callbacks: [trackerThread({ model, pairs, padId: 0, mass: {}, displacement: {}, gradient: {} })],
 * });
 * ```
 */
export function trackerThread(opts: TrackerThreadOptions): TrainCallback<PreferenceBatch> {
  const every = opts.every ?? 10;
  if (!(Number.isInteger(every) && every > 0)) {
    throw new RangeError(`trackerThread every must be a positive integer, got ${every}`);
  }
  if (!opts.mass && !opts.displacement && !opts.gradient) {
    throw new RangeError("trackerThread: name at least one of mass, displacement, gradient");
  }
  const t = new ThreadHost(opts);
  return {
    name: opts.name ?? "tracker_thread",
    async onTrainBegin(ctx) {
      t.start(ctx);
      return await t.measure(ctx, "begin");
    },
    onStepEnd(ctx) {
      if (ctx.step % every !== 0 && ctx.step !== ctx.totalSteps) return;
      return deferMetrics(t.measure(ctx, "step"));
    },
    onTrainEnd: () => t.stop(),
    saveState: () => t.states,
    loadState(state) {
      t.states = (state ?? {}) as Record<string, unknown>;
    },
  };
}

/** The worker, its request queue and the trackers' latest state. */
class ThreadHost {
  states: Record<string, unknown> = {};
  #init?: Record<string, unknown>;
  #worker?: { worker: Worker; channel: WorkerChannel<Reply>; ready: Promise<unknown> };
  #queue: Promise<unknown> = Promise.resolve();
  #idle?: ReturnType<typeof setTimeout>;

  constructor(readonly opts: TrackerThreadOptions) {}

  /** Check the backend and the data, and fix what every (re)started worker is told. */
  start(ctx: BeginContext<PreferenceBatch>): void {
    const backend = tf.getBackend();
    if (backend !== "wasm" && backend !== "cpu") {
      throw new RangeError(`trackerThread: backend ${backend}; the thread runs on wasm or cpu`);
    }
    const { model, pairs, padId, length, mass, displacement, gradient } = this.opts;
    checkData(ctx, pairs, padId, length, [mass, displacement, gradient]);
    this.#init = {
      cmd: "init",
      backend,
      kind: model.kind,
      config: { ...model.config },
      pairs,
      padId,
      length,
      objective: { name: ctx.objective.name, params: ctx.objective.params },
      beta: ctx.beta,
      trackers: { mass, displacement, gradient },
    };
  }

  /** Copy the weights now; measure on the worker after the requests before this one. */
  measure(ctx: RunContext<PreferenceBatch>, phase: "begin" | "step"): Promise<HookResult> {
    const weights = this.opts.model.variables().map((v) => (v.dataSync() as Float32Array).slice());
    const msg = {
      cmd: "measure",
      phase,
      step: ctx.step,
      totalSteps: ctx.totalSteps,
      epoch: ctx.epoch,
      resumed: (ctx as BeginContext).resumed === true,
      weights,
    };
    const run = this.#queue.then(async () => {
      const w = this.#live();
      await w.ready;
      clearTimeout(this.#idle);
      const reply = await w.channel.request(msg);
      this.#idle = setTimeout(() => this.#release(), TRACKER_THREAD_IDLE_MS);
      this.states = reply.states ?? {};
      for (const r of reply.rows ?? []) ctx.rows.append(r.file, r.rows);
      return reply.metrics;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Wait for the requests in flight and stop the worker. */
  async stop(): Promise<void> {
    await this.#queue;
    this.#release();
  }

  #live() {
    if (this.#worker) return this.#worker;
    if (!this.#init) throw new Error("trackerThread: measured before onTrainBegin");
    const worker = new Worker(new URL("./tracker_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const channel = workerChannel<Reply>(worker, "tracker thread");
    const ready = channel.request({ ...this.#init, states: this.states });
    ready.catch(() => this.#release());
    this.#worker = { worker, channel, ready };
    return this.#worker;
  }

  #release(): void {
    clearTimeout(this.#idle);
    const w = this.#worker;
    this.#worker = undefined;
    w?.worker.terminate();
    w?.channel.abandon("tracker thread stopped");
  }
}

/** Refuse a run whose data at the tracked positions is not `pairs` collated as given. */
function checkData(
  ctx: RunContext<PreferenceBatch>,
  pairs: readonly TokenizedPair[],
  padId: number,
  length: number | undefined,
  settings: ({ positions?: number[] } | undefined)[],
): void {
  if (ctx.data.size !== pairs.length) {
    throw new RangeError(
      `trackerThread: the training data has ${ctx.data.size} pairs, 'pairs' ${pairs.length}`,
    );
  }
  const mine = preferenceData(pairs, { padId, length });
  const positions = new Set(settings.flatMap((s) => s?.positions ?? []));
  for (const p of positions) {
    const a = ctx.data.batch([p]).inputIds, b = mine.batch([p]).inputIds;
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      throw new RangeError(
        `trackerThread: data position ${p} is not pairs[${p}] (padId ${padId}); give the pairs ` +
          `the training data was built from`,
      );
    }
  }
}
