/**
 * CHES, the centered hidden embedding similarity of Razin et al. (arXiv 2410.08847,
 * Definitions 2 and 3): how alike the preferred and dispreferred responses look to the model,
 * and so how likely DPO is to push the preferred response's probability down.
 *
 * With `S+` the sum of the final hidden states (the unembedding's input) that predict each
 * token of y+, and `S-` the same for y-:
 *
 *   CHES  = <S+, S-> - ||S+||^2
 *   CHES~ = <S+, S->/(|y+| |y-|) - ||S+||^2/|y+|^2        (length-normalised)
 *
 * Positions: in a row `prompt ++ completion` with P prompt tokens and n completion tokens
 * (EOS included, as our tokenizer appends it), completion token k (k = 1..n) sits at position
 * P + k - 1 and is predicted by the state at P + k - 2, so `S = sum of hidden[P-1 .. P+n-2]`:
 * from the last prompt token through the state before the last completion token. The state
 * at the EOS position itself predicts nothing and is left out, as in the paper's code.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "../models/types.ts";
import type { PreferenceBatch, TokenizedPair } from "../data/types.ts";
import { collate } from "../data/collate.ts";
import { chesOnThreads, type ChesThreadOptions, chesThreads } from "./ches_parallel.ts";

/** CHES of one pair, with the lengths it was computed from. */
export interface ChesScore {
  /** `TokenizedPair.index`: the pair's row in its source file. */
  index: number;
  /** `<S+, S-> - ||S+||^2`. */
  ches: number;
  /** `<S+, S->/(|y+||y-|) - ||S+||^2/|y+|^2`. */
  chesNormalized: number;
  /** The score asked for: `chesNormalized` with `lengthNormalized`, else `ches`. */
  score: number;
  promptLength: number;
  /** |y+|, EOS included. */
  chosenLength: number;
  /** |y-|, EOS included. */
  rejectedLength: number;
}

/**
 * CHES and length-normalised CHES from the two hidden-state sums, in float64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chesFromSums } from "./ches.ts";
 * // <S+, S-> = 1, ||S+||^2 = 1: CHES = 0; normalised 1/(1*2) - 1/1 = -0.5.
 * const c = chesFromSums([1, 0], [1, 1], { chosenLength: 1, rejectedLength: 2 });
 * assert.deepEqual([c.ches, c.chesNormalized], [0, -0.5]);
 * ```
 */
export function chesFromSums(
  sPlus: ArrayLike<number>,
  sMinus: ArrayLike<number>,
  lengths: { chosenLength: number; rejectedLength: number },
): { ches: number; chesNormalized: number } {
  if (sPlus.length !== sMinus.length) {
    throw new RangeError(`S+ has ${sPlus.length} entries but S- has ${sMinus.length}`);
  }
  const np = lengths.chosenLength, nm = lengths.rejectedLength;
  for (const [k, v] of [["chosenLength", np], ["rejectedLength", nm]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k}: ${v} is not a positive count`);
  }
  let cross = 0, self = 0;
  for (let j = 0; j < sPlus.length; j++) {
    cross += sPlus[j] * sMinus[j];
    self += sPlus[j] * sPlus[j];
  }
  return { ches: cross - self, chesNormalized: cross / (np * nm) - self / (np * np) };
}

/**
 * Per-row sums of the hidden states that predict the completion tokens: row r sums
 * `hidden[r, P_r - 1 .. P_r + n_r - 2]`. Returns float64 vectors, one per row.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { completionStateSums } from "./ches.ts";
 * const hidden = tf.tensor3d([[[1, 0], [0, 1], [2, 2], [9, 9]]]); // one row, T = 4, d = 2
 * // prompt of 2 tokens, completion of 2: states at positions 1 and 2
 * const sums = await completionStateSums(hidden, { promptLength: [2], completionLength: [2] });
 * console.log(sums[0]); // Float64Array [2, 3]
 * ```
 */
export async function completionStateSums(
  hidden: tf.Tensor3D,
  layout: { promptLength: readonly number[]; completionLength: readonly number[] },
): Promise<Float64Array[]> {
  const [rows, T, d] = hidden.shape;
  if (layout.promptLength.length !== rows || layout.completionLength.length !== rows) {
    throw new RangeError(
      `hidden has ${rows} rows but the layout has ${layout.promptLength.length} prompt and ` +
        `${layout.completionLength.length} completion lengths`,
    );
  }
  const mask = new Float32Array(rows * T);
  for (let r = 0; r < rows; r++) {
    const p = layout.promptLength[r], n = layout.completionLength[r];
    if (!Number.isInteger(p) || p < 1) {
      throw new RangeError(`row ${r}: promptLength ${p}; CHES needs at least one prompt token`);
    }
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`row ${r}: completionLength ${n}; CHES needs a completion token`);
    }
    if (p + n > T) throw new RangeError(`row ${r}: ${p} + ${n} tokens exceed the length ${T}`);
    mask.fill(1, r * T + p - 1, r * T + p + n - 1);
  }
  const sums = tf.tidy(() =>
    tf.reshape(tf.matMul(tf.tensor3d(mask, [rows, 1, T]), hidden), [rows, d])
  );
  let flat: Float32Array;
  try {
    flat = (await sums.data()) as Float32Array;
  } finally {
    sums.dispose();
  }
  return Array.from({ length: rows }, (_, r) => Float64Array.from(flat.subarray(r * d, r * d + d)));
}

/** Options of {@link chesScores} and {@link chesFromBatch}. */
export interface ChesOptions {
  /** Put the length-normalised CHES (Definition 3) in `score` (default false: plain CHES). */
  lengthNormalized?: boolean;
}

/**
 * CHES of every pair of a collated {@link PreferenceBatch} (rows: chosen then rejected), from
 * one forward pass.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { collate } from "../data/collate.ts";
import { chesOnThreads, type ChesThreadOptions, chesThreads } from "./ches_parallel.ts";
 * import { chesFromBatch } from "./ches.ts";
 * const model = createGPT2({ vocab_size: 32, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2 });
 * const batch = collate([{ index: 0, promptIds: [1, 2], chosenIds: [3, 0], rejectedIds: [4, 5, 0] }], 0);
 * console.log((await chesFromBatch(model, batch))[0].chosenLength); // 2
 * model.dispose();
 * ```
 */
export async function chesFromBatch(
  model: CausalLM,
  batch: PreferenceBatch,
  opts: ChesOptions = {},
): Promise<ChesScore[]> {
  const B = batch.size, T = batch.length;
  if (batch.inputIds.length !== 2 * B * T) {
    throw new RangeError(`batch: inputIds has ${batch.inputIds.length} ids, expected 2*${B}*${T}`);
  }
  const hidden = tf.tidy(() => {
    const ids = tf.tensor2d(batch.inputIds, [2 * B, T], "int32");
    const attentionMask = tf.tensor2d(batch.attentionMask, [2 * B, T]);
    // CHES reads hidden states only: one position's logits instead of [2B*T, V].
    const logitsAt = tf.tensor1d([0], "int32");
    const out = model.forward(ids, { attentionMask, hidden: true, logitsAt });
    if (!out.hidden) throw new TypeError(`model ${model.kind}: forward returned no hidden states`);
    out.logits.dispose();
    return out.hidden;
  });
  let sums: Float64Array[];
  try {
    sums = await completionStateSums(hidden, batch);
  } finally {
    hidden.dispose();
  }
  const out: ChesScore[] = [];
  for (let i = 0; i < B; i++) {
    const chosenLength = batch.completionLength[i], rejectedLength = batch.completionLength[B + i];
    if (batch.promptLength[i] !== batch.promptLength[B + i]) {
      throw new RangeError(
        `pair ${batch.pairIndex[i]}: chosen and rejected rows have different prompt lengths`,
      );
    }
    const c = chesFromSums(sums[i], sums[B + i], { chosenLength, rejectedLength });
    out.push({
      index: batch.pairIndex[i],
      ...c,
      score: opts.lengthNormalized ? c.chesNormalized : c.ches,
      promptLength: batch.promptLength[i],
      chosenLength,
      rejectedLength,
    });
  }
  return out;
}

/** Options of {@link chesScores}. */
export interface ChesScoresOptions extends ChesOptions, ChesThreadOptions {
  /** Pairs per forward pass (default 8). */
  batchSize?: number;
  /** Padding id (default 0; padding never reaches a summed state, so any id works). */
  padId?: number;
  /**
   * Batch pairs of similar length together to waste less compute on padding (default true).
   * Scores do not depend on it: results come back in input order either way.
   */
  sortByLength?: boolean;
  /**
   * Pad each batch's length up to a multiple of this (default 16, never past the model's
   * `n_positions`/`max_position_embeddings`), so backends that compile per shape (WebGPU)
   * see few distinct shapes. Padding never reaches a summed state.
   */
  padMultiple?: number;
  /** Called after each batch with the number of pairs done (progress reports). */
  onBatch?: (done: number, total: number) => void;
}

/**
 * CHES (and length-normalised CHES) of every pair, batched with right padding; the result is
 * in input order, one entry per pair, and equals what each pair alone would give. Reads
 * results back asynchronously, so it runs on every backend (WebGPU included).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { chesScores } from "./ches.ts";
 * const model = createGPT2({ vocab_size: 32, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2 });
 * const pairs = [
 *   { index: 0, promptIds: [1, 2], chosenIds: [3, 0], rejectedIds: [4, 5, 0] },
 *   { index: 1, promptIds: [7], chosenIds: [8, 9, 0], rejectedIds: [8, 0] },
 * ];
 * const scores = await chesScores(model, pairs, { lengthNormalized: true });
 * console.log(scores.map((s) => s.index)); // [0, 1]
 * model.dispose();
 * ```
 */
export async function chesScores(
  model: CausalLM,
  pairs: readonly TokenizedPair[],
  opts: ChesScoresOptions = {},
): Promise<ChesScore[]> {
  const out = new Array<ChesScore>(pairs.length);
  if (chesThreads(model, opts).threads === 2 && pairs.length >= 2) {
    // One batch would leave the second thread idle: cut it in two.
    const size = Math.min(opts.batchSize ?? 8, Math.ceil(pairs.length / 2));
    const plan = [...chesBatches(model, pairs, { ...opts, batchSize: size })];
    const scores = await chesOnThreads(
      model,
      plan.map((p) => p.batch),
      (batch) => chesFromBatch(model, batch, opts),
      { lengthNormalized: opts.lengthNormalized },
    );
    plan.forEach(({ positions, done }, i) => {
      scores[i].forEach((score, j) => out[positions[j]] = score);
      opts.onBatch?.(done, pairs.length);
    });
    return out;
  }
  for (const { positions, batch, done } of chesBatches(model, pairs, opts)) {
    (await chesFromBatch(model, batch, opts)).forEach((score, j) => out[positions[j]] = score);
    opts.onBatch?.(done, pairs.length);
  }
  return out;
}

/** One batch of {@link chesBatches}. */
export interface ChesBatch {
  /** Input positions of the batch's pairs, in batch order. */
  positions: number[];
  /** The collated batch (rows: chosen then rejected). */
  batch: PreferenceBatch;
  /** Pairs handed out so far, this batch included. */
  done: number;
}

/**
 * The batches {@link chesScores} runs: pairs checked (non-empty prompt and completions), sorted
 * by length unless `sortByLength` is false, cut into `batchSize` chunks and right-padded to a
 * multiple of `padMultiple` within the model's position limit. Shared by every per-pair
 * analysis of hidden states so that all batch alike.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { chesBatches } from "./ches.ts";
 * const model = createGPT2({ vocab_size: 32, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2 });
 * const pairs = [
 *   { index: 0, promptIds: [1, 2, 3], chosenIds: [3, 0], rejectedIds: [4, 5, 0] },
 *   { index: 1, promptIds: [7], chosenIds: [8, 0], rejectedIds: [8, 0] },
 * ];
 * const plan = [...chesBatches(model, pairs, { batchSize: 1 })];
 * console.log(plan.map((b) => b.positions), plan[0].batch.length); // [[1], [0]] 16
 * model.dispose();
 * ```
 */
export function* chesBatches(
  model: CausalLM,
  pairs: readonly TokenizedPair[],
  opts: ChesScoresOptions = {},
): Generator<ChesBatch> {
  const size = opts.batchSize ?? 8;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`batchSize: ${opts.batchSize} is not a positive integer`);
  }
  pairs.forEach((p, i) => {
    const where = `pair ${p.index ?? i}`;
    if (!p.promptIds?.length) throw new RangeError(`${where}: empty prompt (CHES needs one token)`);
    if (!p.chosenIds?.length) throw new RangeError(`${where}: empty chosen completion`);
    if (!p.rejectedIds?.length) throw new RangeError(`${where}: empty rejected completion`);
  });
  const multiple = opts.padMultiple ?? 16;
  if (!Number.isInteger(multiple) || multiple < 1) {
    throw new RangeError(`padMultiple: ${opts.padMultiple} is not a positive integer`);
  }
  const limit = positionLimit(model.config);
  const rowLength = (p: TokenizedPair) =>
    p.promptIds.length + Math.max(p.chosenIds.length, p.rejectedIds.length);
  const order = Array.from(pairs.keys());
  if (opts.sortByLength ?? true) order.sort((a, b) => rowLength(pairs[a]) - rowLength(pairs[b]));
  for (let s = 0; s < order.length; s += size) {
    const chunk = order.slice(s, s + size);
    const longest = Math.max(...chunk.map((i) => rowLength(pairs[i])));
    const padded = Math.ceil(longest / multiple) * multiple;
    const length = limit === undefined ? padded : Math.max(longest, Math.min(padded, limit));
    const batch = collate(chunk.map((i) => pairs[i]), opts.padId ?? 0, { length });
    yield { positions: chunk, batch, done: Math.min(s + size, order.length) };
  }
}

function positionLimit(config: Readonly<Record<string, unknown>>): number | undefined {
  for (const k of ["n_positions", "max_position_embeddings"]) {
    const v = config[k];
    if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}
