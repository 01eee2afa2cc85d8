/**
 * The seed documents' other preference methods whose loss reduces to our scores: anchored
 * (soft-label) DPO, multi-objective DPO with a length margin reward, and TGDPO's token-level
 * reward guidance. Where each formula was read, and the methods that could not be registered,
 * are in docs/objectives.md. Notation: `u = ℓθ − ℓref` (summed), `h = u_w − u_l`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective } from "./define.ts";
import { softplus, stopGradient } from "./numerics.ts";
import { BETA } from "./params.ts";
import { requireRef, requireTokens } from "./scores.ts";
import type { Objective } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

function margin(name: string, s: SequenceScores): tf.Tensor1D {
  const ref = requireRef(name, s);
  return tf.sub(tf.sub(s.policyChosen, ref.chosen), tf.sub(s.policyRejected, ref.rejected));
}

/** q·log q + (1−q)·log(1−q), with 0·log 0 = 0: makes the KL zero at its minimum. */
function negEntropy(q: number): number {
  const t = (x: number) => (x > 0 ? x * Math.log(x) : 0);
  return t(q) + t(1 - q);
}

/** Parameters of {@link anchoredDpo}. */
export interface AnchoredDpoParams {
  /** Anchor temperature τ_anc > 0; 1/τ plays DPO's β. Default 10 (β = 0.1). */
  tau?: number;
  /** Soft preference probability q that y_w beats y_l, in [0, 1]. Default 1 (hard label). */
  q?: number;
}

/**
 * Anchored DPO, pairwise (Wang, "ADPO: Anchored Direct Preference Optimization",
 * arXiv 2510.18913): `KL(q ‖ softmax((s − s_ref)/τ))` over the two completions, i.e. with
 * `p = σ(h/τ)`: `L = q·log q + (1−q)·log(1−q) + q·softplus(−h/τ) + (1−q)·softplus(h/τ)`.
 * With q = 1 it is DPO at β = 1/τ; a q < 1 is cDPO's smoothing less a constant, so the loss is 0
 * where the policy matches the soft label. Defaults τ = 10, q = 1 (ours: DPO's β = 0.1).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { anchoredDpo } from "./seed_methods.ts";
 * import { weightsAt } from "./weights_at.ts";
 * // At h = 0 and q = 0.5 the soft label is met: zero loss, zero gradient.
 * const w = weightsAt(anchoredDpo({ q: 0.5 }), { uW: 0.3, uL: 0.3 });
 * if (Math.abs(w.loss) > 1e-6 || Math.abs(w.g_w) > 1e-7) throw new Error("not at the minimum");
 * ```
 */
export function anchoredDpo(params: AnchoredDpoParams = {}): Objective {
  return defineObjective({
    name: "anchored_dpo",
    specs: {
      tau: {
        default: 10,
        type: "number",
        range: "(0, inf)",
        aliases: ["tau_anc"],
        about: "anchor temperature τ: p(y_w ≻ y_l) = σ(h/τ) (1/τ = DPO's β)",
      },
      q: {
        default: 1,
        type: "number",
        range: "[0, 1]",
        about: "soft preference probability that y_w beats y_l (1 = hard label)",
      },
    },
    loss: (s, p) => {
      const z = tf.div(margin("anchored_dpo", s), p.tau);
      const fit = tf.add(tf.mul(softplus(tf.neg(z)), p.q), tf.mul(softplus(z), 1 - p.q));
      return tf.add(fit, negEntropy(p.q));
    },
  }, params as Record<string, unknown>);
}

/** Parameters of {@link modpo}. */
export interface ModpoParams {
  beta?: number;
  /** w₀: weight of the preference being trained. Default 1. */
  w0?: number;
  /** w₁: weight of the margin reward r(y) = −|y| (length penalty). Default 0.1. */
  wLength?: number;
}

/**
 * MODPO (Zhou et al., "Beyond One-Preference-Fits-All Alignment: Multi-Objective Direct
 * Preference Optimization", arXiv 2310.03708), with the authors' length-penalty margin reward
 * r(y) = −|y| (token count), which our scores carry:
 * `L = softplus(−(βh − w₁·(r(y_w) − r(y_l)))/w₀)` = `softplus(−(βh + w₁(|y_w| − |y_l|))/w₀)`.
 * Defaults β = 0.1, w₀ = 1, w₁ = 0.1 (the authors' summarisation-with-length-penalty recipe).
 * Other margin rewards (a second reward model's scores) are not part of our scores.
 *
 * @example
 * ```ts
 * import { modpo } from "./seed_methods.ts";
 * console.log(modpo().params.wLength); // 0.1
 * ```
 */
export function modpo(params: ModpoParams = {}): Objective {
  return defineObjective({
    name: "modpo",
    specs: {
      beta: BETA(0.1),
      w0: {
        default: 1,
        type: "number",
        range: "(0, inf)",
        about: "w₀: weight of the preference being trained (divides the logit)",
      },
      wLength: {
        default: 0.1,
        type: "number",
        range: "[0, inf)",
        aliases: ["w"],
        about: "w₁: weight of the margin reward r(y) = −|y| (length penalty)",
      },
    },
    loss: (s, p) => {
      // r(y_w) − r(y_l) = |y_l| − |y_w|; lengths are data, never differentiated.
      const dReward = tf.sub(s.rejectedLength, s.chosenLength);
      const logit = tf.sub(tf.mul(margin("modpo", s), p.beta), tf.mul(dReward, p.wLength));
      return softplus(tf.neg(tf.div(logit, p.w0)));
    },
  }, params as Record<string, unknown>);
}

/** Parameters of {@link tgdpo}. */
export interface TgdpoParams {
  beta?: number;
  /** α: strength of the token-reward guidance. Default 0.5. */
  alpha?: number;
}

/**
 * TGDPO (Zhu et al., "Harnessing Token-Level Reward Guidance for Enhancing Direct Preference
 * Optimization", arXiv 2506.14574), as in the authors' code: with per-token log-ratios
 * `u_t = log πθ(y_t) − log πref(y_t)` and token rewards `r̂_t = sg[log π_guide(y_t) − log
 * πref(y_t)]` of a guide model (a DPO-trained policy),
 * `L = softplus(−(Σ_t β(1 + αβ·r̂_w,t)·u_w,t − Σ_t β(1 − αβ·r̂_l,t)·u_l,t))`, sums over completion
 * tokens. Needs `tokens` with policy, reference and guide log-probs and masks. Defaults β = 0.1,
 * α = 0.5 (the authors' Llama-3-8B-Instruct recipe). With α = 0 it is DPO.
 *
 * @example
 * ```ts
 * import { tgdpo } from "./seed_methods.ts";
 * console.log(tgdpo().needsTokens); // true
 * ```
 */
export function tgdpo(params: TgdpoParams = {}): Objective {
  const fields = [
    "refChosen",
    "refRejected",
    "guideChosen",
    "guideRejected",
    "chosenMask",
    "rejectedMask",
  ] as const;
  return defineObjective({
    name: "tgdpo",
    specs: {
      beta: BETA(0.1),
      alpha: {
        default: 0.5,
        type: "number",
        range: "[0, inf)",
        aliases: ["tgdpo_alpha"],
        about: "α: strength of the token-reward guidance",
      },
    },
    needsTokens: () => true,
    loss: (s, p) => {
      const t = requireTokens("tgdpo", s, fields);
      const side = (
        pol: tf.Tensor2D,
        ref: tf.Tensor2D,
        guide: tf.Tensor2D,
        m: tf.Tensor2D,
        sign: number,
      ) => {
        const reward = stopGradient(tf.sub(guide, ref));
        const weight = tf.add(tf.mul(reward, sign * p.alpha * p.beta), 1);
        return tf.sum(tf.mul(tf.mul(weight, tf.sub(pol, ref)), m), 1);
      };
      const w = side(t.policyChosen, t.refChosen!, t.guideChosen!, t.chosenMask, 1);
      const l = side(t.policyRejected, t.refRejected!, t.guideRejected!, t.rejectedMask, -1);
      return softplus(tf.mul(tf.sub(l, w), p.beta));
    },
  }, params as Record<string, unknown>);
}
