// %% [markdown]
// # 05 · SGDPO versus DPO: chosen and rejected reward updates
//
// **Question.** SGDPO (Self-Guided DPO, Zhu et al., arXiv 2505.12435) claims that, at the same β
// and learning rate as DPO, the **chosen reward falls less (or rises)** and the **rejected reward
// falls more slowly**, and that the pilot fractions `r1`, `r2` control these updates. Does that
// hold on a small model trained the paper's way (SFT first, then preference training from the SFT
// model, small learning rate, margins of a few nats)?
//
// **Which SGDPO this is.** `lab.sgdpo` is the loss of the authors' training code (repository
// `WNQzhu/SGDPO`, `pdpo_trainer_v4.py`; docs/objectives.md): per pair, pilot sets of
// `k_w = max(⌊r1·m⌋, 1)` chosen and `k_l = max(⌊r2·m⌋, 1)` rejected token positions
// (m = min(|y_w|, |y_l|)), drawn afresh at every step; pilot sums `p_w`, `p_l` of the per-token
// log-ratios over them, held constant; `L = ½·softplus(−β(u_w − p_l)) + ½·softplus(−β(p_w − u_l))`.
// Defaults β = 0.1, r1 = 0.6, r2 = 0.9. Our earlier reconstruction from the abstract
// (`lab.sgdpoMultiplier`: DPO's loss with pilot-driven gradient multipliers) runs beside it for
// comparison.
//
// **What the formula implies (derived before the run).** The gradient weights are
// `g_w = −(β/2)σ(−β(u_w − p_l))` and `g_l = (β/2)σ(−β(p_w − u_l))`. At the start (u = p = 0)
// both are exactly **half** of DPO's, so at the same learning rate SGDPO starts with half DPO's
// step; with `r1 = r2 = 1` and equal lengths the pilots are the full sums and SGDPO's gradient is
// DPO's halved at every step. With r < 1 the pilot sees only a fraction of a side's log-ratio
// (p ≈ (k/n)·u), so, compared with DPO at half the learning rate, the chosen push decays more
// slowly once u_l < 0 and the rejected push is weaker once u_w < 0.
//
// **Setup.** The unconstrained-features model (free hidden vector per prompt, free shared
// unembedding; Razin et al. §4) scores 6-token responses over a 16-token vocabulary, one context
// per prompt; 8 prompts; y_l = y_w except at 2 random positions. Per seed: new data and
// initialisation, 40 SGD steps of SFT on y_w (lr 1), then each method from that SFT model (which
// is also the reference): full-batch SGD, lr 0.2, β = 0.1, 100 steps. Six seeds (smoke: three
// seeds, 20 steps, fewer methods). Rewards are the TRL metrics `rewards/chosen` = β·u_w and
// `rewards/rejected` = β·u_l (batch means) at the last step.
//
// **Claims and thresholds (stated before the run).** Each is a per-seed paired difference with a
// 95% t-interval over seeds: SUPPORTED when the interval excludes 0 on the stated side, CONTRADICTED
// when it excludes 0 on the other side, INCONCLUSIVE otherwise.
// - **F1 (paper):** chosen reward, SGDPO − DPO > 0 (same β, same lr).
// - **F2 (paper):** rejected reward, SGDPO − DPO > 0 (it falls more slowly).
// - **F3, F4 (formula, r beyond the halved step):** against DPO at lr/2, SGDPO's chosen reward
//   is higher (F3) and its rejected reward higher (F4): both differences > 0.
// - **F5, F6 (old reconstruction, for comparison):** `sgdpo_multiplier` − DPO, chosen (F5) and
//   rejected (F6) reward, both > 0.
// - **F7 (r2):** with r1 = 0.6, r2 = 1.0 gives a lower chosen reward than r2 = 0.6 (a larger
//   rejected pilot follows u_l down further and shrinks the chosen push).
// - **F8 (r1):** with r2 = 0.9, r1 = 1.0 gives a lower rejected reward than r1 = 0.6 (the chosen
//   response loses likelihood after SFT, u_w < 0, and a larger chosen pilot follows it, which
//   strengthens the rejected push).
//
// **Sanity checks** (the code against its own formula, not findings): the gradient field on
// synthetic 8-token completions equals `g_w`, `g_l` above; SGDPO with r1 = r2 = 1 follows DPO at
// lr/2 step for step.

// %%
import * as lab from "../lib/mod.ts";
// Toy tensors of a few hundred numbers: per-op dispatch dominates, so the pure-JS cpu backend
// (also deterministic); measured on this 2-core machine a step costs ~20-40 ms.
const report = await lab.setupNotebook({ backend: "cpu" });

// %% [markdown]
// ## 1 · Gradient fields (sanity check)
// SGDPO on synthetic completions of 8 tokens that share the log-ratio evenly: the pilot sums are
// then `k·u/8` whichever positions are drawn (k_w = 4, k_l = 7 at the defaults), so the field is
// exact: `g_w = −(β/2)σ(−β(u_w − 7u_l/8))`, `g_l = (β/2)σ(−β(u_w/2 − u_l))`.

// %%
const beta = 0.1;
const grid = {
  uW: { min: -30, max: 30, n: lab.bySmoke(25, 9) },
  uL: { min: -30, max: 30, n: lab.bySmoke(25, 9) },
};
const fieldDpo = lab.gradientField(lab.dpo({ beta }), grid);
const fieldSg = lab.tokenGradientField(lab.sgdpo({ beta }), grid);
const fieldMult = lab.tokenGradientField(lab.sgdpoMultiplier({ beta, r1: 1, r2: 1 }), grid);
await lab.show(lab.objectiveFields([
  { name: "DPO", field: fieldDpo },
  { name: "SGDPO (authors' loss, r1 0.6, r2 0.9)", field: fieldSg },
  { name: "sgdpo_multiplier (old reconstruction)", field: fieldMult },
], { title: "Gradient fields (β = 0.1; arrows: descent direction of (u_w, u_l))" }));
const sig = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
let fieldErr = 0;
fieldSg.uL.forEach((ul, i) =>
  fieldSg.uW.forEach((uw, j) => {
    const ew = -0.5 * beta * sig(-beta * (uw - 7 * ul / 8));
    const el = 0.5 * beta * sig(-beta * (uw / 2 - ul));
    fieldErr = Math.max(fieldErr, Math.abs(fieldSg.gW[i][j] - ew), Math.abs(fieldSg.gL[i][j] - el));
  })
);
console.log(`largest |field − formula| over the grid: ${fieldErr.toExponential(2)}`);
await lab.flushOutput();

// %% [markdown]
// ## 2 · The toy and one run per method
// Data and initialisation depend on the seed; each method starts from the same SFT model of its
// seed (weights copied), so per-seed differences are paired.

// %%
// 16 tokens, 8 dimensions, 8 prompts of 6 tokens, y_l differing at 2 positions, lr 0.2.
const TOY = lab.sftToyConfig({ sftSteps: lab.bySmoke(40, 10), steps: lab.bySmoke(100, 20) });
const { steps: STEPS, lr: LR } = TOY;
const SEEDS = lab.bySmoke([1, 2, 3, 4, 5, 6], [1, 2, 3]);
type Rec = Record<string, number>;
/** Train from the seed's SFT model (also the reference); one record per step. */
const run = (start: lab.SftStart, objective: lab.Objective, lr = LR) =>
  lab.runFromSft(start, objective, TOY, lr);

// %% [markdown]
// ## 3 · All runs over the seeds

// %%
type Method = { name: string; make: (seed: number) => lab.Objective; lr?: number; full?: boolean };
const METHODS: Method[] = [
  { name: "DPO", make: () => lab.dpo({ beta }) },
  { name: "DPO, lr/2", make: () => lab.dpo({ beta }), lr: LR / 2 },
  { name: "SGDPO", make: (s) => lab.sgdpo({ beta, seed: s }) },
  { name: "sgdpo_multiplier", make: (s) => lab.sgdpoMultiplier({ beta, seed: s }) },
  { name: "SGDPO r1 1.0", make: (s) => lab.sgdpo({ beta, r1: 1, seed: s }), full: true },
  { name: "SGDPO r2 0.6", make: (s) => lab.sgdpo({ beta, r2: 0.6, seed: s }), full: true },
  { name: "SGDPO r2 1.0", make: (s) => lab.sgdpo({ beta, r2: 1, seed: s }), full: true },
];
const methods = METHODS.filter((m) => !m.full || !lab.isSmoke());
const runs = new Map<string, Rec[][]>(methods.map((m) => [m.name, []]));
const t0 = performance.now();
let sanityGap = NaN;
for (const seed of SEEDS) {
  const start = await lab.sftStart(seed, TOY);
  for (const m of methods) runs.get(m.name)!.push(await run(start, m.make(seed), m.lr));
  if (seed === SEEDS[0]) {
    // Sanity: r1 = r2 = 1 and equal lengths make SGDPO's gradient DPO's halved.
    const full = await run(start, lab.sgdpo({ beta, r1: 1, r2: 1 }));
    const half = runs.get("DPO, lr/2")!.at(-1)!;
    sanityGap = Math.max(
      ...full.map((r, i) =>
        Math.max(
          Math.abs(r["rewards/chosen"] - half[i]["rewards/chosen"]),
          Math.abs(r["rewards/rejected"] - half[i]["rewards/rejected"]),
        )
      ),
    );
  }
}
console.log(
  `${SEEDS.length} seeds × ${methods.length} methods (+1 sanity run) of ${STEPS} steps in ${
    ((performance.now() - t0) / 1000).toFixed(0)
  } s`,
);
await lab.flushOutput();

// %% [markdown]
// Mean over seeds of the implicit rewards at each step (thin dotted lines: the 95% t-interval of
// the mean).

// %%
const COLORS: Record<string, string> = {
  DPO: "#1f77b4",
  "DPO, lr/2": "#7f7f7f",
  SGDPO: "#d62728",
  sgdpo_multiplier: "#2ca02c",
};
const band = (name: string, key: string) => {
  const rs = runs.get(name)!;
  const perSeed = rs.map((r) => r.map((x) => x[key]));
  return lab.seedBand(name, rs[0].map((r) => r.step), perSeed, COLORS[name]);
};
const shown = Object.keys(COLORS);
await lab.show(lab.subplots(
  ["rewards/chosen", "rewards/rejected", "rewards/margins"].map((key) =>
    lab.lineFigure(shown.flatMap((n) => band(n, key)), {
      title: key,
      xTitle: "step",
      yTitle: "β·u (batch mean)",
    })
  ),
  { columns: 3, rowHeight: 360, title: `Rewards after SFT, mean over ${SEEDS.length} seeds` },
));

// %% [markdown]
// ## Measured
// Sanity checks first (the code against its own formula), then the findings: each a per-seed
// paired difference at the last step, mean and 95% t-interval over seeds, against the threshold
// and direction stated above. Only findings count in the verdict.

// %%
{
  const last = (name: string, key: string) => runs.get(name)!.map((r) => r.at(-1)![key]);
  const diffs = (a: string, b: string, key: string) => {
    const x = last(a, key), y = last(b, key);
    return x.map((v, i) => v - y[i]);
  };
  const paired = (a: string, b: string, key: string) =>
    lab.meanCI(diffs(a, b, key), 0.95, "paired seed differences");
  // Mean [95% t-interval] over seeds; the header line says so once, to keep lines short.
  const ci = (name: string, key: string) => {
    const e = lab.meanCI(last(name, key), 0.95, "seeds");
    const f = (x: number) => x.toPrecision(3);
    return `${f(e.mean)} [${f(e.lo)}, ${f(e.hi)}]`.padEnd(28);
  };
  const table = lab.studyTable();
  table.sanity({
    what: "SGDPO's gradient field equals the formula",
    expected: "g_w = −(β/2)σ(−β(u_w − 7u_l/8)), g_l = (β/2)σ(−β(u_w/2 − u_l)); error < 1e-6",
    measured: `max |field − formula| ${fieldErr.toExponential(2)}`,
    pass: fieldErr < 1e-6,
  });
  table.sanity({
    what: "SGDPO r1 = r2 = 1 follows DPO at lr/2 step for step (seed 1)",
    expected: "max |reward difference| < 1e-5",
    measured: `${sanityGap.toExponential(2)} over ${STEPS} steps`,
    pass: sanityGap < 1e-5,
  });
  // How much of SGDPO − DPO the halved step alone (DPO at lr/2 − DPO) accounts for.
  const share = (key: string) => {
    const all = lab.mean(diffs("SGDPO", "DPO", key)),
      half = lab.mean(diffs("DPO, lr/2", "DPO", key));
    return `DPO(lr/2) − DPO is ${half.toPrecision(3)}, ${(100 * half / all).toFixed(0)}% of ` +
      `SGDPO − DPO (${all.toPrecision(3)}); the pilot's own effect is the rest`;
  };
  const claim = (
    text: string,
    a: string,
    b: string,
    key: string,
    direction: ">" | "<",
    measured?: string,
  ) =>
    table.finding({
      claim: text,
      expected:
        `${key} at the last step, ${a} − ${b.includes(",") ? `(${b})` : b} ${direction} 0 ` +
        "(paired over seeds)",
      estimate: paired(a, b, key),
      threshold: 0,
      direction,
      measured,
    });
  claim(
    "(paper) SGDPO's chosen reward is higher than DPO's (same β, lr)",
    "SGDPO",
    "DPO",
    "rewards/chosen",
    ">",
    share("rewards/chosen"),
  );
  claim(
    "(paper) SGDPO's rejected reward falls more slowly than DPO's",
    "SGDPO",
    "DPO",
    "rewards/rejected",
    ">",
    share("rewards/rejected"),
  );
  claim(
    "(formula) beyond the halved step, SGDPO's chosen reward is higher",
    "SGDPO",
    "DPO, lr/2",
    "rewards/chosen",
    ">",
  );
  claim(
    "(formula) beyond the halved step, SGDPO's rejected reward is higher",
    "SGDPO",
    "DPO, lr/2",
    "rewards/rejected",
    ">",
  );
  claim(
    "(old reconstruction) sgdpo_multiplier's chosen reward is higher than DPO's",
    "sgdpo_multiplier",
    "DPO",
    "rewards/chosen",
    ">",
  );
  claim(
    "(old reconstruction) sgdpo_multiplier's rejected reward is higher than DPO's",
    "sgdpo_multiplier",
    "DPO",
    "rewards/rejected",
    ">",
  );
  if (!lab.isSmoke()) {
    claim(
      "(r2) with r1 = 0.6, r2 = 1.0 lowers the chosen reward against r2 = 0.6",
      "SGDPO r2 1.0",
      "SGDPO r2 0.6",
      "rewards/chosen",
      "<",
    );
    claim(
      "(r1) with r2 = 0.9, r1 = 1.0 lowers the rejected reward against r1 = 0.6",
      "SGDPO r1 1.0",
      "SGDPO",
      "rewards/rejected",
      "<",
    );
  }
  const lines = [
    `Final rewards per method: mean [95% t-interval] over ${SEEDS.length} seeds`,
    `  ${"method".padEnd(18)} ${"chosen".padEnd(28)} ${"rejected".padEnd(28)} margin`,
  ];
  for (const m of methods) {
    lines.push(
      `  ${m.name.padEnd(18)} ${ci(m.name, "rewards/chosen")} ${ci(m.name, "rewards/rejected")} ${
        ci(m.name, "rewards/margins").trim()
      }`,
    );
  }
  lines.push(`(backend ${report.name} on ${report.adapter})`);
  if (lab.isSmoke()) {
    lines.push(
      `(smoke mode: ${SEEDS.length} seeds instead of 6, ${STEPS} steps instead of 100, no r sweep ` +
        `(F7, F8 left out) — not findings)`,
    );
  }
  console.log(lines.join("\n") + "\n");
  await table.print();
}
