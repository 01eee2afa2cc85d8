/**
 * The one helper every built-in objective is made with: validate parameters once, then wrap
 * the loss body in `tf.tidy` so intermediate tensors never leak.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type ParamSpec, type ParamSpecs, resolveParams } from "./params.ts";
import type { LossOutput, Objective, ObjectiveState, ParamValue } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

/**
 * The value type one spec resolves to. A spec whose type is only known as the wide
 * {@link ParamSpec} (not a literal) resolves to {@link ParamValue}, so untyped definitions
 * keep compiling.
 */
export type SpecValue<P extends ParamSpec> =
  | (P["type"] extends "number" | "integer" ? number
    : P["type"] extends "boolean" ? boolean
    : P["type"] extends "string"
      ? (P["values"] extends readonly (infer V extends string)[] ? V : string)
    : P["type"] extends "number|string" ? number | string
    : ParamValue)
  // A spec defaulting to `undefined` ("off") may stay unset.
  | (undefined extends P["default"] ? undefined : never);

/**
 * Resolved parameters as the loss body sees them: typed per spec when the specs are a literal
 * (as in `defineObjective({ specs: { beta: BETA(0.1) }, ... })`), `Record<string, ParamValue>`
 * otherwise.
 */
export type Resolved<S extends ParamSpecs = ParamSpecs> = { [K in keyof S]: SpecValue<S[K]> };

/** What {@link defineObjective} needs; `S` is inferred from `specs`. */
export interface ObjectiveDefinition<S extends ParamSpecs = ParamSpecs> {
  name: string;
  specs: S;
  /** Whether the reference is read, given the resolved parameters (default: true). */
  needsReference?: (p: Resolved<S>) => boolean;
  /** Whether per-token data is read, given the resolved parameters (default: false). */
  needsTokens?: (p: Resolved<S>) => boolean;
  batchCoupled?: boolean | ((p: Resolved<S>) => boolean);
  /** Checks that involve several parameters; throw RangeError/TypeError naming them. */
  validate?: (p: Resolved<S>) => void;
  /** The loss body; runs inside `tf.tidy`. Return per-pair losses `[B]`. */
  loss: (scores: SequenceScores, p: Resolved<S>) => tf.Tensor | LossOutput;
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
 * Build an {@link Objective} from a definition and user parameters. The loss body's `p` is
 * typed from `specs` (a `number` spec gives `p.x: number`), so bodies need no casts.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { defineObjective } from "./define.ts";
 * import { BETA } from "./params.ts";
 * const half = defineObjective({
 *   name: "scaled_margin",
 *   specs: { beta: BETA(0.5) },
 *   // p.beta is a number here: no cast.
 *   loss: (s, p) => tf.mul(tf.sub(s.policyRejected, s.policyChosen), p.beta),
 *   needsReference: () => false,
 * }, {});
 * console.log(half.name, half.params.beta); // scaled_margin 0.5
 * ```
 */
export function defineObjective<const S extends ParamSpecs>(
  def: ObjectiveDefinition<S>,
  given: Record<string, unknown> | undefined,
): Objective {
  // resolveParams checks every value against its spec, which is what the type promises.
  const params = resolveParams(def.name, given, def.specs) as Resolved<S>;
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
