/**
 * The worker side of `workerChannel` (lib/scoring/worker_channel.ts), shared by the
 * data-parallel scorer's worker and the CHES worker: building the model replica an `init`
 * message names, and answering each message or reporting its failure.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { initBackend } from "../backend.ts";
import { createGPT2 } from "../models/gpt2.ts";
import { createLlama } from "../models/llama.ts";
import type { CausalLM } from "../models/types.ts";
import * as tf from "@tensorflow/tfjs-core";

/**
 * Start the backend an `init` message names (`backend`) and build its model (`kind`, `config`);
 * the weights are the main thread's to send.
 *
 * @example
 * ```ts
 * import { initReplica } from "./worker_side.ts";
 * const config = { vocab_size: 8, n_positions: 8, n_embd: 4, n_layer: 1, n_head: 1 };
 * const model = await initReplica({ cmd: "init", backend: "cpu", kind: "gpt2", config });
 * if (model.kind !== "gpt2" || model.vocabSize !== 8) throw new Error("not the model asked for");
 * model.dispose();
 * ```
 */
export async function initReplica(msg: Record<string, unknown>): Promise<CausalLM> {
  await initBackend({ backend: msg.backend as "wasm" | "cpu" });
  const config = msg.config as Record<string, unknown>;
  return msg.kind === "gpt2" ? createGPT2(config) : createLlama(config);
}

/**
 * Answer each message with `handle`'s reply, or, where it throws, with `cmd: "error"` and the
 * failure's message and stack (which `workerChannel` turns into a rejection).
 *
 * @example
 * ```ts ignore
 * // In a worker module:
 * serveRequests(async (msg) => ({ cmd: "echo", n: (msg.n as number) + 1 }));
 * ```
 */
export function serveRequests(
  handle: (msg: Record<string, unknown>) => Promise<Record<string, unknown>>,
): void {
  self.onmessage = async (e: MessageEvent<Record<string, unknown>>) => {
    try {
      self.postMessage(await handle(e.data));
    } catch (err) {
      const x = err as Error;
      self.postMessage({ cmd: "error", message: x?.message ?? String(err), stack: x?.stack });
    }
  };
}

/**
 * Assign the main thread's weights (one array per variable, in `model.variables()` order) to a
 * replica, refusing a count or a size that does not match; `label` starts the error message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { loadReplicaWeights } from "./worker_side.ts";
 * await tf.setBackend("cpu");
 * const m = createGPT2({ vocab_size: 8, n_positions: 4, n_embd: 4, n_layer: 1, n_head: 1 });
 * const ones = m.variables().map((v) => new Float32Array(v.size).fill(1));
 * loadReplicaWeights(m, ones, "demo");
 * assert.equal(m.variables()[0].dataSync()[0], 1);
 * assert.throws(() => loadReplicaWeights(m, ones.slice(1), "demo"), /demo: /);
 * m.dispose();
 * ```
 */
export function loadReplicaWeights(
  model: CausalLM,
  values: readonly Float32Array[],
  label: string,
): void {
  const vars = model.variables();
  if (values.length !== vars.length) {
    throw new RangeError(`${label}: ${values.length} weight arrays for ${vars.length} variables`);
  }
  vars.forEach((v, i) => {
    if (values[i].length !== v.size) {
      throw new RangeError(`${label}: ${v.name} has ${v.size} values, got ${values[i].length}`);
    }
    const t = tf.tensor(values[i], v.shape);
    v.assign(t);
    t.dispose();
  });
}
