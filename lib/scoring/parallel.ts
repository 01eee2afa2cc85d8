/**
 * Data-parallel training of a causal LM on two CPU cores: the `wasm` and `cpu` backends run on
 * one thread, so a second thread (a Deno worker holding a replica of the model) takes half of
 * each batch's pairs.
 *
 * A step with the loss `L(s)` of the batch's score tensors `s` (summed log-probs, lengths, and
 * per-token tensors for token-level objectives):
 *
 * 1. the worker loads the current weights from a shared buffer and scores its half under its
 *    own tape, while this thread scores its half under its tape;
 * 2. this thread blocks (`Atomics.wait`) until the worker's scores are in a shared buffer, and
 *    evaluates `L` on the joined scores once, on the whole batch as without a worker (so any
 *    objective works: batch-coupled, stateful and token-level ones too);
 * 3. the first gradient the backward pass reaches is `dy = ∂L/∂s` of the worker's half: it is
 *    written to the shared buffer and the worker back-propagates it through its half
 *    (`∇θ Σ dy·s`, a vector-Jacobian product) while this thread back-propagates its own;
 * 4. the worker's gradients come back through a second shared buffer and are added.
 *
 * By the chain rule the sum is `∇θ L`: each thread runs the forward and backward pass of half
 * the pairs, and neither recomputes anything.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ProbeBatch } from "../data/collate.ts";
import type { PreferenceBatch } from "../data/types.ts";
import type { CausalLM } from "../models/types.ts";
import { lmScorer } from "./lm.ts";
import { flattenScores, isDataLeaf, pairSlice, rebuildScores } from "./parallel_shared.ts";
import type { PairScores, PreferenceScorer } from "../core/scores.ts";
import { workerChannel } from "./worker_channel.ts";

/** A scorer whose loss gradients can be computed with the batch split across threads. */
export interface ParallelScorer<B, P = never> extends PreferenceScorer<B, P> {
  /** Threads that share a step: 2 with a worker, 1 where none could be used (see `reason`). */
  readonly threads: number;
  /** Why there is no worker, when `threads` is 1. */
  readonly reason?: string;
  /**
   * `lossOf(scores(batch))` and its gradients with respect to {@link variables} (keyed by
   * variable name, as `tf.variableGrads` returns them). `lossOf` is called once.
   */
  valueAndGrads(
    batch: B,
    lossOf: (scores: PairScores) => tf.Scalar,
  ): Promise<{ value: tf.Scalar; grads: tf.NamedTensorMap }>;
  /**
   * The scores of `batch` without a tape, its pairs split across the threads (reference
   * passes, evaluation). The caller owns the returned tensors.
   */
  scoresAsync(batch: B): Promise<PairScores>;
  /** Stop the worker. */
  dispose(): void;
}

/**
 * True for a scorer that offers {@link ParallelScorer.valueAndGrads}.
 *
 * @example
 * ```ts
 * import { isParallelScorer } from "./parallel.ts";
 * console.log(isParallelScorer({ variables: () => [], scores: () => { throw 0; } })); // false
 * ```
 */
export function isParallelScorer<B>(s: PreferenceScorer<B, unknown>): s is ParallelScorer<B> {
  return typeof (s as Partial<ParallelScorer<B>>).valueAndGrads === "function";
}

/** `scorer.scores(batch)` under `tf.tidy`, no tape: the caller owns the returned tensors. */
function tidyScores<B>(scorer: PreferenceScorer<B, unknown>, batch: B): PairScores {
  return tf.tidy(() =>
    scorer.scores(batch) as unknown as tf.TensorContainerObject
  ) as unknown as PairScores;
}

/**
 * The scores of `batch` without a tape, on both threads when `scorer` is data-parallel
 * ({@link ParallelScorer.scoresAsync}), else on this one. The caller owns the tensors.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { scoresWithoutTape } from "./parallel.ts";
 * const v = () => tf.tensor1d([-1]);
 * const s = await scoresWithoutTape({ variables: () => [], scores: () => ({
 *   policyChosen: v(), policyRejected: v(), chosenLength: v(), rejectedLength: v() }) }, 0);
 * console.log(s.policyChosen.dataSync()[0]); // -1
 * ```
 */
export function scoresWithoutTape<B>(
  scorer: PreferenceScorer<B, unknown>,
  batch: B,
): Promise<PairScores> {
  return isParallelScorer(scorer)
    ? scorer.scoresAsync(batch)
    : Promise.resolve(tidyScores(scorer, batch));
}

/** Options of {@link parallelLMScorer}. */
export interface ParallelOptions {
  /** Per-token scores for token-level objectives (as `lmScorer`). */
  tokens?: boolean;
  /** Per-token log Σπ² for WPO weights (as `lmScorer`). */
  logSumSquares?: boolean;
  /** Batches with fewer pairs run on this thread alone (default 2). */
  minPairs?: number;
  /** The model is never updated (a reference model): its weights go to the worker once. */
  frozen?: boolean;
  /** TRL's token-statistics sums (as `lmScorer`; default true): a reference needs none. */
  stats?: boolean;
}

/** Longest wait for the other thread before giving up (a hung worker must not hang a run). */
const WAIT_MS = 120_000;
/** Upper bound on the score tensors per pair and position, for sizing the shared buffer. */
const MAX_LEAVES = 16;

interface WorkerReply {
  cmd: string;
  message?: string;
  stack?: string;
  values?: Float32Array[];
  shapes?: number[][];
}

/**
 * `lmScorer(model)` plus data-parallel gradients over a worker thread (see the module doc), on
 * the `wasm` and `cpu` backends. On another backend (a GPU runs one thread's kernels across the
 * device already) it runs single-threaded and says so in `reason`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { parallelLMScorer } from "./parallel.ts";
 * await tf.setBackend("cpu");
 * const model = createGPT2({ vocab_size: 8, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const policy = await parallelLMScorer(model); // pass it to train() as `policy`
 * console.log(policy.threads); // 2
 * policy.dispose();
 * model.dispose();
 * ```
 */
export async function parallelLMScorer(
  model: CausalLM,
  opts: ParallelOptions = {},
): Promise<ParallelScorer<PreferenceBatch, ProbeBatch>> {
  const scorerOpts = { tokens: opts.tokens, logSumSquares: opts.logSumSquares, stats: opts.stats };
  const base = lmScorer(model, scorerOpts);
  const minPairs = Math.max(2, opts.minPairs ?? 2);
  const vars = model.variables();
  const sequential = (batch: PreferenceBatch, lossOf: (s: PairScores) => tf.Scalar) =>
    Promise.resolve(tf.variableGrads(() => lossOf(base.scores(batch)), vars));
  const backend = tf.getBackend();
  const single = (reason: string): ParallelScorer<PreferenceBatch, ProbeBatch> => ({
    ...base,
    threads: 1,
    reason,
    valueAndGrads: sequential,
    scoresAsync: (batch) => Promise.resolve(tidyScores(base, batch)),
    dispose() {},
  });
  if (backend !== "wasm" && backend !== "cpu") {
    return single(`backend ${backend} is not a single-threaded CPU backend`);
  }
  if (model.kind !== "gpt2" && model.kind !== "llama") {
    return single(`model kind ${model.kind} cannot be rebuilt in a worker`);
  }

  const sizes = vars.map((v) => v.size);
  const offsets = [0];
  for (const n of sizes) offsets.push(offsets[offsets.length - 1] + n);
  const total = offsets[offsets.length - 1];
  const weights = new Float32Array(new SharedArrayBuffer(4 * total));
  const gradBuf = new Float32Array(new SharedArrayBuffer(4 * total));
  const worker = new Worker(new URL("./parallel_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const { request } = workerChannel<WorkerReply>(worker, "parallel worker");
  // Scores and upstream gradients of the worker's half pass through `io`; `ctl[0]` is the
  // hand-over state (0 idle, 1 scores ready, 2 gradients ready, 3 step cancelled by this
  // thread, -1 worker failed), `ctl[1]` the number of values.
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  let io = new Float32Array(new SharedArrayBuffer(4 * (1 << 16)));
  const ensureIo = (n: number) => {
    if (io.length >= n) return undefined;
    io = new Float32Array(new SharedArrayBuffer(4 * n));
    return io.buffer;
  };
  try {
    await request({
      cmd: "init",
      backend,
      kind: model.kind,
      config: { ...model.config },
      scorer: scorerOpts,
      weights: weights.buffer,
      grads: gradBuf.buffer,
      ctl: ctl.buffer,
      io: io.buffer,
    });
  } catch (e) {
    worker.terminate();
    throw e;
  }

  // Weights go to the worker only when they changed: a frozen reference model is sent once
  // (an assign gives a variable new data, so its data id tells whether it changed).
  let published = -1, publishedIds: unknown[] = [];
  const publishWeights = () => {
    if (opts.frozen && vars.every((v, i) => v.dataId === publishedIds[i])) return;
    vars.forEach((v, i) => weights.set(v.dataSync() as Float32Array, offsets[i]));
    publishedIds = vars.map((v) => v.dataId);
    published++;
  };
  const waitWhile = (value: number, what: string) => {
    while (Atomics.load(ctl, 0) === value) {
      if (Atomics.wait(ctl, 0, value, WAIT_MS) === "timed-out") {
        throw new Error(`parallel worker: no ${what} after ${WAIT_MS / 1000} s`);
      }
    }
  };

  const scoresAsync = async (batch: PreferenceBatch): Promise<PairScores> => {
    const n = batch.size;
    if (n < minPairs) return tidyScores(base, batch);
    const a = Math.ceil(n / 2);
    publishWeights();
    const remote = request({ cmd: "scores", batch: pairSlice(batch, a, n), version: published });
    const own = tidyScores(base, pairSlice(batch, 0, a));
    const ownLeaves = flattenScores(own);
    let reply: WorkerReply;
    try {
      reply = await remote;
    } catch (e) {
      tf.dispose(ownLeaves.map((l) => l.tensor));
      throw e;
    }
    const joined = tf.tidy(() =>
      ownLeaves.map((l, i) =>
        tf.concat([l.tensor, tf.tensor(reply.values![i], reply.shapes![i])], 0)
      )
    );
    tf.dispose(ownLeaves.map((l) => l.tensor));
    return rebuildScores(own, joined);
  };

  // A zero-valued scalar on the tape of the smallest variable: tfjs back-propagates only
  // through ops that depend on a variable, and the worker's scores arrive as constants.
  const smallest = vars.reduce((m, v) => (v.size < m.size ? v : m));

  const valueAndGrads = async (
    batch: PreferenceBatch,
    lossOf: (s: PairScores) => tf.Scalar,
  ): Promise<{ value: tf.Scalar; grads: tf.NamedTensorMap }> => {
    const n = batch.size;
    if (n < minPairs) return sequential(batch, lossOf);
    const a = Math.ceil(n / 2), b = n - a;
    const mine = pairSlice(batch, 0, a), theirs = pairSlice(batch, a, n);
    publishWeights();
    Atomics.store(ctl, 0, 0);
    const grown = ensureIo(MAX_LEAVES * b * batch.length);
    const remote = request({
      cmd: "step",
      batch: theirs,
      version: published,
      ...(grown ? { io: grown } : {}),
    });
    let handedOver = false;
    const handOver = (dy?: Float32Array) => {
      if (dy) io.set(dy);
      else io.fill(0, 0, Atomics.load(ctl, 1));
      Atomics.store(ctl, 0, 2);
      Atomics.notify(ctl, 0);
      handedOver = true;
    };
    const capture = tf.customGrad(
      ((x: tf.Tensor) => ({
        value: tf.clone(x),
        gradFunc: (dy: tf.Tensor) => {
          handOver(dy.dataSync() as Float32Array);
          return tf.zerosLike(dy);
        },
      })) as unknown as Parameters<typeof tf.customGrad>[0],
    ) as (x: tf.Tensor) => tf.Tensor;
    let out: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      out = tf.variableGrads(() => {
        const own = base.scores(mine);
        const ownLeaves = flattenScores(own);
        waitWhile(0, "scores");
        if (Atomics.load(ctl, 0) !== 1) throw new Error("parallel worker failed while scoring");
        const count = Atomics.load(ctl, 1);
        const flat = capture(
          tf.add(tf.tensor1d(io.slice(0, count)), tf.mul(tf.sum(smallest), 0)),
        );
        const shapes = ownLeaves.map((l) => [b, ...l.tensor.shape.slice(1)]);
        const sizes = shapes.map((sh) => sh.reduce((x, y) => x * y, 1));
        if (sizes.reduce((x, y) => x + y, 0) !== count) {
          throw new Error(`parallel worker: ${count} score values, expected ${sizes}`);
        }
        const parts = tf.split(flat, sizes);
        let at = 0;
        const joined = ownLeaves.map((l, i) => {
          const from = at;
          at += sizes[i];
          // Data leaves stay off the tape (their upstream gradient is then zero).
          const theirs = isDataLeaf(l.path)
            ? tf.tensor(io.slice(from, at), shapes[i])
            : tf.reshape(parts[i], shapes[i]);
          return tf.concat([l.tensor, theirs], 0);
        });
        return lossOf(rebuildScores(own, joined));
      }, vars);
    } catch (e) {
      const workerFailed = Atomics.load(ctl, 0) === -1;
      // Release the worker: cancel it before it hands its scores over (3), or, when it already
      // waits for upstream gradients, give it zeros.
      if (!handedOver && Atomics.compareExchange(ctl, 0, 0, 3) === 1) handOver();
      Atomics.notify(ctl, 0);
      const failed = await remote.then(() => undefined, (err: Error) => err);
      throw workerFailed && failed ? failed : e;
    }
    // A loss that does not read the worker's half never reached `capture`.
    if (!handedOver) handOver();
    try {
      await remote;
    } catch (e) {
      tf.dispose([out.value, ...Object.values(out.grads)]);
      throw e;
    }
    const summed: tf.NamedTensorMap = {};
    vars.forEach((v, i) => {
      const theirs = tf.tensor(gradBuf.subarray(offsets[i], offsets[i + 1]), v.shape);
      const mineG = out.grads[v.name];
      summed[v.name] = mineG ? tf.add(mineG, theirs) : theirs;
      if (mineG) {
        mineG.dispose();
        theirs.dispose();
      }
    });
    return { value: out.value, grads: summed };
  };

  return {
    ...base,
    threads: 2,
    valueAndGrads,
    scoresAsync,
    dispose() {
      worker.terminate();
    },
  };
}
