/**
 * Shared pieces of the trainer tests: a small unconstrained-features toy model, single-token
 * pairs, the library's DPO objective, and helpers that compute log-probs by hand (float64) from
 * a model's distribution, so expected values never come from the code under test.
 *
 * @module
 */
import { dpo } from "../../lib/objectives/trl.ts";
import { createUnconstrainedFeatures, type UnconstrainedFeatures } from "../../lib/models/toy.ts";
import type { TrainObjective } from "../../lib/train/types.ts";

export const TOKENS = ["a", "b", "c", "d", "e"];

/** A 5-token, 4-prompt unconstrained-features model with seeded random weights. */
export function toyModel(seed = 1): UnconstrainedFeatures {
  return createUnconstrainedFeatures({ tokens: TOKENS, prompts: 4, dim: 3, seed });
}

/** Eight single-token pairs over the 4 prompts. */
export const PAIRS = {
  prompt: [0, 1, 2, 3, 0, 1, 2, 3],
  chosen: [0, 1, 2, 3, 4, 0, 1, 2],
  rejected: [1, 2, 3, 4, 0, 1, 2, 3],
};

/** The library's DPO (TRL sigmoid): loss = softplus(-beta * ((pc - rc) - (pr - rr))). */
export function dpoObjective(beta: number): TrainObjective {
  return dpo({ beta });
}

/** log pi(token | prompt) from the model's distribution, as a float64 number. */
export function logp(model: UnconstrainedFeatures, prompt: number, token: number): number {
  return Math.log(model.distribution(prompt)[TOKENS[token]]);
}

/** softplus in float64. */
export function softplus(x: number): number {
  return x > 30 ? x : Math.log1p(Math.exp(x));
}
