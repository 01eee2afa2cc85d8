/**
 * Token edit distance between two responses: the baseline that CHES is compared with in
 * arXiv 2410.08847 (section 5), where pairs are ranked by how much the preferred and
 * dispreferred responses differ on the surface rather than in the model's hidden states.
 *
 * @module
 */

/** A sequence of tokens: token ids, strings, or any values compared with `===`. */
export type TokenSequence<T = number> = ArrayLike<T>;

/**
 * Levenshtein distance: the fewest single-token insertions, deletions and substitutions that
 * turn `a` into `b`. O(|a| |b|) time, O(min(|a|, |b|)) memory.
 *
 * @example
 * ```ts
 * import { editDistance } from "./edit_distance.ts";
 * console.log(editDistance([1, 2, 3, 4], [1, 3, 4, 5])); // 2 (delete 2, insert 5)
 * console.log(editDistance("kitten", "sitting")); // 3
 * ```
 */
export function editDistance<T>(a: TokenSequence<T>, b: TokenSequence<T>): number {
  // Keep the shorter sequence along the row so the row is as small as possible.
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  const n = short.length;
  let prev = new Int32Array(n + 1), cur = new Int32Array(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= long.length; i++) {
    cur[0] = i;
    const x = long[i - 1];
    for (let j = 1; j <= n; j++) {
      const sub = prev[j - 1] + (x === short[j - 1] ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n];
}

/**
 * Edit distance divided by the longer sequence's length, in [0, 1]: 0 for identical
 * sequences, 1 when no token can be kept in place (two empty sequences give 0). For
 * tokenized completions that end with the same EOS, the shared EOS counts as one kept token.
 *
 * @example
 * ```ts
 * import { normalizedEditDistance } from "./edit_distance.ts";
 * console.log(normalizedEditDistance([1, 2, 3, 4], [1, 3, 4, 5])); // 0.5
 * console.log(normalizedEditDistance([7, 8], [9])); // 1
 * ```
 */
export function normalizedEditDistance<T>(a: TokenSequence<T>, b: TokenSequence<T>): number {
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 0 : editDistance(a, b) / longest;
}
