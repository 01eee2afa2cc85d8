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
 * - `loss = mean(per-pair loss)`: exactly the quantity whose gradient the step took;
 * - unpaired (KTO) rows: `rewards/chosen` and `logps/chosen` average over the rows that have a
 *   chosen (desirable) completion, `rewards/rejected` and `logps/rejected` likewise, `rewards/margins` is their difference,
 *   and `kl = mean(ℓθ − ℓref)` of the mismatched completions (TRL's KTO `kl`).
 *
 * @module
 */
import { TOKEN_STAT_KEYS, tokenStatMetrics, type TokenStatValues } from "../core/token_stats.ts";
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
  const pres = values.present;
  if (pres) {
    // Unpaired rows (KTO): each side averages over the rows that have it, as TRL's KTOTrainer
    // does; a margin and an accuracy exist only for rows holding both sides.
    const side = (xs: number[], mask: number[]) => mean(xs.filter((_, i) => mask[i] > 0));
    const both = r.chosen.flatMap((_, i) => pres.chosen[i] > 0 && pres.rejected[i] > 0 ? [i] : []);
    const out: Metrics = {
      loss: mean(values.losses),
      "rewards/chosen": side(r.chosen, pres.chosen),
      "rewards/rejected": side(r.rejected, pres.rejected),
      "rewards/margins": side(r.chosen, pres.chosen) - side(r.rejected, pres.rejected),
      "rewards/accuracies": both.length
        ? both.filter((i) => r.chosen[i] > r.rejected[i]).length / both.length
        : NaN,
      "logps/chosen": side(values.policyChosen, pres.chosen),
      "logps/rejected": side(values.policyRejected, pres.rejected),
    };
    if (values.kl) out.kl = mean(values.kl);
    return out;
  }
  let acc = 0;
  for (let i = 0; i < r.chosen.length; i++) if (r.chosen[i] > r.rejected[i]) acc++;
  const out: Metrics = {
    loss: mean(values.losses),
    "rewards/chosen": mean(r.chosen),
    "rewards/rejected": mean(r.rejected),
    "rewards/margins": mean(r.margin),
    "rewards/accuracies": r.chosen.length ? acc / r.chosen.length : NaN,
    "logps/chosen": mean(values.policyChosen),
    "logps/rejected": mean(values.policyRejected),
  };
  if (values.kl) out.kl = mean(values.kl);
  if (values.tokenStats) Object.assign(out, tokenMetrics(values));
  return out;
}

/** TRL's token metrics (token_stats.ts) except the running `num_tokens`, which the trainer keeps. */
function tokenMetrics(values: PairValues): Metrics {
  const { num_tokens: _, ...rest } = tokenStatMetrics({
    stats: values.tokenStats!,
    chosenLength: values.chosenLength,
    rejectedLength: values.rejectedLength,
  });
  return rest;
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
  type Column = Exclude<keyof PairValues, "present" | "tokenStats">;
  const cat = (k: Column) => parts.flatMap((p) => p[k] ?? []);
  const hasRef = parts.length > 0 && parts.every((p) => p.refChosen && p.refRejected);
  const hasPresent = parts.length > 0 && parts.every((p) => p.present);
  const hasKl = parts.length > 0 && parts.every((p) => p.kl);
  const hasStats = parts.length > 0 && parts.every((p) => p.tokenStats);
  return {
    ...(hasStats ? { tokenStats: concatStats(parts.map((p) => p.tokenStats!)) } : {}),
    ...(hasPresent
      ? {
        present: {
          chosen: parts.flatMap((p) => p.present!.chosen),
          rejected: parts.flatMap((p) => p.present!.rejected),
        },
      }
      : {}),
    ...(hasKl ? { kl: parts.flatMap((p) => p.kl!) } : {}),
    pairIndex: cat("pairIndex"),
    policyChosen: cat("policyChosen"),
    policyRejected: cat("policyRejected"),
    ...(hasRef ? { refChosen: cat("refChosen"), refRejected: cat("refRejected") } : {}),
    chosenLength: cat("chosenLength"),
    rejectedLength: cat("rejectedLength"),
    losses: cat("losses"),
  };
}

function concatStats(parts: readonly TokenStatValues[]): TokenStatValues {
  const out = {} as TokenStatValues;
  for (const k of TOKEN_STAT_KEYS) out[k] = parts.flatMap((p) => p[k]);
  return out;
}
