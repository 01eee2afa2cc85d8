/**
 * The benchmark workloads: which models, which batches.
 *
 * Token ids are synthetic (seeded uniform draws): throughput depends on shapes, not on which
 * tokens fill them, and synthetic rows let every backend and the PyTorch peer see exactly the
 * same ids. Every row of a batch has the same length (prompt + completion, no padding), so
 * "tokens" means the same thing to every implementation: rows x length.
 *
 * @module
 */
import { collate } from "../../lib/data/mod.ts";
import type { PreferenceBatch, TokenizedPair } from "../../lib/data/mod.ts";
import { loadCausalLM, saveCausalLM } from "../../lib/models/mod.ts";
import { createGPT2, type GPT2Config } from "../../lib/models/mod.ts";
import type { CausalLM } from "../../lib/models/mod.ts";

/** Where the shipped model lives, then the pretraining job's checkpoint as a stand-in. */
export const SHIPPED_MODEL_DIRS: readonly string[] = [
  "data/models/tiny",
  "out/pretrain/run/checkpoint",
];

/** The shipped model's shape (tools/pretrain defaults), used when no checkpoint is on disk. */
export const TINY_CONFIG: Readonly<Partial<GPT2Config>> = {
  vocab_size: 4096,
  n_positions: 128,
  n_embd: 128,
  n_layer: 4,
  n_head: 4,
};

/** GPT-2 small (124M parameters): Hugging Face `gpt2`'s shape, randomly initialised. */
export const GPT2_SMALL_CONFIG: Readonly<Partial<GPT2Config>> = {
  vocab_size: 50257,
  n_positions: 1024,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
};

/** Pairs per batch and the length of every row (prompt + completion). */
export interface BatchShape {
  /** Pairs B (the batch has 2B rows). */
  pairs: number;
  /** Tokens per row T. */
  length: number;
  /** Prompt tokens per row; the completion is the remaining `length - promptLength`. */
  promptLength: number;
}

/** Tokens one forward pass over a batch of this shape processes: 2B x T. */
export function batchTokens(shape: BatchShape): number {
  return 2 * shape.pairs * shape.length;
}

function checkShape(shape: BatchShape, vocab: number): void {
  for (const k of ["pairs", "length", "promptLength"] as const) {
    if (!Number.isInteger(shape[k]) || shape[k] < 1) {
      throw new RangeError(`batch shape: ${k} must be a positive integer, got ${shape[k]}`);
    }
  }
  if (shape.promptLength >= shape.length) {
    throw new RangeError(
      `batch shape: promptLength ${shape.promptLength} leaves no completion in length ${shape.length}`,
    );
  }
  if (!Number.isInteger(vocab) || vocab < 2) {
    throw new RangeError(`vocab must be an integer >= 2, got ${vocab}`);
  }
}

/** mulberry32: seeded uniform draws, the same on every platform (and in the peer's JSON). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` synthetic pairs: a shared prompt and two different completions, every row exactly
 * `shape.length` tokens, ids uniform in [0, vocab).
 *
 * @example
 * ```ts
 * import { syntheticPairs } from "./workload.ts";
 * const [p] = syntheticPairs(100, { pairs: 1, length: 8, promptLength: 3 }, 1, 0);
 * console.log(p.promptIds.length, p.chosenIds.length); // 3 5
 * ```
 */
export function syntheticPairs(
  vocab: number,
  shape: BatchShape,
  count: number,
  seed: number,
): TokenizedPair[] {
  checkShape(shape, vocab);
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`syntheticPairs: count must be a positive integer, got ${count}`);
  }
  const u = uniform(seed);
  const draw = (n: number) => Array.from({ length: n }, () => Math.floor(u() * vocab));
  const completion = shape.length - shape.promptLength;
  return Array.from({ length: count }, (_, index) => ({
    index,
    promptIds: draw(shape.promptLength),
    chosenIds: draw(completion),
    rejectedIds: draw(completion),
  }));
}

/**
 * `n` distinct synthetic batches of `shape` (seeds `seed`, `seed + 1`, ...).
 *
 * @example
 * ```ts
 * import { syntheticBatches } from "./workload.ts";
 * const [b] = syntheticBatches(100, { pairs: 2, length: 8, promptLength: 3 }, 1);
 * console.log(b.size, b.inputIds.length); // 2 32
 * ```
 */
export function syntheticBatches(
  vocab: number,
  shape: BatchShape,
  n: number,
  seed = 0,
): PreferenceBatch[] {
  return Array.from(
    { length: n },
    (_, i) => collate(syntheticPairs(vocab, shape, shape.pairs, seed + i), 0),
  );
}

/** A benchmark model and where its weights came from. */
export interface BenchModel {
  /** Short name used in the report, e.g. "tiny (shipped)" or "gpt2-small 124M (random init)". */
  label: string;
  model: CausalLM;
  /** The checkpoint directory the weights were read from, or undefined for a random init. */
  dir?: string;
  /** Parameter count. */
  params: number;
  /** Hugging Face config fields, as the PyTorch peer needs them. */
  config: Record<string, unknown>;
}

/** Parameter count of a model (summed variable sizes). */
export function countParams(model: CausalLM): number {
  return model.variables().reduce((a, v) => a + v.size, 0);
}

async function isCheckpoint(dir: string): Promise<boolean> {
  try {
    await Deno.stat(`${dir}/config.json`);
    await Deno.stat(`${dir}/model.safetensors`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first of `dirs` that holds a checkpoint (`config.json` + `model.safetensors`), if any.
 *
 * @example
 * ```ts
 * import { findShippedModel } from "./workload.ts";
 * console.log(await findShippedModel(["/nonexistent"])); // undefined
 * ```
 */
export async function findShippedModel(
  dirs: readonly string[] = SHIPPED_MODEL_DIRS,
): Promise<string | undefined> {
  for (const d of dirs) if (await isCheckpoint(d)) return d;
  return undefined;
}

/**
 * Loads a model from a checkpoint directory, or builds a seeded random GPT-2 of `config`.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { openBenchModel } from "./workload.ts";
 * const m = await openBenchModel({ label: "t", config: { vocab_size: 16, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 } });
 * console.log(m.params); // 1080
 * m.model.dispose();
 * ```
 */
export async function openBenchModel(
  opts: { label: string; dir?: string; config?: Partial<GPT2Config>; seed?: number },
): Promise<BenchModel> {
  const model = opts.dir
    ? await loadCausalLM(opts.dir)
    : createGPT2(opts.config ?? TINY_CONFIG, { seed: opts.seed ?? 0 });
  if (model.kind !== "gpt2") {
    throw new TypeError(
      `${opts.dir}: the benchmark's PyTorch peer implements GPT-2 only, got ${model.kind}`,
    );
  }
  return {
    label: opts.label,
    model,
    ...(opts.dir ? { dir: opts.dir } : {}),
    params: countParams(model),
    config: { ...model.config },
  };
}

/**
 * Writes a bench model's weights, as loaded, to a safetensors file under `tmpDir` for the
 * PyTorch peer: the peer then reads exactly what our side computes with, even when the
 * checkpoint on disk changes meanwhile (a pretraining run that is still saving).
 *
 * @example
 * ```ts ignore
 * const path = await weightsFile(bench, "/tmp/bench");
 * ```
 */
export async function weightsFile(m: BenchModel, tmpDir: string): Promise<string> {
  const dir = `${tmpDir}/${m.label.replace(/[^A-Za-z0-9_.-]+/g, "_")}`;
  await saveCausalLM(m.model, dir);
  return `${dir}/model.safetensors`;
}
