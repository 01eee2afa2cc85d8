/**
 * Token streams for language-model pretraining: documents encoded and joined with an
 * end-of-text token, deterministic random training windows, and fixed held-out windows.
 *
 * @module
 */
import { Rng } from "../../lib/core/mod.ts";

/**
 * Encode documents into one stream, each document followed by `eosId`, so the model learns
 * where texts end and a window that crosses a boundary sees the separator.
 *
 * @example
 * ```ts
 * import { encodeStream } from "./data.ts";
 * const encode = (t: string) => Array.from(t, (ch) => ch.charCodeAt(0) - 97);
 * const ids = encodeStream(["ab", "c"], { encode, eosId: 9 });
 * console.log(Array.from(ids)); // [0, 1, 9, 2, 9]
 * ```
 */
export function encodeStream(
  texts: readonly string[],
  opts: { encode: (text: string) => readonly number[]; eosId: number },
): Int32Array {
  const { encode, eosId } = opts;
  const parts: (readonly number[])[] = texts.map((t) => encode(t));
  const total = parts.reduce((n, p) => n + p.length + 1, 0);
  const out = new Int32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
    out[at++] = eosId;
  }
  return out;
}

/** A batch of next-token examples: row-major [rows, length] inputs and their targets. */
export interface LmBatch {
  rows: number;
  length: number;
  /** Token at position t of each row. */
  inputs: Int32Array;
  /** Token at position t + 1 of the stream, the one the model predicts at t. */
  targets: Int32Array;
}

/** Options of {@link sampleBatch}. */
export interface SampleBatchOptions {
  /** Rows per batch. */
  batchSize: number;
  /** Tokens per row. */
  seqLen: number;
  /** Run seed; together with the step it fixes the batch. */
  seed: number;
  /** Training step; batches depend on (seed, step) only, so a resumed run sees the same data. */
  step: number;
}

/**
 * Draw a training batch: `batchSize` windows of `seqLen + 1` tokens at uniformly random
 * offsets of the stream, from a generator seeded by (seed, step).
 *
 * @example
 * ```ts
 * import { sampleBatch } from "./data.ts";
 * const stream = Int32Array.from({ length: 100 }, (_, i) => i);
 * const b = sampleBatch(stream, { batchSize: 2, seqLen: 4, seed: 0, step: 0 });
 * console.log(b.targets[0] - b.inputs[0]); // 1
 * ```
 */
export function sampleBatch(stream: Int32Array, opts: SampleBatchOptions): LmBatch {
  const { batchSize, seqLen } = opts;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  if (!(Number.isInteger(seqLen) && seqLen > 0)) {
    throw new RangeError(`seqLen must be a positive integer, got ${seqLen}`);
  }
  if (stream.length < seqLen + 1) {
    throw new RangeError(`stream of ${stream.length} tokens is shorter than seqLen + 1`);
  }
  // Mix seed and step so neighbouring steps get unrelated generator states.
  const rng = new Rng(
    (Math.imul(opts.seed + 1, 0x9e3779b1) ^ Math.imul(opts.step, 0x85ebca6b)) | 0,
  );
  const inputs = new Int32Array(batchSize * seqLen);
  const targets = new Int32Array(batchSize * seqLen);
  const starts = stream.length - seqLen;
  for (let r = 0; r < batchSize; r++) {
    const s = Math.floor(rng.uniform() * starts);
    inputs.set(stream.subarray(s, s + seqLen), r * seqLen);
    targets.set(stream.subarray(s + 1, s + seqLen + 1), r * seqLen);
  }
  return { rows: batchSize, length: seqLen, inputs, targets };
}

/**
 * Cut a held-out stream into consecutive windows of `seqLen + 1` tokens overlapping by one,
 * so every token after the first is a target exactly once (the final partial window is
 * dropped). Each window is scored with a fresh context.
 *
 * @example
 * ```ts
 * import { evalWindows } from "./data.ts";
 * const w = evalWindows(Int32Array.from([0, 1, 2, 3, 4, 5, 6]), 3);
 * console.log(w.rows, Array.from(w.targets)); // 2 [1, 2, 3, 4, 5, 6]
 * ```
 */
export function evalWindows(stream: Int32Array, seqLen: number): LmBatch {
  if (!(Number.isInteger(seqLen) && seqLen > 0)) {
    throw new RangeError(`seqLen must be a positive integer, got ${seqLen}`);
  }
  const rows = Math.floor((stream.length - 1) / seqLen);
  const inputs = new Int32Array(rows * seqLen);
  const targets = new Int32Array(rows * seqLen);
  for (let r = 0; r < rows; r++) {
    const s = r * seqLen;
    inputs.set(stream.subarray(s, s + seqLen), r * seqLen);
    targets.set(stream.subarray(s + 1, s + seqLen + 1), r * seqLen);
  }
  return { rows, length: seqLen, inputs, targets };
}

/**
 * Rows `from` (inclusive) to `to` (exclusive) of a batch, sharing its memory.
 *
 * @example
 * ```ts
 * import { evalWindows, sliceRows } from "./data.ts";
 * const w = evalWindows(Int32Array.from([0, 1, 2, 3, 4, 5, 6]), 3);
 * console.log(Array.from(sliceRows(w, 1, 2).inputs)); // [3, 4, 5]
 * ```
 */
export function sliceRows(batch: LmBatch, from: number, to: number): LmBatch {
  const a = Math.max(0, from), b = Math.min(batch.rows, to);
  const n = batch.length;
  return {
    rows: Math.max(0, b - a),
    length: n,
    inputs: batch.inputs.subarray(a * n, b * n),
    targets: batch.targets.subarray(a * n, b * n),
  };
}
