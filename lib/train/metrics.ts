/**
 * The per-pair arithmetic behind the logged metrics, on plain numbers. Definitions follow TRL's
 * `DPOTrainer` (objectives.md §1.5), with the batch mean taken over *every pair of the
 * accumulation window* — not a mean of micro-batch means, which weights pairs unevenly when the
 * last micro-batch of a window is smaller (huggingface/trl#7047), and not the last micro-batch.
 *
 * - `rewards/chosen = mean(β(ℓθ(y_w) − ℓref(y_w)))`, `rewards/rejected` likewise;
 * - `rewards/margins = mean(β(u_w − u_l))`, `rewards/accuracies = mean(1[β u_w > β u_l])`
 *   (strict), where `u = ℓθ − ℓref`; without a reference `u = ℓθ` (TRL's reference-free
 *   trainers);
 * - `logps/chosen = mean(ℓθ(y_w))`, `logps/rejected = mean(ℓθ(y_l))`: *summed* completion-token
 *   log-probs (TRL's docs say "average", its code sums);
 * - `loss = mean(per-pair loss)`: exactly the quantity whose gradient the step took.
 *
 * @module
 */
import type { Metrics, PairValues } from "./types.ts";

/** Per-pair implicit rewards `β·u` and margins. */
export interface PairRewards {
  chosen: number[];
  rejected: number[];
  margin: number[];
}

/**
 * Implicit rewards of each pair: `β(ℓθ − ℓref)` (or `β·ℓθ` without reference scores).
 *
 * @example
 * ```ts
 * import { pairRewards } from "./metrics.ts";
 * const r = pairRewards({ pairIndex: [0], policyChosen: [-1], policyRejected: [-3],
 *   refChosen: [-2], refRejected: [-2], chosenLength: [1], rejectedLength: [1], losses: [0] }, 0.1);
 * console.log(r.chosen[0], r.rejected[0], r.margin[0]); // ~0.1 ~-0.1 ~0.2
 * ```
 */
export function pairRewards(values: PairValues, beta: number): PairRewards {
  const n = values.pairIndex.length;
  const chosen = new Array<number>(n), rejected = new Array<number>(n), margin = new Array(n);
  for (let i = 0; i < n; i++) {
    chosen[i] = beta * (values.policyChosen[i] - (values.refChosen?.[i] ?? 0));
    rejected[i] = beta * (values.policyRejected[i] - (values.refRejected?.[i] ?? 0));
    margin[i] = chosen[i] - rejected[i];
  }
  return { chosen, rejected, margin };
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : NaN;
}

/**
 * TRL's metrics over a set of pairs, every pair weighted equally (see the module docs).
 *
 * @example Two micro-batches of 3 and 1 pairs form one window: the mean is over 4 pairs
 * ```ts
 * import { concatPairs, pairMetrics } from "./metrics.ts";
 * const mb = (l: number[]) => ({ pairIndex: l.map((_, i) => i), policyChosen: l.map(() => 0),
 *   policyRejected: l.map(() => 0), chosenLength: l.map(() => 1), rejectedLength: l.map(() => 1), losses: l });
 * console.log(pairMetrics(concatPairs([mb([1, 1, 1]), mb([5])]), 0.1).loss); // 2
 * ```
 */
export function pairMetrics(values: PairValues, beta: number): Metrics {
  const r = pairRewards(values, beta);
  let acc = 0;
  for (let i = 0; i < r.chosen.length; i++) if (r.chosen[i] > r.rejected[i]) acc++;
  return {
    loss: mean(values.losses),
    "rewards/chosen": mean(r.chosen),
    "rewards/rejected": mean(r.rejected),
    "rewards/margins": mean(r.margin),
    "rewards/accuracies": r.chosen.length ? acc / r.chosen.length : NaN,
    "logps/chosen": mean(values.policyChosen),
    "logps/rejected": mean(values.policyRejected),
  };
}

/**
 * Concatenate the per-pair values of several micro-batches (in order).
 *
 * @example
 * ```ts
 * import { concatPairs } from "./metrics.ts";
 * const a = { pairIndex: [0], policyChosen: [-1], policyRejected: [-2], chosenLength: [1], rejectedLength: [1], losses: [0.5] };
 * console.log(concatPairs([a, a]).losses); // [0.5, 0.5]
 * ```
 */
export function concatPairs(parts: readonly PairValues[]): PairValues {
  const cat = (k: keyof PairValues) => parts.flatMap((p) => p[k] ?? []);
  const hasRef = parts.length > 0 && parts.every((p) => p.refChosen && p.refRejected);
  return {
    pairIndex: cat("pairIndex"),
    policyChosen: cat("policyChosen"),
    policyRejected: cat("policyRejected"),
    ...(hasRef ? { refChosen: cat("refChosen"), refRejected: cat("refRejected") } : {}),
    chosenLength: cat("chosenLength"),
    rejectedLength: cat("rejectedLength"),
    losses: cat("losses"),
  };
}
