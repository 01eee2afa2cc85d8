/**
 * The worker side of {@link parallelLMScorer} (lib/scoring/parallel.ts): a replica of the causal
 * LM that scores its half of each batch and back-propagates the main thread's upstream
 * gradients through it. Weights arrive through a shared buffer before every step; gradients
 * leave through another.
 *
 * Messages in: `init` (backend, model kind and config, shared buffers, scorer options),
 * `scores` (a half batch), `grads` (upstream gradients of the last half's score tensors).
 * Messages out: `ready`, `scores` (flattened score tensors), `grads` (written to the buffer),
 * `error` (message and stack).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import * as tf from "@tensorflow/tfjs-core";
import type { PreferenceBatch } from "../data/types.ts";
import type { CausalLM } from "../models/types.ts";
import { causalLMScorer } from "./logps.ts";
import { initReplica, serveRequests } from "./worker_side.ts";
import { flattenScores, type Leaf, vjpTarget } from "./parallel_shared.ts";
import type { PreferenceScorer } from "../core/scores.ts";

interface State {
  model: CausalLM;
  scorer: PreferenceScorer<PreferenceBatch>;
  weights: Float32Array;
  grads: Float32Array;
  ctl: Int32Array;
  io: Float32Array;
  offsets: number[];
  version: number;
}

/** The error of a step the main thread cancelled (its half failed). */
const CANCELLED = "step cancelled by the main thread";

/** Longest wait for the main thread's upstream gradients. */
const WAIT_MS = 120_000;

// Before any backend starts: silences tfjs's "install tfjs-node" banner, as lib/backend.ts does.
tf.env().set("PROD", true);

let state: State | undefined;

function loadWeights(s: State, version: number): void {
  if (version === s.version) return;
  s.version = version;
  s.model.variables().forEach((v, i) => {
    const t = tf.tensor(s.weights.subarray(s.offsets[i], s.offsets[i + 1]), v.shape);
    v.assign(t);
    t.dispose();
  });
}

async function handle(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (msg.cmd === "init") {
    const model = await initReplica(msg);
    const vars = model.variables();
    const offsets = [0];
    for (const v of vars) offsets.push(offsets[offsets.length - 1] + v.size);
    state = {
      model,
      scorer: causalLMScorer(
        model,
        msg.scorer as { tokens?: boolean; logSumSquares?: boolean; stats?: boolean },
      ),
      weights: new Float32Array(msg.weights as SharedArrayBuffer),
      grads: new Float32Array(msg.grads as SharedArrayBuffer),
      ctl: new Int32Array(msg.ctl as SharedArrayBuffer),
      io: new Float32Array(msg.io as SharedArrayBuffer),
      offsets,
      version: -1,
    };
    if (offsets[offsets.length - 1] !== state.weights.length) {
      throw new RangeError(
        `parallel worker: ${
          offsets[offsets.length - 1]
        } parameters, buffer of ${state.weights.length}`,
      );
    }
    return { cmd: "ready" };
  }
  const s = state;
  if (!s) throw new Error("parallel worker: not initialised");
  if (msg.cmd === "scores") {
    loadWeights(s, msg.version as number);
    const batch = msg.batch as PreferenceBatch;
    const leaves = tf.tidy(() => flattenScores(s.scorer.scores(batch)).map((l) => l.tensor));
    try {
      const values = leaves.map((t) => t.dataSync() as Float32Array);
      return { cmd: "scores", values, shapes: leaves.map((t) => t.shape) };
    } finally {
      tf.dispose(leaves);
    }
  }
  if (msg.cmd === "step") {
    if (msg.io) s.io = new Float32Array(msg.io as SharedArrayBuffer);
    try {
      loadWeights(s, msg.version as number);
      const batch = msg.batch as PreferenceBatch;
      const vars = s.model.variables();
      const { value, grads } = tf.variableGrads(() => {
        const leaves = flattenScores(s.scorer.scores(batch));
        // Hand the scores over and wait for their upstream gradients, keeping this tape.
        let count = 0;
        for (const l of leaves) {
          const v = l.tensor.dataSync() as Float32Array;
          if (count + v.length > s.io.length) {
            throw new RangeError(
              `parallel worker: ${count + v.length} score values, room for ${s.io.length}`,
            );
          }
          s.io.set(v, count);
          count += v.length;
        }
        Atomics.store(s.ctl, 1, count);
        // The main thread may have cancelled the step (its own half failed) meanwhile.
        if (Atomics.compareExchange(s.ctl, 0, 0, 1) === 3) throw new Error(CANCELLED);
        Atomics.notify(s.ctl, 0);
        while (Atomics.load(s.ctl, 0) === 1) {
          if (Atomics.wait(s.ctl, 0, 1, WAIT_MS) === "timed-out") {
            throw new Error(`parallel worker: no upstream gradients after ${WAIT_MS / 1000} s`);
          }
        }
        const dy: Leaf[] = [];
        let at = 0;
        for (const l of leaves) {
          dy.push({
            path: l.path,
            tensor: tf.tensor(s.io.slice(at, at + l.tensor.size), l.tensor.shape),
          });
          at += l.tensor.size;
        }
        return vjpTarget(leaves, dy);
      }, vars);
      try {
        vars.forEach((v, i) => {
          const g = grads[v.name];
          const dst = s.grads.subarray(s.offsets[i], s.offsets[i + 1]);
          if (g) dst.set(g.dataSync() as Float32Array);
          else dst.fill(0);
        });
      } finally {
        tf.dispose([value, ...Object.values(grads)]);
      }
      return { cmd: "grads" };
    } catch (e) {
      // Never leave the main thread waiting for scores that will not come.
      if (Atomics.compareExchange(s.ctl, 0, 0, -1) === 0) Atomics.notify(s.ctl, 0);
      throw e;
    }
  }
  throw new Error(`parallel worker: unknown command ${String(msg.cmd)}`);
}

serveRequests(handle);
