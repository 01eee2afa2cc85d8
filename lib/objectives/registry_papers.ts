/**
 * The registry's entries for the objectives of papers beyond TRL's loss types (reference-free,
 * DPO variants, KTO, SGDPO, SPO and the seed methods), in documentation order; `registry.ts`
 * puts them after the TRL entries in `OBJECTIVES`.
 *
 * @module
 */
import { alphaDpo, calDpo, dpop, rdpo, rpo, rpoReg, tdpo } from "./dpo_variants.ts";
import { kto } from "./kto.ts";
import { alphapo, asft, cpo, orpo, simpo, slicHf } from "./reference_free.ts";
import type { ObjectiveEntry } from "./registry_entry.ts";
import { anchoredDpo, modpo, tgdpo } from "./seed_methods.ts";
import { sgdpo } from "./sgdpo.ts";
import { sgdpoMultiplier } from "./sgdpo_multiplier.ts";
import { spo } from "./spo.ts";

type P = Record<string, unknown>;

/** Papers' objectives beyond TRL's loss types, in documentation order. */
export const PAPER_ENTRIES: readonly ObjectiveEntry[] = [
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
