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
import type { PreferenceBatch } from "../data/types.ts";
import type { CausalLM } from "../models/types.ts";
import { chesFromBatch, type ChesOptions } from "./ches.ts";
import { initReplica, loadReplicaWeights, serveRequests } from "../scoring/worker_side.ts";

// Before any backend starts: silences tfjs's "install tfjs-node" banner, as lib/backend.ts does.
tf.env().set("PROD", true);

let model: CausalLM | undefined;

async function handle(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (msg.cmd === "init") {
    model = await initReplica(msg);
    return { cmd: "ready" };
  }
  const m = model;
  if (!m) throw new Error("CHES worker: not initialised");
  if (msg.cmd === "run") {
    if (msg.weights) loadReplicaWeights(m, msg.weights as Float32Array[], "CHES worker");
    const opts = msg.opts as ChesOptions;
    const scores = [];
    for (const batch of msg.batches as PreferenceBatch[]) {
      scores.push(await chesFromBatch(m, batch, opts));
    }
    return { cmd: "scores", scores };
  }
  throw new Error(`CHES worker: unknown command ${String(msg.cmd)}`);
}

serveRequests(handle);
