/**
 * The registry's entries for TRL's loss types and the presets built on them (LD-DPO, WPO, MPO),
 * in documentation order; `registry.ts` puts them first in `OBJECTIVES`.
 *
 * @module
 */
import { combine } from "./combine.ts";
import type { ObjectiveEntry } from "./registry_entry.ts";
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

type P = Record<string, unknown>;

/** A preset default that the user may override under either spelling. */
function preset(p: P | undefined, name: string, alias: string, value: unknown): P {
  return p && (name in p || alias in p) ? p : { ...p, [name]: value };
}

/** TRL's loss types and their presets, in documentation order. */
export const TRL_ENTRIES: readonly ObjectiveEntry[] = [
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
];
