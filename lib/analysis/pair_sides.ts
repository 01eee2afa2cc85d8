/**
 * One-row probe batches of a pair's chosen and rejected responses, for the gradient-alignment
 * tracker's `sides` option on causal LMs (each backward pass then runs one row, not two).
 *
 * @module
 */
import { collateProbes, type ProbeBatch, type TokenizedPair } from "../data/mod.ts";
import type { PairSides } from "./gradient_alignment.ts";

/**
 * For data whose position `p` is `pairs[p]` (e.g. `preferenceData(pairs, { padId })`):
 * position → its chosen and its rejected response, each collated as a one-row
 * {@link ProbeBatch} laid out like the pair's own rows, so `lmScorer(model).logps` gives the pair's `l_w` and `l_l`.
 *
 * @example
 * ```ts
 * import { pairSides } from "./pair_sides.ts";
 * const sides = pairSides([{ index: 7, promptIds: [1], chosenIds: [2, 3], rejectedIds: [4] }], 0);
 * const s = sides(0);
 * console.log(s.chosen.rows, Array.from(s.rejected.inputIds).join(), s.chosen.index[0]); // 1 1,4 7
 * ```
 */
export function pairSides(
  pairs: readonly TokenizedPair[],
  padId: number,
): (position: number) => PairSides<ProbeBatch> {
  return (position) => {
    const p = pairs[position];
    if (!p) throw new RangeError(`pairSides: position ${position} outside [0, ${pairs.length})`);
    const side = (name: string, completionIds: number[]) =>
      collateProbes([{ index: p.index, name, promptIds: p.promptIds, completionIds }], padId);
    return {
      chosen: side("chosen", p.chosenIds),
      rejected: side("rejected", p.rejectedIds),
      lengths: { chosen: p.chosenIds.length, rejected: p.rejectedIds.length },
    };
  };
}
