/**
 * The one helper every built-in objective is made with: validate parameters once, then wrap
 * the loss body in `tf.tidy` so intermediate tensors never leak.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type ParamSpecs, resolveParams } from "./params.ts";
import type { LossOutput, Objective, ObjectiveState, ParamValue, SequenceScores } from "./types.ts";

/** Resolved parameters as the loss body sees them. */
export type Resolved = Record<string, ParamValue>;

/** What {@link defineObjective} needs. */
export interface ObjectiveDefinition {
  name: string;
  specs: ParamSpecs;
  /** Whether the reference is read, given the resolved parameters (default: true). */
  needsReference?: (p: Resolved) => boolean;
  /** Whether per-token data is read, given the resolved parameters (default: false). */
  needsTokens?: (p: Resolved) => boolean;
  batchCoupled?: boolean | ((p: Resolved) => boolean);
  /** Checks that involve several parameters; throw RangeError/TypeError naming them. */
  validate?: (p: Resolved) => void;
  /** The loss body; runs inside `tf.tidy`. Return per-pair losses `[B]`. */
  loss: (scores: SequenceScores, p: Resolved) => tf.Tensor | LossOutput;
  reset?: () => void;
  saveState?: () => Promise<ObjectiveState>;
  loadState?: (state: ObjectiveState) => void;
}

function checkBatch(name: string, s: SequenceScores): void {
  if (!s || typeof s !== "object" || !s.policyChosen || !s.policyRejected) {
    throw new TypeError(`${name}: scores.policyChosen and scores.policyRejected are required`);
  }
  const b = s.policyChosen.shape[0];
  for (
    const f of [
      "policyRejected",
      "refChosen",
      "refRejected",
      "chosenLength",
      "rejectedLength",
    ] as const
  ) {
    const t = s[f];
    if (t && (t.rank !== 1 || t.shape[0] !== b)) {
      throw new RangeError(`${name}: scores.${f} has shape [${t.shape}], expected [${b}]`);
    }
  }
  if (!s.chosenLength || !s.rejectedLength) {
    throw new TypeError(`${name}: scores.chosenLength and scores.rejectedLength are required`);
  }
}

/**
 * Build an {@link Objective} from a definition and user parameters.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { defineObjective } from "./define.ts";
 * const half = defineObjective({
 *   name: "half_margin",
 *   specs: {},
 *   loss: (s) => tf.mul(tf.sub(s.policyRejected, s.policyChosen), 0.5),
 *   needsReference: () => false,
 * }, {});
 * console.log(half.name, half.needsReference); // half_margin false
 * ```
 */
export function defineObjective(
  def: ObjectiveDefinition,
  given: Record<string, unknown> | undefined,
): Objective {
  const params = resolveParams(def.name, given, def.specs);
  def.validate?.(params);
  const coupled = typeof def.batchCoupled === "function"
    ? def.batchCoupled(params)
    : def.batchCoupled === true;
  return {
    name: def.name,
    needsReference: def.needsReference ? def.needsReference(params) : true,
    needsTokens: def.needsTokens ? def.needsTokens(params) : false,
    batchCoupled: coupled,
    params: Object.freeze({ ...params }),
    loss(scores: SequenceScores): LossOutput {
      checkBatch(def.name, scores);
      const out = tf.tidy(() => {
        const r = def.loss(scores, params);
        // tidy keeps tensors nested in a returned object (Tensor containers), which this is.
        return (r instanceof tf.Tensor
          ? { losses: r as tf.Tensor1D }
          : r) as unknown as tf.TensorContainer;
      }) as unknown as LossOutput;
      return out;
    },
    ...(def.reset ? { reset: def.reset } : {}),
    ...(def.saveState ? { saveState: def.saveState } : {}),
    ...(def.loadState ? { loadState: def.loadState } : {}),
  };
}
