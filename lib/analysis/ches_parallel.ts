/**
 * CHES on two CPU cores: the `wasm` backend runs on one thread, so a Deno worker holding a
 * replica of the model (lib/analysis/ches_worker.ts) scores part of the batches while this
 * thread scores the rest. Both run the same `chesFromBatch`, and the batches are the same as
 * on one thread, so the scores do not depend on the split.
 *
 * The worker is kept between calls for models of the same kind and configuration (starting one
 * costs a backend start and a model build: checkpoint series load a new model per checkpoint)
 * and its weights are re-sent only when a variable's data changed; it stops
 * after {@link IDLE_MS} without work, or at {@link releaseChesThreads}. A live worker keeps a
 * Deno process running, hence the idle stop.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { PreferenceBatch } from "../data/types.ts";
import type { CausalLM } from "../models/types.ts";
import { type WorkerChannel, workerChannel } from "../scoring/worker_channel.ts";

/** Idle time after which the cached worker stops. */
export const IDLE_MS = 3_000;

/** Options shared by the CHES functions that can use a second thread. */
export interface ChesThreadOptions {
  /**
   * Threads for the forward passes: 1 runs on this thread only; 2 adds a worker thread (wasm
   * and cpu backends, GPT-2 and Llama models). Default: 2 on `wasm` when the machine has at
   * least two cores, else 1.
   */
  threads?: number;
}

/**
 * How many threads CHES will use for `model` on the current backend, and why not two.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { chesThreads } from "./ches_parallel.ts";
 * const model = createGPT2({ vocab_size: 8, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * console.log(chesThreads(model, { threads: 1 }).threads); // 1
 * model.dispose();
 * ```
 */
export function chesThreads(
  model: CausalLM,
  opts: ChesThreadOptions = {},
): { threads: 1 | 2; reason?: string } {
  const backend = tf.getBackend();
  const t = opts.threads;
  if (t !== undefined && (!Number.isInteger(t) || t < 1)) {
    throw new RangeError(`threads: ${t} is not a positive integer`);
  }
  if (t === 1) return { threads: 1, reason: "threads: 1 asked for" };
  if (t === undefined && backend !== "wasm") {
    return { threads: 1, reason: `backend ${backend}: one thread by default` };
  }
  if (t === undefined && (navigator.hardwareConcurrency ?? 1) < 2) {
    return { threads: 1, reason: "one core" };
  }
  if (backend !== "wasm" && backend !== "cpu") {
    return { threads: 1, reason: `backend ${backend} is not a single-threaded CPU backend` };
  }
  if (model.kind !== "gpt2" && model.kind !== "llama") {
    return { threads: 1, reason: `model kind ${model.kind} cannot be rebuilt in a worker` };
  }
  return { threads: 2 };
}

interface Reply {
  cmd: string;
  message?: string;
  stack?: string;
  scores?: unknown[];
}

interface Cached {
  /** Backend, model kind and configuration the replica was built for. */
  key: string;
  worker: Worker;
  ready: Promise<void>;
  ids: unknown[];
  channel: WorkerChannel<Reply>;
  idle?: ReturnType<typeof setTimeout>;
}

let cached: Cached | undefined;

/**
 * Stop the cached CHES worker now (a process that is done with CHES can exit at once).
 *
 * @example
 * ```ts
 * import { releaseChesThreads } from "./ches_parallel.ts";
 * releaseChesThreads(); // no worker: nothing to do
 * ```
 */
export function releaseChesThreads(): void {
  const c = cached;
  cached = undefined;
  if (!c) return;
  clearTimeout(c.idle);
  c.worker.terminate();
  c.channel.abandon("CHES worker released");
}

function request(c: Cached, msg: Record<string, unknown>): Promise<Reply> {
  return c.channel.request(msg);
}

function startWorker(model: CausalLM, backend: string): Cached {
  const worker = new Worker(new URL("./ches_worker.ts", import.meta.url).href, { type: "module" });
  const c: Cached = {
    key: keyOf(model, backend),
    worker,
    ids: [],
    ready: Promise.resolve(),
    channel: workerChannel<Reply>(worker, "CHES worker"),
  };
  c.ready = request(c, { cmd: "init", backend, kind: model.kind, config: { ...model.config } })
    .then(() => undefined);
  return c;
}

function keyOf(model: CausalLM, backend: string): string {
  return JSON.stringify([backend, model.kind, model.config]);
}

function workerFor(model: CausalLM): Cached {
  const backend = tf.getBackend();
  if (cached && cached.key !== keyOf(model, backend)) releaseChesThreads();
  cached ??= startWorker(model, backend);
  clearTimeout(cached.idle);
  return cached;
}

/** The weights to send: none when every variable still holds the data the worker has. */
function changedWeights(c: Cached, model: CausalLM): Float32Array[] | undefined {
  const vars = model.variables();
  if (vars.length === c.ids.length && vars.every((v, i) => v.dataId === c.ids[i])) {
    return undefined;
  }
  c.ids = vars.map((v) => v.dataId);
  return vars.map((v) => (v.dataSync() as Float32Array).slice());
}

/**
 * Indices of the batches the worker takes: longest-processing-time first by rows × length,
 * this thread taking the first (largest) batch, so the two threads end at about the same time.
 *
 * @example
 * ```ts
 * import { workerShare } from "./ches_parallel.ts";
 * const b = (size: number, length: number) => ({ size, length }) as never;
 * console.log([...workerShare([b(1, 8), b(1, 32), b(1, 16), b(1, 16)])]); // [2, 3]
 * ```
 */
export function workerShare(batches: readonly PreferenceBatch[]): Set<number> {
  const cost = (b: PreferenceBatch) => 2 * b.size * b.length;
  const order = Array.from(batches.keys()).sort((a, b) => cost(batches[b]) - cost(batches[a]));
  const share = new Set<number>();
  let mine = 0, theirs = 0;
  for (const i of order) {
    if (mine <= theirs) mine += cost(batches[i]);
    else {
      theirs += cost(batches[i]);
      share.add(i);
    }
  }
  return share;
}

/**
 * `local(batch)` for every batch, part of them run instead on the worker thread through
 * `chesFromBatch(replica, batch, workerOpts)`; results in batch order. `local` must compute
 * the same thing as the worker (the caller passes `chesFromBatch` with the same options).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { collate } from "../data/collate.ts";
 * import { chesFromBatch } from "./ches.ts";
 * import { chesOnThreads, releaseChesThreads } from "./ches_parallel.ts";
 * await tf.setBackend("cpu");
 * const model = createGPT2({ vocab_size: 16, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const pair = (index: number) => ({ index, promptIds: [1], chosenIds: [2, 0], rejectedIds: [3, 0] });
 * const batches = [collate([pair(0)], 0), collate([pair(1)], 0)];
 * const out = await chesOnThreads(model, batches, (b) => chesFromBatch(model, b), {});
 * console.log(out.map((s) => s[0].index)); // [0, 1]
 * releaseChesThreads();
 * model.dispose();
 * ```
 */
export async function chesOnThreads<T>(
  model: CausalLM,
  batches: readonly PreferenceBatch[],
  local: (batch: PreferenceBatch) => Promise<T>,
  workerOpts: Record<string, unknown>,
): Promise<T[]> {
  const share = workerShare(batches);
  const c = workerFor(model);
  let remote: Promise<Reply>;
  try {
    await c.ready;
    remote = request(c, {
      cmd: "run",
      weights: changedWeights(c, model),
      batches: batches.filter((_, i) => share.has(i)),
      opts: workerOpts,
    });
    // Awaited below; this keeps a rejection while this thread still works from going unhandled.
    remote.catch(() => {});
  } catch (e) {
    if (cached === c) releaseChesThreads();
    throw e;
  }
  const out = new Array<T>(batches.length);
  try {
    for (let i = 0; i < batches.length; i++) if (!share.has(i)) out[i] = await local(batches[i]);
  } catch (e) {
    // The worker may be mid-run: stop it rather than leave a request in flight.
    if (cached === c) releaseChesThreads();
    throw e;
  }
  let reply: Reply;
  try {
    reply = await remote;
  } catch (e) {
    if (cached === c) releaseChesThreads();
    throw e;
  }
  const theirs = reply.scores as T[];
  let k = 0;
  for (let i = 0; i < batches.length; i++) if (share.has(i)) out[i] = theirs[k++];
  if (k !== theirs.length) {
    throw new Error(`CHES worker: ${theirs.length} results for ${k} batches`);
  }
  if (cached === c) c.idle = setTimeout(releaseChesThreads, IDLE_MS);
  return out;
}
