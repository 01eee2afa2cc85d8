/**
 * Shared test helpers: numeric closeness with explicit tolerances, and a
 * deterministic tfjs backend for unit tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-core under Deno ships no gradient functions; this registers them (see the module).
import "../lib/kernels/gradients.ts";
import { createGPT2 } from "../lib/models/gpt2.ts";
import { createLlama } from "../lib/models/llama.ts";
import type { CausalLM } from "../lib/models/types.ts";

/** Put tfjs on the pure-JS `cpu` backend, the reference every other backend is compared to. */
export async function useCpu(): Promise<void> {
  await tf.setBackend("cpu");
  await tf.ready();
}

/** Tolerances for {@link assertClose}: |a - e| <= atol + rtol * |e|. */
export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/**
 * Assert that two numbers (or equally long arrays of numbers) agree within a tolerance.
 * NaN never matches; +/-Infinity matches only itself.
 */
export function assertClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  tol: Tolerance & { msg?: string } = {},
): void {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const e = typeof expected === "number" ? [expected] : Array.from(expected);
  const where = tol.msg ? `${tol.msg}: ` : "";
  if (a.length !== e.length) {
    throw new Error(`${where}length ${a.length} != expected length ${e.length}`);
  }
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = e[i];
    if (!Number.isFinite(y)) {
      if (x !== y) throw new Error(`${where}[${i}] got ${x}, expected ${y}`);
      continue;
    }
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) {
      throw new Error(
        `${where}[${i}] got ${x}, expected ${y} (|diff| ${Math.abs(x - y)} > ${
          atol + rtol * Math.abs(y)
        }, rtol ${rtol}, atol ${atol})`,
      );
    }
  }
}

/**
 * Two small causal LMs over a 12-token vocabulary, one of each architecture family: a GPT-2
 * (seed `seed`) and a grouped-query Llama (seed `seed + 1`).
 */
export function smallLMs(seed: number): [CausalLM, CausalLM] {
  return [
    createGPT2({ vocab_size: 12, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2 }, { seed }),
    createLlama({
      vocab_size: 12,
      hidden_size: 16,
      intermediate_size: 20,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
    }, { seed: seed + 1 }),
  ];
}

/** The pairs of {@link toyTrainConfig}: two text pairs and one of token ids. */
export const TOY_TRAIN_PAIRS = [
  { prompt: "x0", chosen: "No", rejected: "Never" },
  { prompt: "x1", chosen: "Yes", rejected: "No" },
  { prompt: 0, chosen: 3, rejected: 0 },
];

/**
 * The toy run config of the CLI tests (a 4-token unconstrained-features model, three pairs, DPO
 * with RMSprop for 6 steps, checkpoints every 2), writing to `out`; `patch` replaces or adds fields.
 */
export function toyTrainConfig(
  out: string,
  patch: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    model: {
      toy: { kind: "unconstrained", tokens: ["Yes", "No", "Never", "Maybe"], prompts: 2, dim: 3 },
    },
    data: { pairs: TOY_TRAIN_PAIRS },
    objective: { name: "dpo", params: { beta: 0.1 } },
    optimizer: { name: "rmsprop" },
    lr: 0.01,
    batchSize: 2,
    steps: 6,
    seed: 3,
    out,
    checkpointEvery: 2,
    backend: "cpu",
    ...patch,
  };
}

/**
 * Unembedding rows (dimension 4) of the tracker tests' toy: No (row 0) and Never (row 1) nearly
 * share an unembedding, Yes (row 2) lies along W_No − W_Never, the rest are small distractors.
 */
export const NO_NEVER_YES_UNEMBEDDING: readonly (readonly number[])[] = [
  [4, 0, 0, 0],
  [4, -1, 0.02, 0],
  [2, 3, 0, 0.1],
  [0.3, -0.4, 0.5, 0.2],
  [-0.2, 0.1, -0.6, 0.3],
  [0.1, 0.2, 0.3, -0.5],
  [-0.4, -0.3, 0.2, 0.1],
  [0.2, 0.5, -0.1, -0.3],
];

/** Every file under `dir` with its content, for before/after comparisons. */
export function snapshot(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) Object.assign(out, snapshot(p, `${prefix}${e.name}/`));
    else out[`${prefix}${e.name}`] = Deno.readTextFileSync(p);
  }
  return out;
}

/**
 * Takes the gradients of `loss` (over `vars`, default every trainable variable) once to warm any
 * cache, then three times more, and asserts that those three leave no tensor behind.
 */
export function assertGradsLeakNothing(loss: () => tf.Scalar, vars?: tf.Variable[]): void {
  const step = () => {
    const { value, grads } = tf.variableGrads(loss, vars);
    value.dispose();
    tf.dispose(grads);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before);
}
