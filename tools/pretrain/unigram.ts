/**
 * The unigram baseline a pretrained model must beat: every token predicted from its training
 * frequency alone, ignoring context.
 *
 * Definition (add-one smoothing): with `c(v)` the count of token v in the training stream,
 * `N` the stream length and `V` the vocabulary size, `p(v) = (c(v) + 1) / (N + V)`. Its loss on
 * target tokens `y_1..y_M` is the mean `-(1/M) sum_i ln p(y_i)` in nats, and its perplexity is
 * `exp(loss)`.
 *
 * @module
 */

/** Loss in nats per token and its perplexity. */
export interface LossReport {
  /** Mean token cross-entropy in nats. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Number of target tokens averaged over. */
  tokens: number;
}

/**
 * Count each token id in a stream.
 *
 * @example
 * ```ts
 * import { unigramCounts } from "./unigram.ts";
 * console.log(Array.from(unigramCounts([0, 2, 2], 3))); // [1, 0, 2]
 * ```
 */
export function unigramCounts(stream: ArrayLike<number>, vocabSize: number): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (let i = 0; i < stream.length; i++) {
    const id = stream[i];
    if (!(id >= 0 && id < vocabSize)) {
      throw new RangeError(`token id ${id} at position ${i} is outside [0, ${vocabSize})`);
    }
    counts[id]++;
  }
  return counts;
}

/**
 * Add-one-smoothed unigram loss of `targets` under training counts (see module docs).
 *
 * @example
 * ```ts
 * import { unigramCounts, unigramLoss } from "./unigram.ts";
 * const counts = unigramCounts([0, 0, 1], 2); // p = (3/5, 2/5)
 * console.log(unigramLoss(counts, [0]).loss); // -ln(0.6) = 0.5108...
 * ```
 */
export function unigramLoss(counts: Float64Array, targets: ArrayLike<number>): LossReport {
  const V = counts.length;
  let n = 0;
  for (let i = 0; i < V; i++) n += counts[i];
  const logZ = Math.log(n + V);
  let sum = 0;
  for (let i = 0; i < targets.length; i++) {
    const id = targets[i];
    if (!(id >= 0 && id < V)) {
      throw new RangeError(`target id ${id} at position ${i} is outside [0, ${V})`);
    }
    sum += logZ - Math.log(counts[id] + 1);
  }
  if (targets.length === 0) throw new RangeError("unigramLoss needs at least one target");
  const loss = sum / targets.length;
  return { loss, perplexity: Math.exp(loss), tokens: targets.length };
}
