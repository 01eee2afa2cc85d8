/**
 * Ready-made toy settings for the study notebooks.
 *
 * {@link displacementToy}: the single-token "No ≻ Never" experiment of Razin et al. (arXiv
 * 2410.08847, §3 and Theorem 5) in the unconstrained-features model, built so that DPO shows
 * likelihood displacement: the preferred and dispreferred tokens have nearly parallel
 * unembeddings (large shared direction e1, opposite small e2 parts), and a third token "Yes" is
 * the one most aligned with their difference `W_No − W_Never`, so it is where the mass goes.
 *
 * @module
 */
import { Rng } from "../core/rng.ts";
import type { UnconstrainedFeaturesOptions } from "./toy.ts";

/** Options of {@link displacementToy}. */
export interface DisplacementToyOptions {
  /** Seed of the 7 unrelated tokens' unembeddings (default 7). */
  seed?: number;
  /** Length of the shared direction of W_No and W_Never (default 9). */
  shared?: number;
  /** ± part of W_No / W_Never along e2 (default 1.2): smaller = more similar. */
  separation?: number;
  /** Component of W_Yes along e2 (default 4.5): how strongly "Yes" aligns with W_No − W_Never. */
  attraction?: number;
}

/** What {@link displacementToy} returns. */
export interface DisplacementToy {
  /** Options for `createUnconstrainedFeatures` (one prompt, d = 6, V = 10): build fresh copies. */
  options: UnconstrainedFeaturesOptions;
  /** Token ids: y+ ("No"), y− ("Never"), and the expected attractor ("Yes"). */
  chosen: number;
  rejected: number;
  attractor: number;
}

/** The answer tokens of the toy, in id order. */
export const DISPLACEMENT_TOKENS: readonly string[] = Object.freeze([
  "No",
  "Never",
  "Yes",
  "Maybe",
  "Sure",
  "Perhaps",
  "Certainly",
  "Absolutely",
  "Rarely",
  "Always",
]);

/**
 * The "No ≻ Never" displacement toy: `W_No = (s, c)`, `W_Never = (s, −c)`, `W_Yes = (s/3, a)`
 * in the first two of 6 dimensions (s = `shared`, c = `separation`, a = `attraction`), seven
 * other tokens with small random unembeddings, and a small hidden embedding
 * `h_x = (0.2, 0.05, 0.1, 0, 0, 0)`, so the initial distribution is about No 0.30, Never 0.26,
 * Yes 0.10. With DPO (β = 0.1, SGD, lr 0.03) π(No) first rises, then falls below its start
 * after ~150 steps while π(Yes) climbs towards 1.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "./toy.ts";
 * import { displacementToy } from "./toy_presets.ts";
 * const toy = displacementToy();
 * const model = createUnconstrainedFeatures(toy.options);
 * console.log(model.tokens[toy.chosen], model.tokens[toy.rejected], model.tokens[toy.attractor]);
 * // No Never Yes
 * model.dispose();
 * ```
 */
export function displacementToy(opts: DisplacementToyOptions = {}): DisplacementToy {
  const s = opts.shared ?? 9, c = opts.separation ?? 1.2, a = opts.attraction ?? 4.5;
  for (const [name, v] of [["shared", s], ["separation", c], ["attraction", a]] as const) {
    if (!Number.isFinite(v)) throw new RangeError(`displacementToy: ${name} must be finite`);
  }
  const rng = new Rng(opts.seed ?? 7);
  const unembedding = DISPLACEMENT_TOKENS.map((_, k) =>
    k === 0
      ? [s, c, 0, 0, 0, 0]
      : k === 1
      ? [s, -c, 0, 0, 0, 0]
      : k === 2
      ? [s / 3, a, 0, 0, 0, 0]
      : [
        0.75 * rng.normal(),
        0.75 * rng.normal(),
        0.5 * rng.normal(),
        0.5 * rng.normal(),
        0.5 * rng.normal(),
        0.5 * rng.normal(),
      ]
  );
  return {
    options: {
      tokens: DISPLACEMENT_TOKENS,
      dim: 6,
      hidden: [[0.2, 0.05, 0.1, 0, 0, 0]],
      unembedding,
    },
    chosen: 0,
    rejected: 1,
    attractor: 2,
  };
}
