/**
 * Causal-LM glue for the trainer: a scorer that also scores probe responses (for the
 * probability-mass tracker), probe sets from the data area's `ProbeBatch`, and a scorer for
 * unpaired (KTO) batches.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KtoBatch, ProbeBatch } from "../data/collate.ts";
import type { PreferenceBatch } from "../data/types.ts";
import type { CausalLM } from "../models/types.ts";
import { causalLMScorer, tokenLogps } from "./logps.ts";
import type { PairScores, PreferenceScorer, ProbeSet } from "../core/scores.ts";

/**
 * A causal LM as a trainer scorer over `PreferenceBatch`es (`causalLMScorer`) that also scores
 * `ProbeBatch` rows: `logps(probes)` is each row's summed completion log-prob.
 *
 * @example
 * ```ts ignore
 * const scorer = lmScorer(model);
 * const tracker = probabilityMassTracker({ probes: probeSet(collateProbes(probes, tok.padId)) });
 * await train({ policy: scorer, ...opts, callbacks: [tracker] });
 * ```
 */
export function lmScorer(
  model: CausalLM,
  opts: { tokens?: boolean; logSumSquares?: boolean; stats?: boolean } = {},
): PreferenceScorer<PreferenceBatch, ProbeBatch> {
  const base = causalLMScorer(model, opts);
  return {
    variables: () => base.variables(),
    variableNames: () => base.variableNames!(),
    scores: (batch) => base.scores(batch),
    measureScores: (batch) => base.measureScores!(batch),
    logps: (probes) => tf.tidy(() => tokenLogps(model, probes).summed),
  };
}

/**
 * The probe set of a `ProbeBatch`: each row's pair index as its prompt and its response name
 * as its label (`mass/<name>` in the records).
 *
 * @example
 * ```ts
 * import { probeSet } from "./lm.ts";
 * import { collateProbes } from "../data/collate.ts";
 * const b = collateProbes([{ index: 3, name: "para", promptIds: [1], completionIds: [5, 0] }], 0);
 * console.log(probeSet(b).labels); // ["para"]
 * ```
 */
export function probeSet(batch: ProbeBatch): ProbeSet<ProbeBatch> {
  return { batch, prompts: batch.index, labels: batch.name };
}

/**
 * A causal LM as a trainer scorer over unpaired (KTO) batches: row i's completion log-prob goes
 * to the chosen side when the example is desirable and to the rejected side otherwise (the other
 * side is marked absent in `present`), and `klPolicy` holds the log-prob of its mismatched
 * completion. Train with `kto()`.
 *
 * @example
 * ```ts ignore
 * await train({ policy: lmUnpairedScorer(model), data: unpairedData(examples, { padId }),
 *   objective: kto({ beta: 0.1 }), optimizer: { name: "adamw" }, lr: 1e-5, batchSize: 8 });
 * ```
 */
export function lmUnpairedScorer(model: CausalLM): PreferenceScorer<KtoBatch> {
  return {
    variables: () => model.variables(),
    variableNames: () => [...model.namedVariables().keys()],
    scores: (b: KtoBatch): PairScores =>
      tf.tidy(() => {
        const own = tokenLogps(model, b.examples);
        const desirable = tf.tensor1d(b.examples.label.map((l) => (l ? 1 : 0)));
        const undesirable = tf.sub(1, desirable) as tf.Tensor1D;
        return {
          policyChosen: tf.mul(own.summed, desirable),
          policyRejected: tf.mul(own.summed, undesirable),
          chosenLength: own.lengths,
          rejectedLength: tf.clone(own.lengths),
          present: { chosen: desirable, rejected: undesirable },
          klPolicy: tokenLogps(model, b.mismatched).summed,
        } as unknown as tf.TensorContainerObject;
      }) as unknown as PairScores,
  };
}
