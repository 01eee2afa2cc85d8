// %% [markdown]
// # 06 · Stable Preference Optimization versus DPO and SimPO: does log π(y_w) stay up?
//
// **Question.** Bradley–Terry preference losses only ask the preferred response to beat the
// dispreferred one; after SFT they often lower the preferred response's own likelihood
// (*likelihood displacement*, Razin et al., arXiv 2410.08847; *catastrophic preference shift* in
// the SPO paper). Stable Preference Optimization (Jian, Yang et al., arXiv 2507.07723) adds the SFT
// problem as a lower level of a bilevel objective; its v2 results (read in public notes) show a BT
// loss alone falling below its SFT starting point and the same loss with SPO recovering it, on top
// of DPO, SimPO, CPO, DPOP, R-DPO and α-DPO. Here: **on top of DPO and of SimPO, does log π(y_w)
// stay at or above its start under SPO, while the base loss alone lowers it?**
//
// **Which SPO this is.** The paper's penalty is not public, so `lab.spo` is a documented
// **reconstruction** (`lib/objectives/spo.ts`, docs/objectives.md): `L = L_base + λ·P(y_w)` with
// the default value-function penalty `P = ℓ̄ref(y_w) − ℓ̄θ(y_w)` (the lower-level optimal-value
// constraint `L_SFT(θ) − L_SFT*` moved into the objective, the inner optimum approximated by the
// SFT model = the reference), λ = 1. Its gradient adds `−λ/|y_w|` to `g_w` at every step. The
// other candidates (`hinge`: only below the reference; `sft`: same gradient as `value`) stay
// options; the hinge and a weaker λ are run as exploration. Every number below measures the
// reconstruction.
//
// **Setup.** (A) Illustration, one deterministic instance: Razin et al.'s single-token toy
// (`lab.displacementToy()`: y+ = "No", y− = "Never" with nearly parallel unembeddings, "Yes"
// aligned with their difference), SGD lr 0.03 for 400 steps, where DPO moves mass from "No" to
// "Yes".
// (B) Findings: the toy of notebook 05 — unconstrained features, 8 prompts, 6-token responses
// over 16 tokens, y_l = y_w except at 2 positions — per seed 40 steps of SFT on y_w, then each
// loss from the SFT model (also the reference): full-batch SGD, lr 0.2, 100 steps, DPO β = 0.1,
// SimPO β = 2, γ/β = 0.25 (its defaults), SPO λ = 1. Six seeds (smoke: three seeds, 20 steps).
// The measured quantity is `Δ = logps/chosen − its value at step 0`, the batch mean of the summed
// log π(y_w), in nats.
//
// **Claims and thresholds (stated before the run)**, each a mean over seeds with its 95%
// t-interval:
// - **G1:** DPO alone lowers log π(y_w): final Δ < 0 (interval below 0).
// - **G2:** SimPO alone lowers it: final Δ < 0.
// - **G3:** DPO + SPO keeps it: the lowest Δ over the run is ≥ −0.1 nats (interval's lower end
//   ≥ −0.1; a tolerance of one small step), and the final Δ exceeds DPO's (paired difference > 0).
// - **G4:** SimPO + SPO keeps it: the same two statements against SimPO.
// - **G5:** the preference is still learned under SPO: the gain of TRL's `rewards/margins` over
//   the run (β·Δ(ℓθ(y_w) − ℓθ(y_l)) from the start) is > 0 for both bases.
// - Exploration (no threshold): DPO + SPO with the hinge penalty and with λ = 0.1.
//
// **Sanity checks** (the code against its own theory, not findings): on toy A, DPO lowers π(No)
// towards "Yes" (Razin et al. Thm 5) and DPO + SPO raises it; at step 0 SPO's loss equals its
// base's; the penalties' gradients on synthetic completions are the formula's (section C).

// %%
import * as lab from "../lib/mod.ts";
// Toy tensors of a few hundred numbers: per-op dispatch dominates, so the pure-JS cpu backend
// (also deterministic); measured on this 2-core machine a step costs ~10-40 ms.
const report = await lab.setupNotebook({ backend: "cpu" });

// %% [markdown]
// ## A · Where the mass goes on the single-token displacement toy (illustration)

// %%
const toy = lab.displacementToy();
const TOY_TOKENS = toy.options.tokens as string[];
const NO = toy.chosen, NEVER = toy.rejected;
// DPO lowers π(No) only late on this toy (Razin et al. run it to 400 steps as well).
const A_STEPS = lab.bySmoke(400, 60);
// An empty good set: the tracker still labels each loss of y_w mass benign or catastrophic.
const toyRun = (objective: lab.Objective) =>
  lab.toyRun({
    model: toy.options,
    chosen: NO,
    rejected: NEVER,
    objective,
    steps: A_STEPS,
    good: [],
  });
const toyRuns = {
  DPO: await toyRun(lab.dpo({ beta: 0.1 })),
  "DPO + SPO (value, λ=1)": await toyRun(lab.spo({ base: "dpo" })),
};
await lab.show(lab.subplots(
  Object.entries(toyRuns).map(([name, r]) =>
    lab.massEvolution(r.history, {
      include: [NO, NEVER],
      topK: 4,
      labels: TOY_TOKENS,
      title: name,
    })
  ),
  { columns: 2, rowHeight: 340, title: "Probability mass by token (y+ = No, y− = Never)" },
));
const pEnd = (r: (typeof toyRuns)["DPO"]) => r.history.at(-1)!.probs;
const dot = (a: number[], b: number[]) => a.reduce((acc, v, i) => acc + v * b[i], 0);
const p0 = lab.softmax64(toy.options.unembedding!.map((w) => dot(w, toy.options.hidden![0])));
lab.printTable(
  Object.entries(toyRuns).map(([name, r]) => ({
    run: name,
    "π(No) start → end": `${p0[NO].toFixed(3)} → ${pEnd(r)[NO].toFixed(3)}`,
    "π(Never)": `${p0[NEVER].toFixed(3)} → ${pEnd(r)[NEVER].toFixed(3)}`,
    "largest other gain": lab.topKGains(p0, pEnd(r), { k: 1, exclude: [NO, NEVER] }).map((g) =>
      `${TOY_TOKENS[g.token]} ${g.gain >= 0 ? "+" : ""}${g.gain.toFixed(3)}`
    ).join(""),
  })),
);
await lab.flushOutput();

// %% [markdown]
// ## B · Seeds on the SFT'd multi-token toy
// Data and initialisation depend on the seed; every loss starts from the same SFT model of its
// seed (weights copied), so per-seed differences are paired.

// %%
// 16 tokens, 8 dimensions, 8 prompts of 6 tokens, y_l differing at 2 positions, lr 0.2.
const TOY = lab.sftToyConfig({ sftSteps: lab.bySmoke(40, 10), steps: lab.bySmoke(100, 20) });
const STEPS = TOY.steps;
const SEEDS = lab.bySmoke([1, 2, 3, 4, 5, 6], [1, 2, 3]);
type Rec = Record<string, number>;

type Method = { name: string; make: () => lab.Objective; full?: boolean };
const METHODS: Method[] = [
  { name: "DPO", make: () => lab.dpo({ beta: 0.1 }) },
  { name: "DPO + SPO", make: () => lab.spo({ base: "dpo" }) },
  { name: "SimPO", make: () => lab.simpo() },
  { name: "SimPO + SPO", make: () => lab.spo({ base: "simpo" }) },
  {
    name: "DPO + SPO hinge",
    make: () => lab.spo({ base: "dpo", penalty: "hinge" }),
    full: true,
  },
  { name: "DPO + SPO λ=0.1", make: () => lab.spo({ base: "dpo", lambda: 0.1 }), full: true },
];
const methods = METHODS.filter((m) => !m.full || !lab.isSmoke());
const runs = new Map<string, Rec[][]>(methods.map((m) => [m.name, []]));
const t0 = performance.now();
for (const seed of SEEDS) {
  const start = await lab.sftStart(seed, TOY);
  for (const m of methods) runs.get(m.name)!.push(await lab.runFromSft(start, m.make(), TOY));
}
console.log(
  `${SEEDS.length} seeds × ${methods.length} losses of ${STEPS} steps in ${
    ((performance.now() - t0) / 1000).toFixed(0)
  } s`,
);
await lab.flushOutput();

// %% [markdown]
// Δ log π(y_w) over training, mean over seeds (dotted: its 95% t-interval).

// %%
const delta = (r: Rec[]) => r.map((x) => x["logps/chosen"] - r[0]["logps/chosen"]);
const COLORS: Record<string, string> = {
  DPO: "#1f77b4",
  "DPO + SPO": "#aec7e8",
  SimPO: "#d62728",
  "SimPO + SPO": "#ff9896",
  "DPO + SPO hinge": "#2ca02c",
  "DPO + SPO λ=0.1": "#9467bd",
};
const band = (name: string) => {
  const rs = runs.get(name)!;
  return lab.seedBand(name, rs[0].map((r) => r.step), rs.map(delta), COLORS[name]);
};
await lab.show(lab.lineFigure(methods.flatMap((m) => band(m.name)), {
  title: `Δ log π(y_w) (batch mean of summed log-probs, nats), ${SEEDS.length} seeds`,
  xTitle: "step",
  yTitle: "Δ log π(y_w) (nats)",
}));

// %% [markdown]
// ## C · The penalty's gradient (sanity check)
// On synthetic 8-token completions (`lab.tokenGradientField`), the value penalty
// `λ(ℓ̄ref − ℓ̄θ)(y_w)` must add exactly `−λ/8` to DPO's `g_w` everywhere and leave `g_l` alone;
// the hinge must add `−λ/8` where u_w < 0 (below the reference) and nothing where u_w > 0.

// %%
const penaltyGrid = { uW: { min: -20, max: 20, n: 9 }, uL: { min: -20, max: 20, n: 9 } };
const fDpo = lab.tokenGradientField(lab.dpo({ beta: 0.1 }), penaltyGrid);
const fValue = lab.tokenGradientField(lab.spo({ base: "dpo" }), penaltyGrid);
const fHinge = lab.tokenGradientField(lab.spo({ base: "dpo", penalty: "hinge" }), penaltyGrid);
let valueErr = 0, hingeErr = 0;
fDpo.uL.forEach((_, i) =>
  fDpo.uW.forEach((uw, j) => {
    const base = fDpo.gW[i][j];
    valueErr = Math.max(
      valueErr,
      Math.abs(fValue.gW[i][j] - base + 1 / 8),
      Math.abs(fValue.gL[i][j] - fDpo.gL[i][j]),
    );
    // At u_w = 0 exactly the hinge has a kink; its two sides are checked around it.
    if (uw !== 0) {
      hingeErr = Math.max(
        hingeErr,
        Math.abs(fHinge.gW[i][j] - base + (uw < 0 ? 1 / 8 : 0)),
        Math.abs(fHinge.gL[i][j] - fDpo.gL[i][j]),
      );
    }
  })
);
console.log(
  `largest error: value penalty ${valueErr.toExponential(2)}, hinge ${hingeErr.toExponential(2)}`,
);
await lab.flushOutput();

// %% [markdown]
// ## Measured
// Sanity checks first (the code against its own formula or theory), then the findings: mean and
// 95% t-interval over seeds (for G3b, G4b the per-seed paired difference), against the threshold
// and direction stated above. Only findings count in the verdict.

// %%
{
  const finalDelta = (name: string) => runs.get(name)!.map((r) => delta(r).at(-1)!);
  const lowestDelta = (name: string) => runs.get(name)!.map((r) => Math.min(...delta(r)));
  const margin = (name: string) =>
    runs.get(name)!.map((r) => r.at(-1)!["rewards/margins"] - r[0]["rewards/margins"]);
  const overSeeds = (xs: number[]) => lab.meanCI(xs, 0.95, "seeds");
  const table = lab.studyTable();
  const piDpo = pEnd(toyRuns.DPO)[NO] / p0[NO];
  const piSpo = pEnd(toyRuns["DPO + SPO (value, λ=1)"])[NO] / p0[NO];
  const topOther = lab.topKGains(p0, pEnd(toyRuns.DPO), { k: 1, exclude: [NO, NEVER] })[0];
  // DPO lowers π(No) only late on this toy, after the smoke run's few steps: smoke mode checks
  // where the mass goes, full mode also that π(No) fell.
  table.sanity({
    what: "toy A: DPO lowers π(No) and moves the mass to Yes (Razin et al. Thm 5)",
    expected: lab.isSmoke()
      ? `largest other gain is Yes (π(No) falls only later than the ${A_STEPS} smoke steps)`
      : "π(No) end/start < 1; largest other gain is Yes",
    measured: `π(No) ×${piDpo.toFixed(3)}; largest other gain ${TOY_TOKENS[topOther.token]}`,
    pass: (lab.isSmoke() || piDpo < 1) && topOther.token === TOY_TOKENS.indexOf("Yes"),
  });
  table.sanity({
    what: "toy A: DPO + SPO (value, λ = 1) raises π(No)",
    expected: "π(No) end/start > 1",
    measured: `π(No) ×${piSpo.toFixed(3)}`,
    pass: piSpo > 1,
  });
  // At step 0 (policy = reference) every penalty is 0 and the loss is the base's.
  const l0 = (name: string, base: string) =>
    Math.max(...runs.get(name)!.map((r, i) => Math.abs(r[0].loss - runs.get(base)![i][0].loss)));
  const step0 = Math.max(l0("DPO + SPO", "DPO"), l0("SimPO + SPO", "SimPO"));
  table.sanity({
    what: "step 0: SPO's loss equals its base's (penalty 0 at the reference)",
    expected: "max |difference| < 1e-6 over seeds, DPO and SimPO",
    measured: `${step0.toExponential(2)}`,
    pass: step0 < 1e-6,
  });
  table.sanity({
    what: "the value penalty adds −λ/|y_w| to g_w, nothing to g_l (section C)",
    expected: "max error < 1e-6",
    measured: `${valueErr.toExponential(2)}`,
    pass: valueErr < 1e-6,
  });
  table.sanity({
    what: "the hinge penalty adds −λ/|y_w| to g_w only below the reference (section C)",
    expected: "max error < 1e-6",
    measured: `${hingeErr.toExponential(2)}`,
    pass: hingeErr < 1e-6,
  });
  for (const [id, base] of [["G1", "DPO"], ["G2", "SimPO"]] as const) {
    table.finding({
      claim: `${id}: ${base} alone lowers log π(y_w)`,
      expected: "final Δ < 0 nats",
      estimate: overSeeds(finalDelta(base)),
      threshold: 0,
      direction: "<",
    });
  }
  for (const [id, base] of [["G3", "DPO"], ["G4", "SimPO"]] as const) {
    const spo = `${base} + SPO`;
    table.finding({
      claim: `${id}a: ${spo} keeps log π(y_w) at its start`,
      expected: "lowest Δ over the run ≥ −0.1 nats",
      estimate: overSeeds(lowestDelta(spo)),
      threshold: -0.1,
      direction: ">",
    });
    const a = finalDelta(spo), b = finalDelta(base);
    table.finding({
      claim: `${id}b: ${spo} ends with log π(y_w) above ${base} alone`,
      expected: `final Δ, ${spo} − ${base} > 0 (paired over seeds)`,
      estimate: lab.meanCI(a.map((v, i) => v - b[i]), 0.95, "paired seed differences"),
      threshold: 0,
      direction: ">",
    });
  }
  for (const base of ["DPO", "SimPO"]) {
    table.finding({
      claim: `G5: the preference is still learned under ${base} + SPO`,
      expected: "gain of rewards/margins over the run > 0",
      estimate: overSeeds(margin(`${base} + SPO`)),
      threshold: 0,
      direction: ">",
    });
  }
  // Mean [95% t-interval] over seeds, one aligned row per loss (the header says it once).
  const f = (xs: number[]) => {
    const e = overSeeds(xs), g = (x: number) => x.toPrecision(3);
    return `${g(e.mean)} [${g(e.lo)}, ${g(e.hi)}]`.padEnd(28);
  };
  const lines = [
    `Per loss: mean [95% t-interval] over ${SEEDS.length} seeds, nats`,
    `  ${"loss".padEnd(18)} ${"final Δ".padEnd(28)} ${"lowest Δ".padEnd(28)} margin gain`,
  ];
  for (const m of methods) {
    lines.push(
      `  ${m.name.padEnd(18)} ${f(finalDelta(m.name))} ${f(lowestDelta(m.name))} ${
        f(margin(m.name)).trim()
      }`,
    );
  }
  lines.push(`(backend ${report.name} on ${report.adapter})`);
  if (lab.isSmoke()) {
    lines.push(
      `(smoke mode: ${SEEDS.length} seeds instead of 6, ${STEPS} steps instead of 100, no ` +
        `exploration runs, ${A_STEPS} toy steps (DPO displaces later) — not findings)`,
    );
  }
  console.log(lab.wrapText(lines.join("\n")) + "\n");
  await table.print();
}
