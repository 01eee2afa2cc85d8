/**
 * The worker side of {@link chesOnThreads} (lib/analysis/ches_parallel.ts): a replica of the
 * causal LM that runs CHES on the batches the main thread hands it, through the same
 * `chesFromBatch` the main thread uses, so both halves are computed alike.
 *
 * Messages in: `init` (backend, model kind and config), `run` (weights when they changed, the
 * batches, the CHES options). Messages out: `ready`, `scores` (one `ChesScore[]` per batch),
 * `error` (message and stack).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../backend.ts";
import type { PreferenceBatch } from "../data/types.ts";
import { createGPT2 } from "../models/gpt2.ts";
import { createLlama } from "../models/llama.ts";
import type { CausalLM } from "../models/types.ts";
import { chesFromBatch, type ChesOptions } from "./ches.ts";

// Before any backend starts: silences tfjs's "install tfjs-node" banner, as lib/backend.ts does.
tf.env().set("PROD", true);

let model: CausalLM | undefined;

function loadWeights(m: CausalLM, values: readonly Float32Array[]): void {
  const vars = m.variables();
  if (values.length !== vars.length) {
    throw new RangeError(
      `CHES worker: ${values.length} weight arrays for ${vars.length} variables`,
    );
  }
  vars.forEach((v, i) => {
    if (values[i].length !== v.size) {
      throw new RangeError(`CHES worker: ${v.name} has ${v.size} values, got ${values[i].length}`);
    }
    const t = tf.tensor(values[i], v.shape);
    v.assign(t);
    t.dispose();
  });
}

async function handle(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (msg.cmd === "init") {
    await initBackend({ backend: msg.backend as "wasm" | "cpu" });
    const config = msg.config as Record<string, unknown>;
    model = msg.kind === "gpt2" ? createGPT2(config) : createLlama(config);
    return { cmd: "ready" };
  }
  const m = model;
  if (!m) throw new Error("CHES worker: not initialised");
  if (msg.cmd === "run") {
    if (msg.weights) loadWeights(m, msg.weights as Float32Array[]);
    const opts = msg.opts as ChesOptions;
    const scores = [];
    for (const batch of msg.batches as PreferenceBatch[]) {
      scores.push(await chesFromBatch(m, batch, opts));
    }
    return { cmd: "scores", scores };
  }
  throw new Error(`CHES worker: unknown command ${String(msg.cmd)}`);
}

self.onmessage = async (e: MessageEvent<Record<string, unknown>>) => {
  try {
    self.postMessage(await handle(e.data));
  } catch (err) {
    const x = err as Error;
    self.postMessage({ cmd: "error", message: x?.message ?? String(err), stack: x?.stack });
  }
};
