/**
 * TRL's `sft` loss type: the NLL of the chosen completion, usually added to another objective.
 *
 * @module
 */
import { defineObjective } from "../define.ts";
import { NLL_MODE } from "../params.ts";
import { nll, type NllMode } from "../scores.ts";
import type { Objective } from "../types.ts";

/** Parameters of {@link sft}. */
export interface SftParams {
  /** Normalisation of the NLL; default "batch" (TRL's token-mean over the whole batch). */
  nll?: NllMode;
}

/**
 * SFT / NLL term, TRL `sft`: cross-entropy of the chosen completion. Default `nll: "batch"`:
 * every slot holds `−Σ_i ℓθ(y_w,i) / Σ_i |y_w,i|`, TRL's token-mean over all chosen tokens of
 * the batch, so `mean(losses)` equals it and the objective is batch-coupled. This needs no
 * per-token data: with `policyChosen` the masked sum of token log-probs and `chosenLength` the
 * token count it is exact, not an approximation. `"token"` (per-pair mean) and `"sum"` are
 * per-pair alternatives. Never reads the reference.
 *
 * @example
 * ```ts
 * import { sft } from "./sft.ts";
 * console.log(sft().batchCoupled, sft({ nll: "token" }).batchCoupled); // true false
 * ```
 */
export function sft(params: SftParams = {}): Objective {
  return defineObjective({
    name: "sft",
    specs: { nll: { ...NLL_MODE, default: "batch" } },
    needsReference: () => false,
    batchCoupled: (p) => p.nll === "batch",
    loss: (scores, p) => nll(scores, p.nll),
  }, params as Record<string, unknown>);
}
