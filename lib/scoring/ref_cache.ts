/**
 * Reference log-probs computed once and cached on disk, keyed by the content of the model and of
 * the data: SHA-256 of every weight's bytes (with names and shapes) and of the tokenized data.
 * Any change of a weight or a token id gives a new key, so a stale cache is never read; the same
 * model and data reuse the file across runs (TRL's `precompute_ref_log_probs`, kept across runs
 * as users ask in huggingface/trl#3985).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { scoresWithoutTape } from "./parallel.ts";
import { encodeSafetensors, readSafetensors } from "../models/safetensors.ts";
import type { PairScores, PreferenceScorer, TrainData } from "../core/scores.ts";

/** Per-pair reference scores by data position. */
export interface ReferenceLogps {
  /** `ℓref(y_w)` of each position. */
  chosen: Float32Array;
  /** `ℓref(y_l)` of each position. */
  rejected: Float32Array;
  /** KTO: reference log-prob of each position's mismatched completion (when the scorer gives one). */
  kl?: Float32Array;
}

/** What {@link cachedReferenceLogps} found or computed. */
export interface CachedReference extends ReferenceLogps {
  /** Cache key: hex SHA-256 of the model hash and the data hash. */
  key: string;
  /** True when the values were read from the cache. */
  hit: boolean;
  /** The cache file (absent when no cache directory was given). */
  path?: string;
}

/** Options of {@link cachedReferenceLogps}. */
export interface ReferenceCacheOptions {
  /** Cache directory; without it values are computed and not stored. */
  cacheDir?: string;
  /** Pairs scored per forward pass (default 16). */
  batchSize?: number;
  /** Stop between batches once aborted (throws the signal's reason): SIGINT during a long run. */
  signal?: AbortSignal;
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
}

/**
 * Hex SHA-256 identifying a model's weights: each variable's name, shape, dtype and value bytes
 * are hashed separately (so a large model is never copied whole) and the digests hashed together.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { hashWeights } from "./ref_cache.ts";
 * const w = tf.variable(tf.tensor1d([1, 2]));
 * console.log((await hashWeights([w], ["w"])).length); // 64
 * ```
 */
export async function hashWeights(vars: readonly tf.Variable[], names?: string[]): Promise<string> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (let i = 0; i < vars.length; i++) {
    const v = vars[i];
    const head = enc.encode(`${names?.[i] ?? i}|${v.dtype}|${v.shape.join(",")}|`);
    const data = (await v.data()) as Float32Array | Int32Array;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const buf = new Uint8Array(head.length + bytes.length);
    buf.set(head);
    buf.set(bytes, head.length);
    parts.push(await sha256(buf));
  }
  const all = new Uint8Array(32 * parts.length);
  parts.forEach((p, i) => all.set(p, 32 * i));
  return hex((await sha256(all)).buffer as ArrayBuffer);
}

/**
 * Hex SHA-256 of a dataset's {@link TrainData.fingerprint} (its tokenized content).
 *
 * @example
 * ```ts
 * import { hashData } from "./ref_cache.ts";
 * import { toyData } from "../train/train_data.ts";
 * console.log((await hashData(toyData({ prompt: [0], chosen: [1], rejected: [2] }))).length); // 64
 * ```
 */
export async function hashData<B>(data: TrainData<B>): Promise<string> {
  const fp = data.fingerprint();
  return hex((await sha256(fp)).buffer as ArrayBuffer);
}

/** The positions of each scoring batch, in order. */
function batchesOf(size: number, batchSize: number | undefined): number[][] {
  const bs = batchSize ?? 16;
  if (!(Number.isInteger(bs) && bs > 0)) {
    throw new RangeError(`batchSize must be a positive integer, got ${bs}`);
  }
  const out: number[][] = [];
  for (let start = 0; start < size; start += bs) {
    out.push(Array.from({ length: Math.min(bs, size - start) }, (_, i) => start + i));
  }
  return out;
}

/** The score vectors the cache keeps: chosen, rejected and (KTO) mismatched-completion ones. */
function kept(s: PairScores): tf.Tensor1D[] {
  return s.klPolicy
    ? [s.policyChosen, s.policyRejected, s.klPolicy]
    : [s.policyChosen, s.policyRejected];
}

/** The score tensors one batch contributes, kept past the tidy that computed them. */
function scoreBatch<B>(scorer: PreferenceScorer<B, unknown>, batch: B): tf.Tensor1D[] {
  return tf.tidy(() => kept(scorer.scores(batch)));
}

/** {@link scoreBatch}, on both threads when the scorer is data-parallel (lib/scoring/parallel.ts). */
async function scoreBatchAsync<B>(
  scorer: PreferenceScorer<B, unknown>,
  batch: B,
): Promise<tf.Tensor1D[]> {
  const s = await scoresWithoutTape(scorer, batch);
  const out = kept(s).map((t) => tf.clone(t));
  tf.dispose(s as unknown as tf.TensorContainer);
  return out;
}

function collect(size: number, rows: { start: number; values: ArrayLike<number>[] }[]) {
  const chosen = new Float32Array(size);
  const rejected = new Float32Array(size);
  let kl: Float32Array | undefined;
  for (const { start, values: [c, r, k] } of rows) {
    chosen.set(c, start);
    rejected.set(r, start);
    if (k) (kl ??= new Float32Array(size)).set(k, start);
  }
  return kl ? { chosen, rejected, kl } : { chosen, rejected };
}

/**
 * Score every pair of a dataset once under a model, without gradients, in position order.
 * Reads synchronously, which only the cpu and wasm backends allow; on webgpu use
 * {@link computeReferenceLogpsAsync} (same values).
 *
 * @example
 * ```ts ignore
 * const ref = computeReferenceLogps(scorer, data, { batchSize: 8 });
 * console.log(ref.chosen[0], ref.rejected[0]);
 * ```
 */
export function computeReferenceLogps<B>(
  scorer: PreferenceScorer<B, unknown>,
  data: TrainData<B>,
  opts: { batchSize?: number } = {},
): ReferenceLogps {
  const rows = batchesOf(data.size, opts.batchSize).map((positions) => {
    const ts = scoreBatch(scorer, data.batch(positions));
    try {
      return { start: positions[0], values: ts.map((t) => t.dataSync()) };
    } finally {
      tf.dispose(ts);
    }
  });
  return collect(data.size, rows);
}

/**
 * {@link computeReferenceLogps} on any backend: each batch's scores are read back
 * asynchronously.
 *
 * @example
 * ```ts ignore
 * const ref = await computeReferenceLogpsAsync(scorer, data, { batchSize: 8 });
 * console.log(ref.chosen[0], ref.rejected[0]);
 * ```
 */
export async function computeReferenceLogpsAsync<B>(
  scorer: PreferenceScorer<B, unknown>,
  data: TrainData<B>,
  opts: { batchSize?: number; signal?: AbortSignal } = {},
): Promise<ReferenceLogps> {
  const rows: { start: number; values: ArrayLike<number>[] }[] = [];
  for (const positions of batchesOf(data.size, opts.batchSize)) {
    if (opts.signal) {
      // Signal handlers run only when the event loop turns; a batch may finish in promise
      // callbacks alone.
      await new Promise((r) => setTimeout(r, 0));
      opts.signal.throwIfAborted();
    }
    const ts = await scoreBatchAsync(scorer, data.batch(positions));
    try {
      rows.push({ start: positions[0], values: await Promise.all(ts.map((t) => t.data())) });
    } finally {
      tf.dispose(ts);
    }
  }
  return collect(data.size, rows);
}

/**
 * Reference log-probs of a dataset under a model, read from the cache when the same weights and
 * data were scored before, otherwise computed (and stored when `cacheDir` is given). The file is
 * `<cacheDir>/<key>.safetensors` holding `chosen` and `rejected` f32 vectors.
 *
 * @example
 * ```ts ignore
 * const ref = await cachedReferenceLogps(scorer, data, { cacheDir: "/tmp/ref-cache" });
 * console.log(ref.hit ? "cache hit" : "computed", ref.key.slice(0, 12));
 * ```
 */
export async function cachedReferenceLogps<B>(
  scorer: PreferenceScorer<B, unknown>,
  data: TrainData<B>,
  opts: ReferenceCacheOptions = {},
): Promise<CachedReference> {
  const vars = scorer.variables();
  const names = scorer.variableNames?.() ?? vars.map((v) => v.name);
  const modelHash = await hashWeights(vars, names);
  const dataHash = await hashData(data);
  const key = hex(
    (await sha256(new TextEncoder().encode(`${modelHash}:${dataHash}:${data.size}`)))
      .buffer as ArrayBuffer,
  );
  if (!opts.cacheDir) {
    return { ...(await computeReferenceLogpsAsync(scorer, data, opts)), key, hit: false };
  }
  const path = `${opts.cacheDir.replace(/\/$/, "")}/${key}.safetensors`;
  try {
    const t = await readSafetensors(path);
    const chosen = t.get("chosen")?.values, rejected = t.get("rejected")?.values;
    const kl = t.get("kl")?.values;
    if (chosen?.length === data.size && rejected?.length === data.size) {
      return { chosen, rejected, ...(kl ? { kl } : {}), key, hit: true, path };
    }
  } catch (e) {
    // Absent or unreadable (e.g. a write cut short): recompute and overwrite below.
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof RangeError)) throw e;
  }
  const ref = await computeReferenceLogpsAsync(scorer, data, opts);
  await writeReferenceFile(path, ref, { model: modelHash, data: dataHash });
  return { ...ref, key, hit: false, path };
}

/**
 * Write reference log-probs as a safetensors file (atomically: a temporary file is renamed).
 *
 * @example
 * ```ts
 * import { readReferenceFile, writeReferenceFile } from "./ref_cache.ts";
 * const path = (await Deno.makeTempDir()) + "/ref.safetensors";
 * await writeReferenceFile(path, { chosen: new Float32Array([-1]), rejected: new Float32Array([-2]) });
 * console.log((await readReferenceFile(path)).rejected[0]); // -2
 * ```
 */
export async function writeReferenceFile(
  path: string,
  ref: ReferenceLogps,
  metadata: Record<string, string> = {},
): Promise<void> {
  const dir = path.slice(0, Math.max(0, path.lastIndexOf("/")));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const tensors = new Map([
    ["chosen", { shape: [ref.chosen.length], values: ref.chosen }],
    ["rejected", { shape: [ref.rejected.length], values: ref.rejected }],
  ]);
  if (ref.kl) tensors.set("kl", { shape: [ref.kl.length], values: ref.kl });
  const bytes = encodeSafetensors(
    tensors,
    { metadata: { format: "dpo-lab-reference-logps", ...metadata } },
  );
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}

/**
 * Read a file written by {@link writeReferenceFile}.
 *
 * @example
 * ```ts ignore
 * const ref = await readReferenceFile("run/reference_logps.safetensors");
 * ```
 */
export async function readReferenceFile(path: string): Promise<ReferenceLogps> {
  const t = await readSafetensors(path);
  const chosen = t.get("chosen")?.values, rejected = t.get("rejected")?.values;
  if (!chosen || !rejected) throw new TypeError(`${path}: lacks 'chosen' or 'rejected' tensors`);
  const kl = t.get("kl")?.values;
  return kl ? { chosen, rejected, kl } : { chosen, rejected };
}
