// %% [markdown]
// # 05 · SGDPO versus DPO: chosen and rejected reward updates
//
// **Question.** SGDPO (Self-Guided DPO, Zhu et al., arXiv 2505.12435) adds a *pilot term*, built
// from random sub-sequences of the chosen and the rejected response (fractions `r1`, `r2`), that
// steers DPO's gradient with two design goals: **G1** enlarge the update of the chosen reward,
// **G2** keep the rejected reward from falling too fast. Does the library's SGDPO meet both goals
// against DPO on a toy model, and how much do `r1` and `r2` matter?
//
// **Which SGDPO this is.** The paper's pilot formula was not available (only its abstract and
// two machine-written summaries), so `lab.sgdpo` is a documented **reconstruction**
// (`lib/objectives/sgdpo.ts`), and every number below measures the reconstruction, not the
// paper's method:
// - pilot: `p̂ = (n/k)·Σ_{sampled t} (log πθ(y_t) − log πref(y_t))`, an unbiased estimate of
//   `u = ℓθ − ℓref` from `k = max(1, round(r·n))` random tokens (`r1` for y_w, `r2` for y_l,
//   different random positions on the two sides), detached;
// - multipliers `k_w = 1 + λ_w σ(−β p̂_w) ∈ [1, 1+λ_w]`, `k_l = 1 − λ_l σ(−β p̂_l) ∈ [1−λ_l, 1]`;
// - the loss *value* is DPO's; the gradient weights are `g_w = k_w·g_w(DPO)`,
//   `g_l = k_l·g_l(DPO)` (defaults β = 0.1, r1 = r2 = 0.5, λ_w = λ_l = 0.5).
//
// **Setup.** Gradient weights over the (u_w, u_l) plane for both objectives (SGDPO is token-level,
// so its field is computed with synthetic completions of 8 tokens: `lab.tokenGradientField`).
// Then a toy model with multi-token responses: the unconstrained-features model (free hidden
// embedding per context, free shared unembedding, Razin et al. §4) with one context per
// (prompt, position), 8 prompts, responses of 6 tokens over a 16-token vocabulary, and y_l equal
// to y_w except at 3 random positions (`lab.createToySequenceScorer`, which also supplies the
// per-token data SGDPO reads). Full-batch SGD, lr 0.5, β = 0.1, identical initialisation for every
// run. Finally a sweep over r1 × r2 and, for contrast, over λ.
//
// **Expected** (stated before the run).
// 1. *Fields:* `|g_w(SGDPO)| ≥ |g_w(DPO)|` and `|g_l(SGDPO)| ≤ |g_l(DPO)|` everywhere, the ratios
//    within [1, 1.5] and [0.5, 1].
// 2. *Training, G1 and G2:* at equal steps SGDPO's chosen reward gains more than DPO's and its
//    rejected reward falls more slowly. Positions where y_w and y_l share a token cancel in DPO's
//    margin, but SGDPO weights the two sides differently (`k_w > k_l`), so it pushes shared tokens
//    up: that alone raises both rewards.
// 3. *r1, r2:* the pilot is unbiased, so `r` acts only through its noise passed through σ. By
//    Jensen's inequality, once u_w > 0 (σ(−β·) convex there) a noisier chosen pilot (smaller r1)
//    gives a *larger* mean k_w, and once u_l < 0 (σ concave) a noisier rejected pilot (smaller
//    r2) gives a larger k_l, a *faster* rejected fall. Both are second-order effects, expected to be
//    smaller than switching the pilot on (λ from 0 to 0.5).

// %%
import * as lab from "../lib/mod.ts";
// Toy tensors hold a few hundred numbers, so per-op dispatch dominates. Measured on this 2-core
// machine when the study was written (a DPO step of the one-pair displacement toy): cpu ~8 ms,
// wasm ~13 ms, webgpu on the llvmpipe software adapter ~64 ms. So this study uses the pure-JS cpu
// backend, which is also deterministic.
const report = await lab.setupNotebook({ backend: "cpu" });

// %% [markdown]
// ## 1 · Gradient fields
// Arrows point where gradient descent moves (u_w, u_l); the background is ‖∇L‖. For SGDPO with
// `r = 1` the pilot is exact (`p̂ = u`); with `r = 0.25` each of the 8 synthetic tokens carries
// `u/8` plus N(0, 2²) noise (centred so the tokens sum to u), and the field is the mean over 20
// draws of noise and pilot positions.

// %%
const grid = { uW: { min: -30, max: 30, n: 25 }, uL: { min: -30, max: 30, n: 25 } };
const beta = 0.1;
const fieldDpo = lab.gradientField(lab.dpo({ beta }), grid);
const fieldSg1 = lab.tokenGradientField(lab.sgdpo({ beta, r1: 1, r2: 1 }), grid);
const fieldSgQ = lab.tokenGradientField(lab.sgdpo({ beta, r1: 0.25, r2: 0.25 }), {
  ...grid,
  spread: 2,
  samples: lab.bySmoke(20, 3),
  seed: 1,
});
await lab.show(lab.objectiveFields([
  { name: "DPO", field: fieldDpo },
  { name: "SGDPO, r = 1 (exact pilot)", field: fieldSg1 },
  { name: "SGDPO, r = 0.25 (noisy pilot, mean)", field: fieldSgQ },
], { title: "Gradient fields: DPO and reconstructed SGDPO (β = 0.1)" }));

// %% [markdown]
// The multipliers themselves, `k_w = g_w/g_w(DPO)` and `k_l = g_l/g_l(DPO)`: the chosen push is
// boosted most where u_w < 0 (the chosen response has lost likelihood), the rejected push damped
// most where u_l < 0 (the rejected response is already pushed down).

// %%
const ratio = (a: number[][], b: number[][]) => a.map((row, i) => row.map((v, j) => v / b[i][j]));
const kPanels = [
  { name: "k_w, r = 1", z: ratio(fieldSg1.gW, fieldDpo.gW) },
  { name: "k_l, r = 1", z: ratio(fieldSg1.gL, fieldDpo.gL) },
  { name: "k_w, r = 0.25", z: ratio(fieldSgQ.gW, fieldDpo.gW) },
  { name: "k_l, r = 0.25", z: ratio(fieldSgQ.gL, fieldDpo.gL) },
];
await lab.show(lab.subplots(
  kPanels.map((p) =>
    lab.heatmapFigure({ z: p.z, x: fieldDpo.uW, y: fieldDpo.uL }, {
      title: p.name,
      xTitle: "u<sub>w</sub> (nats)",
      yTitle: "u<sub>l</sub> (nats)",
      zTitle: "multiplier",
      zmin: 0.5,
      zmax: 1.5,
    })
  ),
  { columns: 2, rowHeight: 320, title: "SGDPO gradient multipliers relative to DPO" },
));

// %% [markdown]
// ## 2 · Training on the toy model
// The data: 8 prompts, y_w of 6 random tokens, y_l = y_w with 3 positions replaced by another
// random token. Each run starts from the same seeded model and its reference is that initial
// model.

// %%
const V = 16, DIM = 8, PROMPTS = 8, LEN = 6, DIFFER = 3;
const tokens = Array.from({ length: V }, (_, i) => `t${i}`);
const rng = new lab.Rng(4242);
const randInt = (n: number) => Math.floor(rng.uniform() * n);
const pairs = { prompt: [] as number[], chosen: [] as number[][], rejected: [] as number[][] };
for (let x = 0; x < PROMPTS; x++) {
  const yw = Array.from({ length: LEN }, () => randInt(V));
  const yl = [...yw];
  const order = Array.from({ length: LEN }, (_, i) => i).sort(() => rng.uniform() - 0.5);
  for (const t of order.slice(0, DIFFER)) yl[t] = (yw[t] + 1 + randInt(V - 1)) % V;
  pairs.prompt.push(x), pairs.chosen.push(yw), pairs.rejected.push(yl);
}
const data = lab.toySequenceData(pairs);
console.log(
  pairs.chosen.slice(0, 3).map((yw, i) =>
    `x${i}: y_w ${yw.join(" ")} | y_l ${pairs.rejected[i].join(" ")}`
  ).join("\n"),
);

type Rec = Record<string, number>;
/** Train a fresh copy of the toy model with `objective`; the records of steps 1..N. */
async function run(objective: lab.Objective, steps: number): Promise<Rec[]> {
  const model = lab.createUnconstrainedFeatures({
    tokens,
    prompts: PROMPTS * LEN,
    dim: DIM,
    seed: 1,
  });
  const scorer = lab.createToySequenceScorer(model, { maxLength: LEN });
  try {
    const result = await lab.train({
      policy: scorer,
      data,
      objective,
      optimizer: { name: "sgd" },
      lr: 0.5,
      batchSize: PROMPTS,
      maxSteps: steps,
      progress: false,
      examplesEvery: false,
    });
    return result.records.filter((r: { step: number }) => r.step > 0) as unknown as Rec[];
  } finally {
    scorer.dispose();
    model.dispose();
  }
}

const STEPS = lab.bySmoke(300, 30);
const t0 = performance.now();
const dpoRun = await run(lab.dpo({ beta }), STEPS);
const t1 = performance.now();
const sgRun = await run(lab.sgdpo({ beta }), STEPS);
const t2 = performance.now();
console.log(
  `${STEPS} steps: DPO ${((t1 - t0) / 1000).toFixed(1)} s, SGDPO ${
    ((t2 - t1) / 1000).toFixed(1)
  } s`,
);

// %%
await lab.show(
  lab.runComparison([{ name: "DPO", records: dpoRun }, { name: "SGDPO", records: sgRun }], {
    keys: ["rewards/chosen", "rewards/rejected", "rewards/margins", "loss"],
    title: "Implicit rewards β·u (nats), DPO vs reconstructed SGDPO",
  }),
);

// %% [markdown]
// What the pilot did: the mean multipliers over the batch at each step (SGDPO logs them as
// `kChosen` and `kRejected`).

// %%
await lab.show(lab.runComparison([{ name: "SGDPO", records: sgRun }], {
  keys: ["kChosen", "kRejected"],
  title: "SGDPO multipliers k_w, k_l (batch mean)",
}));

// %% [markdown]
// ## 3 · Sweeps: r1 × r2, and λ for contrast
// Summary numbers of a run of N steps (records hold the scores *before* each step's update):
// the **chosen gain** is `rewards/chosen` at the last record, the **early chosen update** the
// mean per-step change of `rewards/chosen` over the first 20 steps, and the **rejected fall
// rate** `−rewards/rejected / (N − 1)` per step.

// %%
const at = (r: Rec[], key: string) => r.at(-1)![key];
const chosenGain = (r: Rec[]) => at(r, "rewards/chosen");
const earlyUpdate = (r: Rec[]) => {
  const n = Math.min(20, r.length - 1);
  return (r[n]["rewards/chosen"] - r[0]["rewards/chosen"]) / n;
};
const fallRate = (r: Rec[]) => -at(r, "rewards/rejected") / (r.length - 1);

const SWEEP_STEPS = lab.bySmoke(200, 20);
const rValues: number[] = lab.bySmoke([1 / 6, 0.5, 1], [1 / 6, 1]);
const sweep: { r1: number; r2: number; gain: number; fall: number }[] = [];
const ts = performance.now();
for (const r1 of rValues) {
  for (const r2 of rValues) {
    const rec = await run(lab.sgdpo({ beta, r1, r2 }), SWEEP_STEPS);
    sweep.push({ r1, r2, gain: chosenGain(rec), fall: fallRate(rec) });
  }
}
const lambdas = lab.bySmoke([0, 0.25, 0.5, 1], [0, 0.5]);
const lambdaSweep: { lambda: number; gain: number; fall: number }[] = [];
for (const lambda of lambdas) {
  const rec = await run(
    lab.sgdpo({ beta, lambdaChosen: lambda, lambdaRejected: lambda }),
    SWEEP_STEPS,
  );
  lambdaSweep.push({ lambda, gain: chosenGain(rec), fall: fallRate(rec) });
}
console.log(
  `${sweep.length + lambdaSweep.length} sweep runs of ${SWEEP_STEPS} steps in ${
    ((performance.now() - ts) / 1000).toFixed(0)
  } s`,
);
console.table(sweep.map((s) => ({
  r1: s.r1.toFixed(2),
  r2: s.r2.toFixed(2),
  "chosen gain": s.gain.toFixed(4),
  "rejected fall / step": s.fall.toExponential(3),
})));
console.table(lambdaSweep.map((s) => ({
  "λ_w = λ_l": s.lambda,
  "chosen gain": s.gain.toFixed(4),
  "rejected fall / step": s.fall.toExponential(3),
})));

// %%
const sweepLines = (key: "gain" | "fall", along: "r1" | "r2") => {
  const other = along === "r1" ? "r2" : "r1";
  return rValues.map((v) => {
    const pts = sweep.filter((s) => s[other] === v).sort((a, b) => a[along] - b[along]);
    return {
      x: pts.map((s) => s[along]),
      y: pts.map((s) => s[key]),
      name: `${other} = ${v.toFixed(2)}`,
    };
  });
};
await lab.show(lab.subplots([
  lab.lineFigure(sweepLines("gain", "r1"), {
    title: `chosen gain after ${SWEEP_STEPS} steps`,
    xTitle: "r1 (chosen pilot fraction)",
    yTitle: "β·u_w",
  }),
  lab.lineFigure(sweepLines("fall", "r2"), {
    title: "rejected fall rate",
    xTitle: "r2 (rejected pilot fraction)",
    yTitle: "−β·u_l per step",
  }),
], { columns: 2, rowHeight: 340, title: "SGDPO r1 × r2 sweep (λ = 0.5)" }));

// %%
await lab.show(lab.subplots([
  lab.lineFigure({ x: lambdas, y: lambdaSweep.map((s) => s.gain), name: "chosen gain" }, {
    title: "chosen gain vs λ",
    xTitle: "λ_w = λ_l",
    yTitle: "β·u_w at the end",
  }),
  lab.lineFigure({ x: lambdas, y: lambdaSweep.map((s) => s.fall), name: "rejected fall" }, {
    title: "rejected fall rate vs λ",
    xTitle: "λ_w = λ_l",
    yTitle: "per step",
  }),
], { columns: 2, rowHeight: 300, title: "SGDPO λ sweep (r1 = r2 = 0.5); λ = 0 is DPO" }));

// %% [markdown]
// ## Measured
// Every number below is computed from the runs above.

// %%
{
  const maxOf = (m: number[][]) => Math.max(...m.flat()),
    minOf = (m: number[][]) => Math.min(...m.flat());
  const kw1 = kPanels[0].z, kl1 = kPanels[1].z, kwQ = kPanels[2].z, klQ = kPanels[3].z;
  const fieldOk = [kw1, kwQ].every((k) => minOf(k) >= 1 - 1e-4 && maxOf(k) <= 1.5 + 1e-4) &&
    [kl1, klQ].every((k) => minOf(k) >= 0.5 - 1e-4 && maxOf(k) <= 1 + 1e-4);
  // Sanity checks (the code against its own theory) are kept apart from findings (the papers'
  // claims on the runs); only findings count in the verdict.
  const table = lab.studyTable();
  const lines: string[] = [];
  const sanity = (what: string, expected: string, measured: string, pass: boolean) =>
    table.sanity({ what, expected, measured, pass });
  const finding = (claim: string, expected: string, measured: string, pass: boolean) =>
    table.finding({ claim, expected, measured, pass });
  // The multiplier bounds hold by construction of SGDPO's weights: a check of the code.
  sanity(
    "1. fields",
    "k_w in [1, 1.5], k_l in [0.5, 1] everywhere",
    `k_w in [${minOf(kw1).toFixed(3)}, ${maxOf(kw1).toFixed(3)}] (r=1), [${
      minOf(kwQ).toFixed(3)
    }, ${maxOf(kwQ).toFixed(3)}] (r=0.25); k_l in [${minOf(kl1).toFixed(3)}, ${
      maxOf(kl1).toFixed(3)
    }] (r=1), [${minOf(klQ).toFixed(3)}, ${maxOf(klQ).toFixed(3)}] (r=0.25)`,
    fieldOk,
  );
  const g1 = chosenGain(sgRun) > chosenGain(dpoRun) && earlyUpdate(sgRun) > earlyUpdate(dpoRun);
  finding(
    "2. G1: the chosen reward's update is enlarged",
    "SGDPO chosen gain and early per-step chosen update > DPO's",
    `chosen gain after ${STEPS - 1} updates: SGDPO ${chosenGain(sgRun).toFixed(4)} vs DPO ${
      chosenGain(dpoRun).toFixed(4)
    }; early update/step: SGDPO ${earlyUpdate(sgRun).toExponential(3)} vs DPO ${
      earlyUpdate(dpoRun).toExponential(3)
    } (x${(earlyUpdate(sgRun) / earlyUpdate(dpoRun)).toFixed(2)})`,
    g1,
  );
  const peak = (r: Rec[]) => Math.max(...r.map((x) => x["rewards/chosen"]));
  lines.push(
    `  (DPO's chosen reward peaked at ${peak(dpoRun).toFixed(4)} and ended at ${
      chosenGain(dpoRun).toFixed(4)
    }; SGDPO's peaked at ${peak(sgRun).toFixed(4)})`,
  );
  const g2 = fallRate(sgRun) < fallRate(dpoRun);
  finding(
    "2. G2: the rejected reward falls more slowly",
    "SGDPO rejected fall rate < DPO's",
    `SGDPO ${fallRate(sgRun).toExponential(3)} vs DPO ${
      fallRate(dpoRun).toExponential(3)
    } per step ` +
      `(margins at the end: SGDPO ${at(sgRun, "rewards/margins").toFixed(3)}, DPO ${
        at(dpoRun, "rewards/margins").toFixed(3)
      })`,
    g2,
  );
  // r1/r2: direction by Jensen, size relative to switching the pilot on.
  const meanBy = (key: "r1" | "r2", v: number, m: "gain" | "fall") => {
    const xs = sweep.filter((s) => s[key] === v).map((s) => s[m]);
    return lab.mean(xs);
  };
  const lo = rValues[0], hi = rValues.at(-1)!;
  const dGainR1 = meanBy("r1", lo, "gain") - meanBy("r1", hi, "gain");
  const dFallR2 = meanBy("r2", lo, "fall") - meanBy("r2", hi, "fall");
  const l0 = lambdaSweep.find((s) => s.lambda === 0)!,
    l5 = lambdaSweep.find((s) => s.lambda === 0.5)!;
  const lamGain = l5.gain - l0.gain, lamFall = l0.fall - l5.fall;
  const span = (m: "gain" | "fall") =>
    Math.max(...sweep.map((s) => s[m])) - Math.min(...sweep.map((s) => s[m]));
  finding(
    "3. r1, r2 direction (Jensen)",
    "smaller r1 -> larger chosen gain; smaller r2 -> faster rejected fall",
    `chosen gain r1=${lo.toFixed(2)} minus r1=${hi} (mean over r2): ${dGainR1.toExponential(2)}; ` +
      `fall rate r2=${lo.toFixed(2)} minus r2=${hi} (mean over r1): ${dFallR2.toExponential(2)}`,
    dGainR1 > 0 && dFallR2 > 0,
  );
  finding(
    "3. r1, r2 size",
    "the r1 x r2 sweep moves gain and fall rate less than lambda 0 -> 0.5 does",
    `spread over the r grid: gain ${span("gain").toExponential(2)}, fall ${
      span("fall").toExponential(2)
    }; lambda 0 -> 0.5: gain +${lamGain.toExponential(2)}, fall -${lamFall.toExponential(2)}`,
    span("gain") < Math.abs(lamGain) && span("fall") < Math.abs(lamFall),
  );
  lines.push(`(backend ${report.name} on ${report.adapter})`);
  if (lab.isSmoke()) {
    lines.push("(smoke mode: few steps and a 2 x 2 sweep, so the comparisons are weak)");
  }
  console.log(lines.join("\n"));
  await table.print();
}
