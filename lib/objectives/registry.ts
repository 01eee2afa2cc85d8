/**
 * Every built-in objective by name, with its source and where its formula was read: what
 * `lab objectives list` prints and `docs/objectives.md` tabulates.
 *
 * @module
 */
import { combine } from "./combine.ts";
import { alphaDpo, calDpo, dpop, rdpo, rpo, rpoReg, tdpo } from "./dpo_variants.ts";
import { kto } from "./kto.ts";
import { alphapo, asft, cpo, orpo, simpo, slicHf } from "./reference_free.ts";
import { anchoredDpo, modpo, tgdpo } from "./seed_methods.ts";
import { sgdpo } from "./sgdpo.ts";
import { sgdpoMultiplier } from "./sgdpo_multiplier.ts";
import { spo } from "./spo.ts";
import {
  aot,
  aotUnpaired,
  apoDown,
  apoZero,
  bcoPair,
  discopop,
  dpo,
  exoPair,
  hinge,
  ipo,
  ncaPair,
  robust,
  sft,
  sigmoidNorm,
  sppoHard,
} from "./trl.ts";
import type { Objective } from "./types.ts";

/** Where an objective's formula comes from. */
export type FormulaSource = "code" | "paper" | "reconstructed";

/** One registry entry. */
export interface ObjectiveEntry {
  name: string;
  /** Other accepted names (TRL loss types, spellings). */
  aliases: readonly string[];
  /** Paper title, short. */
  title: string;
  /** arXiv id(s). */
  arxiv: string;
  /** Per-pair loss, plain text. */
  formula: string;
  /** "code": read in a public implementation; "paper": in the paper text; "reconstructed". */
  source: FormulaSource;
  create: (params?: Record<string, unknown>) => Objective;
}

type P = Record<string, unknown>;

/** A preset default that the user may override under either spelling. */
function preset(p: P | undefined, name: string, alias: string, value: unknown): P {
  return p && (name in p || alias in p) ? p : { ...p, [name]: value };
}

/** The registry, in documentation order. */
export const OBJECTIVES: readonly ObjectiveEntry[] = [
  {
    name: "dpo",
    aliases: ["sigmoid"],
    title:
      "Direct Preference Optimization (TRL sigmoid; cDPO via labelSmoothing; f-DPO via fDivergence)",
    arxiv: "2305.18290",
    formula: "(1−ε)·softplus(−βΔs) + ε·softplus(βΔs)",
    source: "code",
    create: (p?: P) => dpo(p),
  },
  {
    name: "ld_dpo",
    aliases: ["ld-dpo"],
    title: "LD-DPO: DPO with length-desensitised log-probs (dpo preset, ldAlpha 0.5)",
    arxiv: "2409.06411",
    formula: "DPO with ℓ = Σ_{k≤l_p} logp_k + α·Σ_{k>l_p} logp_k, l_p = min(|y_w|,|y_l|)",
    source: "code",
    create: (p?: P) => dpo(preset(p, "ldAlpha", "ld_alpha", 0.5)),
  },
  {
    name: "wpo",
    aliases: [],
    title: "WPO: weighted preference optimization (dpo preset, weighting on)",
    arxiv: "2406.11827",
    formula: "DPO × sg[w(y_w)·w(y_l)], w(y) = exp(mean_t[log π(y_t) − log Σ_v π(v)²])",
    source: "code",
    create: (p?: P) => dpo(preset(p, "weighting", "use_weighting", true)),
  },
  {
    name: "hinge",
    aliases: ["slic", "rso"],
    title: "SLiC / RSO hinge",
    arxiv: "2305.10425, 2309.06657",
    formula: "max(0, 1 − βΔs)",
    source: "code",
    create: (p?: P) => hinge(p),
  },
  {
    name: "ipo",
    aliases: [],
    title: "IPO (TRL: length-normalised)",
    arxiv: "2310.12036",
    formula: "(s_w/|y_w| − s_l/|y_l| − 1/(2β))²",
    source: "code",
    create: (p?: P) => ipo(p),
  },
  {
    name: "exo_pair",
    aliases: ["exo"],
    title: "EXO, pairwise",
    arxiv: "2402.00856",
    formula: "q·(log q − log(1−ε)) + (1−q)·(log(1−q) − log ε), q = σ(βΔs)",
    source: "code",
    create: (p?: P) => exoPair(p),
  },
  {
    name: "nca_pair",
    aliases: ["nca"],
    title: "NCA, pairwise",
    arxiv: "2402.05369",
    formula: "softplus(−r_w) + ½softplus(r_w) + ½softplus(r_l), r = βs",
    source: "code",
    create: (p?: P) => ncaPair(p),
  },
  {
    name: "robust",
    aliases: ["robust_dpo"],
    title: "Provably robust DPO",
    arxiv: "2403.00409",
    formula: "[(1−ε)·softplus(−βΔs) − ε·softplus(βΔs)]/(1−2ε)",
    source: "code",
    create: (p?: P) => robust(p),
  },
  {
    name: "bco_pair",
    aliases: ["bco"],
    title: "BCO, pairwise",
    arxiv: "2404.04656",
    formula: "softplus(−(βs_w − δ)) + softplus(βs_l − δ)",
    source: "code",
    create: (p?: P) => bcoPair(p),
  },
  {
    name: "sppo_hard",
    aliases: ["sppo"],
    title: "SPPO with hard labels",
    arxiv: "2405.00675",
    formula: "(s_w − 1/(2β))² + (s_l + 1/(2β))²",
    source: "code",
    create: (p?: P) => sppoHard(p),
  },
  {
    name: "aot",
    aliases: [],
    title: "AOT, paired (batch sort)",
    arxiv: "2406.05882",
    formula: "d = sort_B(ℓθ_w−ℓθ_l) − sort_B(ℓref_w−ℓref_l); (1−ε)softplus(−βd) + ε·softplus(βd)",
    source: "code",
    create: (p?: P) => aot(p),
  },
  {
    name: "aot_unpaired",
    aliases: ["aot_pair"],
    title: "AOT, unpaired (batch sort)",
    arxiv: "2406.05882",
    formula: "d = sort_B(u_w) − sort_B(u_l); same loss",
    source: "code",
    create: (p?: P) => aotUnpaired(p),
  },
  {
    name: "apo_zero",
    aliases: [],
    title: "APO-zero",
    arxiv: "2408.06266",
    formula: "1 − σ(βu_w) + σ(βu_l)",
    source: "code",
    create: (p?: P) => apoZero(p),
  },
  {
    name: "apo_down",
    aliases: [],
    title: "APO-down",
    arxiv: "2408.06266",
    formula: "σ(βu_w) + 1 − σ(βΔs)",
    source: "code",
    create: (p?: P) => apoDown(p),
  },
  {
    name: "discopop",
    aliases: ["lrml"],
    title: "DiscoPOP / log-ratio modulated loss",
    arxiv: "2406.08414",
    formula: "ρ = βΔs, m = σ(ρ/τ): (1−m)·softplus(−ρ) + m·e^{−ρ}",
    source: "code",
    create: (p?: P) => discopop(p),
  },
  {
    name: "sigmoid_norm",
    aliases: [],
    title: "Length-normalised DPO (TRL HEAD; Tülu 3)",
    arxiv: "2405.14734 (App.), 2411.15124",
    formula: "softplus(−β(s_w/|y_w| − s_l/|y_l|))",
    source: "code",
    create: (p?: P) => sigmoidNorm(p),
  },
  {
    name: "sft",
    aliases: ["nll"],
    title: "SFT / NLL on the chosen response (TRL sft)",
    arxiv: "—",
    formula: "−Σ_i ℓθ(y_w,i) / Σ_i |y_w,i| in every slot (TRL's pooled token mean)",
    source: "code",
    create: (p?: P) => sft(p),
  },
  {
    name: "mpo",
    aliases: [],
    title: "MPO: 0.8·DPO + 0.2·BCO + 1·SFT (combine preset)",
    arxiv: "2411.10442",
    formula: "0.8·L_dpo + 0.2·L_bco_pair + 1·L_sft",
    source: "code",
    create: (p?: P) => {
      const { beta, ...rest } = p ?? {};
      if (Object.keys(rest).length > 0) {
        throw new TypeError(`mpo: unknown parameter '${Object.keys(rest)[0]}' (known: beta)`);
      }
      const b = beta === undefined ? {} : { beta: beta as number };
      return combine([[dpo(b), 0.8], [bcoPair(b), 0.2], [sft(), 1]]);
    },
  },
  {
    name: "simpo",
    aliases: [],
    title: "SimPO",
    arxiv: "2405.14734",
    formula: "(1−ε)softplus(−m) + ε·softplus(m) + sftWeight·NLL, m = β(ℓ̄_w − ℓ̄_l) − γ",
    source: "code",
    create: (p?: P) => simpo(p),
  },
  {
    name: "orpo",
    aliases: [],
    title: "ORPO",
    arxiv: "2403.07691",
    formula: "NLL(y_w) − λ·log σ(o_w − o_l), o = ℓ̄ − log(1 − e^ℓ̄)",
    source: "code",
    create: (p?: P) => orpo(p),
  },
  {
    name: "cpo",
    aliases: [],
    title: "CPO",
    arxiv: "2401.08417",
    formula: "softplus(−β(ℓθ_w − ℓθ_l)) + α·NLL(y_w)",
    source: "code",
    create: (p?: P) => cpo(p),
  },
  {
    name: "rpo",
    aliases: ["irpo", "iterative_rpo"],
    title: "Iterative Reasoning Preference Optimization (RPO)",
    arxiv: "2404.19733",
    formula: "softplus(−βh) + α·NLL(y_w)/|y_w|",
    source: "code",
    create: (p?: P) => rpo(p),
  },
  {
    name: "rpo_reg",
    aliases: ["regularized_rpo"],
    title: "Regularized Preference Optimization (RPO)",
    arxiv: "2405.16436",
    formula: "softplus(−βh) + η·NLL(y_w)",
    source: "code",
    create: (p?: P) => rpoReg(p),
  },
  {
    name: "asft",
    aliases: [],
    title: "ASFT: aligned SFT through absolute likelihood",
    arxiv: "2409.10571",
    formula: "−(1+λ)·log p_w − λ·log(1 − p_l), p = exp(ℓ̄)",
    source: "paper",
    create: (p?: P) => asft(p),
  },
  {
    name: "cal_dpo",
    aliases: ["cal-dpo", "caldpo"],
    title: "Cal-DPO",
    arxiv: "2412.14516",
    formula: "softplus(−h) + ½[(u_w − 1/(2β))² + (u_l + 1/(2β))²]",
    source: "code",
    create: (p?: P) => calDpo(p),
  },
  {
    name: "dpop",
    aliases: ["smaug", "dpo_positive"],
    title: "DPO-Positive (Smaug)",
    arxiv: "2402.13228",
    formula: "softplus(−β(h − λ·max(0, ℓref_w − ℓθ_w)))",
    source: "code",
    create: (p?: P) => dpop(p),
  },
  {
    name: "tdpo",
    aliases: [],
    title: "Token-level DPO (TDPO1/TDPO2)",
    arxiv: "2404.11999",
    formula: "TDPO2: softplus(−β(h − α(K(y_l) − sg[K(y_w)]))), K = Σ_t KL(πref‖πθ)",
    source: "code",
    create: (p?: P) => tdpo(p),
  },
  {
    name: "r_dpo",
    aliases: ["rdpo", "r-dpo"],
    title: "R-DPO: length-regularised DPO",
    arxiv: "2403.19159",
    formula: "softplus(−(βh − α(|y_w| − |y_l|)))",
    source: "code",
    create: (p?: P) => rdpo(p),
  },
  {
    name: "alpha_dpo",
    aliases: ["alpha-dpo", "adpo"],
    title: "α-DPO: adaptive reward margin",
    arxiv: "2410.10148",
    formula: "softplus(−βM), M = Δℓ̄θ − sg[α(ĥ − μ)/s + γ/β]",
    source: "code",
    create: (p?: P) => alphaDpo(p),
  },
  {
    name: "alphapo",
    aliases: [],
    title: "AlphaPO: reward shape",
    arxiv: "2501.03884",
    formula: "softplus(−(β(r_w − r_l) − γ)), r = (1 − p^{−α})/α, p = exp(ℓ̄)",
    source: "code",
    create: (p?: P) => alphapo(p),
  },
  {
    name: "slic_hf",
    aliases: ["slic-hf"],
    title: "SLiC-HF with a regularising NLL",
    arxiv: "2305.10425",
    formula: "max(0, δ − ℓθ_w + ℓθ_l) + λ·NLL(y_w)",
    source: "paper",
    create: (p?: P) => slicHf(p),
  },
  {
    name: "kto",
    aliases: [],
    title: "KTO (paired or unpaired)",
    arxiv: "2402.01306",
    formula:
      "desirable λ_D(1 − σ(β(u − z0))), undesirable λ_U(1 − σ(β(z0 − u))); mean over examples",
    source: "code",
    create: (p?: P) => kto(p),
  },
  {
    name: "sgdpo",
    aliases: ["sg_dpo", "self_guided_dpo"],
    title: "SGDPO: self-guided DPO (pilot term; authors' code WNQzhu/SGDPO)",
    arxiv: "2505.12435",
    formula: "½ℓ_ε(β(u_w − p_l)) + ½ℓ_ε(β(p_w − u_l)), p = sg[Σ log-ratio over random " +
      "pilot sets of max(⌊r·min(n_w, n_l)⌋, 1) tokens]",
    source: "code",
    create: (p?: P) => sgdpo(p),
  },
  {
    name: "sgdpo_multiplier",
    aliases: [],
    title: "Our earlier SGDPO reconstruction (NOT the paper's method): DPO with pilot multipliers",
    arxiv: "2505.12435",
    formula:
      "value = DPO's; g_w = k_w·g_w(DPO), g_l = k_l·g_l(DPO), k from random sub-sequence pilots",
    source: "reconstructed",
    create: (p?: P) => sgdpoMultiplier(p),
  },
  {
    name: "spo",
    aliases: ["stable_po"],
    title: "Stable Preference Optimization (bilevel, penalty; base: any BT loss)",
    arxiv: "2507.07723",
    formula: "L_base + λ·(ℓ̄ref(y_w) − ℓ̄θ(y_w)) (value-function penalty, default; base dpo)",
    source: "reconstructed",
    create: (p?: P) => spo(p),
  },
  {
    name: "anchored_dpo",
    aliases: ["anchored-dpo", "soft_dpo"],
    title: "ADPO: anchored DPO, pairwise (soft labels)",
    arxiv: "2510.18913",
    formula: "KL(q ‖ σ(h/τ)) = q·softplus(−h/τ) + (1−q)·softplus(h/τ) − H(q)",
    source: "paper",
    create: (p?: P) => anchoredDpo(p),
  },
  {
    name: "modpo",
    aliases: ["mo_dpo"],
    title: "MODPO: multi-objective DPO, length-penalty margin",
    arxiv: "2310.03708",
    formula: "softplus(−(βh + w₁(|y_w| − |y_l|))/w₀), margin reward r(y) = −|y|",
    source: "code",
    create: (p?: P) => modpo(p),
  },
  {
    name: "tgdpo",
    aliases: ["tg_dpo"],
    title: "TGDPO: token-level reward guidance",
    arxiv: "2506.14574",
    formula: "softplus(−(A_w − A_l)), A = Σ_t β(1 ± αβ·r̂_t)·u_t, r̂ = sg[log π_guide − log π_ref]",
    source: "code",
    create: (p?: P) => tgdpo(p),
  },
];

function key(name: string): string {
  return name.trim().toLowerCase().replaceAll("-", "_");
}

/**
 * Find an entry by name or alias (case-insensitive, `-` = `_`); `undefined` if unknown.
 *
 * @example
 * ```ts
 * import { findObjective } from "./registry.ts";
 * console.log(findObjective("sigmoid")?.name); // dpo
 * ```
 */
export function findObjective(name: string): ObjectiveEntry | undefined {
  const k = key(name);
  return OBJECTIVES.find((e) => key(e.name) === k || e.aliases.some((a) => key(a) === k));
}

/**
 * Build a registered objective by name with parameters; throws a `TypeError` naming the
 * unknown objective. The name `combine` takes `{ parts: [{ objective, weight, params }] }`.
 *
 * @example
 * ```ts
 * import { createObjective } from "./registry.ts";
 * const o = createObjective("combine", {
 *   parts: [{ objective: "dpo", weight: 1 }, { objective: "sft", weight: 0.5 }],
 * });
 * console.log(o.name); // dpo*1+sft*0.5
 * ```
 */
export function createObjective(name: string, params: Record<string, unknown> = {}): Objective {
  if (key(name) === "combine") {
    const { parts, ...rest } = params;
    if (Object.keys(rest).length > 0) {
      throw new TypeError(`combine: unknown parameter '${Object.keys(rest)[0]}' (known: parts)`);
    }
    if (!Array.isArray(parts) || parts.length === 0) {
      throw new TypeError(
        "combine: parameter 'parts' must be a non-empty list of {objective, weight, params}",
      );
    }
    return combine(parts.map((part, k) => {
      const p = part as { objective?: unknown; weight?: unknown; params?: unknown };
      if (typeof p?.objective !== "string") {
        throw new TypeError(`combine: parts[${k}].objective must be a name`);
      }
      const weight = p.weight === undefined ? 1 : p.weight;
      if (typeof weight !== "number") {
        throw new TypeError(`combine: parts[${k}].weight must be a number`);
      }
      return [
        createObjective(p.objective, (p.params ?? {}) as Record<string, unknown>),
        weight,
      ] as const;
    }));
  }
  const entry = findObjective(name);
  if (!entry) {
    throw new TypeError(
      `unknown objective '${name}' (known: ${OBJECTIVES.map((e) => e.name).join(", ")}, combine)`,
    );
  }
  return entry.create(params);
}
