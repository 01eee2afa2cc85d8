// %% [markdown]
// # 04 · The squeezing effect
//
// **Question.** DPO pushes the rejected response down with a *negative gradient*. Ren &
// Sutherland (arXiv 2407.10490, §3.3 and App. E) argue that under a softmax a negative gradient
// does not spread the removed mass evenly: it *squeezes* it into the most likely token, so the
// argmax (greedy) response gains while nearly everything else, the chosen response included,
// loses. Does that hold, exactly as derived, on the linear softmax toy, and does our small
// shipped model show it?
//
// **Setup.**
// - *Part A — linear softmax toy* (`lab.createLinearSoftmax`: fixed input `x`, trained `W`,
//   logits `z = Wᵀx`), 16 tokens, on a *flat* and on a *peaky* initial distribution. Only a
//   negative gradient is applied: the loss is `ln π(y−|x)` alone (a user-defined objective),
//   trained by plain gradient descent, which is the update `W ← W + η x (p − e_{y−})ᵀ` of §5.3
//   of `objectives.md`. Every logit then moves by `Δz_k = c (p_k − 1[k = y−])`, `c = η‖x‖²`, so
//   the per-step ratios are exactly
//   `p_k^{t+1}/p_k^t = exp(c(p_k − 1[k=y−])) / Σ_j p_j exp(c(p_j − 1[j=y−]))` — compared with
//   the ratios the library's training loop produces (a sanity check of the code, not a finding).
//   Findings use 5 seeded toys (the initial logits jittered by N(0, 0.15²) and re-sorted, so
//   r1 stays the argmax); a sweep of the step size c ∈ {1/4, 1, 4, 16} shows where the
//   one-step pattern changes (to first order in c it does not depend on c).
// - *Part B — the shipped tiny GPT-2* on pairs of `data/datasets/simple_pairs` whose rejected
//   answer is a minor edit or a contradiction of the chosen one: DPO (β = 0.1) and the
//   negative-gradient-only loss, trained by plain SGD as in the theory (in trials, RMSProp's
//   per-parameter scaling made every response fall, the greedy one included), 20 steps of the
//   full batch, tracking the summed log-probs of the chosen and the rejected response, of the
//   greedy (argmax-decoded) response, and the argmax mass of the next-token distribution after
//   the prompt. A third run puts the negative gradient on the rejected response with its words
//   shuffled, a "valley" response of much lower probability. **Matched effective step size:**
//   the three runs have gradients of very different scale (DPO's carries β·σ ≤ 0.1), so each
//   gets its own lr, set on each pair set from one probe run by linear rescaling so that the
//   rejected log-prob falls by **3 nats** after 20 steps (the papers' regime: a few nats; an
//   earlier version moved it by 325 nats). Findings over **5 seeds** (5 disjoint sets of 8
//   pairs), t intervals; a sweep `lr*·{1/4, 1, 4, 16}` on the first seed shows where the
//   behaviour changes.
//
// **Expected** (written before the run; Ren & Sutherland §3.3 / App. E, objectives.md §5.3).
// Sanity checks: measured toy ratios equal the formula (error < 1e-4); the calibration puts
// every run's Δ ln π(y−) within 50% of the target, [−4.5, −2] nats, on every seed; the A·K·G
// totals equal the autodiff influence to 10⁻⁴ of the snapshot's largest part.
// Findings (5 seeds, 95% t interval wholly on the claimed side of the threshold):
// - A1 a negative gradient on a low-probability token (r12) squeezes mass into the argmax: the
//   argmax mass grows over 20 steps (smallest gain of the flat and peaky starts > 0);
// - A2 from a peaky start every other token falls after one step (share falling > 0.9);
// - A3 the lower p(y−), the more tokens lose: over the choice of y− on a flat start, Spearman
//   ρ(p(y−), share of the others that fall) < 0;
// - B1 on the GPT-2, the greedy response gains under the negative gradient: Δ ln π(greedy) > 0;
//   B2 and more than the chosen one: Δ ln π(greedy) − Δ ln π(chosen) > 0; B3 the same two
//   under DPO; B4 the next-token argmax mass after the prompt grows (negative gradient);
// - B5 a valley y− squeezes more than the data's y− (at the same 3-nat fall of ln π(y−)):
//   Δ ln π(greedy), valley − data > 0, paired by seed.
// - D1 on the SFT'd tiny model (`data/models/tiny-sft`, which answers the persona questions with
//   an answer word: held-out answer-word share 0.91, its card), a negative gradient on y− =
//   "Never" after a question whose answer is "No" raises the next token's argmax: over 5
//   questions, Δ ln π(argmax) is above 0; D2 a valley y− (" Absolutely", p ≈ 1e-6) makes more of
//   the other tokens fall than "Never" does: the share falling, valley minus Never, is above 0,
//   paired by question.
// The paper reports the greedy response rising (−113 → −63) under long off-policy DPO on a
// real model; whether our 1.3M-parameter model at a 3-nat step shows it is the open question.

// %%
import * as lab from "../lib/mod.ts";
const report = await lab.setupNotebook();
// Long printed lines wrapped at 110 columns, as the report page would otherwise cut them mid-word.
const say = (text: string) => console.log(lab.wrapText(text));
// Cells that print end with `await lab.flushOutput()`: the Deno kernel sends console output
// asynchronously, and a cell ending right after printing can lose its last lines.

// %% [markdown]
// ## Part A · Linear softmax toy
// Initial logits are set through a rank-one `W = x zᵀ/‖x‖²`, so `Wᵀx = z`: flat `z_k =
// −0.6 ln(k+1)` and peaky `z_k = −2.5 ln(k+1)` (token `r1` is the most likely, `r16` the least).
// Seed 0 is this default toy; seeds 1-5 jitter the logits (N(0, 0.15²)) and sort them again.

// %%
const V = 16;
const tokens = Array.from({ length: V }, (_, k) => `r${k + 1}`);
const x = [1, 0.5, -0.5, 0.25];
const x2 = x.reduce((a, v) => a + v * v, 0);
const eta = 1 / x2; // so c = eta * ||x||^2 = 1
const c = eta * x2;
const shapes = { flat: 0.6, peaky: 2.5 } as const;
type Shape = keyof typeof shapes;
const logitsOf = (shape: Shape, seed = 0) => {
  const rng = new lab.Rng(seed);
  const z = tokens.map((_, k) => -shapes[shape] * Math.log(k + 1));
  return seed === 0 ? z : z.map((v) => v + 0.15 * rng.normal()).sort((a, b) => b - a);
};
const makeToy = (shape: Shape, seed = 0) =>
  lab.createLinearSoftmax({
    tokens,
    inputs: [x],
    weights: x.map((xi) => logitsOf(shape, seed).map((zk) => (xi * zk) / x2)),
  });
// The loss ln pi(y-|x) alone: gradient descent on it is a pure negative gradient on y-.
const negativeOnly = lab.defineObjective({
  name: "negative_gradient",
  specs: {},
  needsReference: () => false,
  loss: (s) => s.policyRejected.clone(),
}, {});
for (const shape of ["flat", "peaky"] as const) {
  const p = lab.softmax64(logitsOf(shape));
  say(
    `${shape.padEnd(5)} p: ${Array.from(p, (v) => v.toFixed(3)).join(" ")}  ` +
      `(argmax mass ${p[0].toFixed(3)})`,
  );
}
await lab.flushOutput();

// %% [markdown]
// ### A1 · Trajectories under a negative gradient on a low-probability token
// y− = `r12`. The distribution tracker stores `p` after every step.

// %%
const yMinus = 11;
const stepsA = lab.bySmoke(20, 10);
async function negativeRun(shape: Shape, rejected: number, steps: number, seed = 0, cScale = 1) {
  const toy = makeToy(shape, seed);
  const dist = lab.distributionTracker({ source: toy, rejected: [rejected], file: false });
  await lab.train({
    policy: toy,
    data: lab.toyData({ prompt: [0], chosen: [0], rejected: [rejected] }),
    objective: negativeOnly,
    optimizer: { name: "sgd" },
    lr: cScale * eta,
    batchSize: 1,
    maxSteps: steps,
    progress: false,
    callbacks: [dist],
  });
  toy.dispose();
  return dist.history.map((h) => h.probs);
}
/** The derived ratio p_k^{t+1} / p_k^t of every token, from p^t. */
function predictedRatios(p: Float64Array, rejected: number): Float64Array {
  const a = Float64Array.from(p, (pk, k) => Math.exp(c * (pk - (k === rejected ? 1 : 0))));
  const z = a.reduce((s, ak, k) => s + p[k] * ak, 0);
  return a.map((ak) => ak / z);
}
const trajectories = {
  flat: await negativeRun("flat", yMinus, stepsA),
  peaky: await negativeRun("peaky", yMinus, stepsA),
};
// Largest |ln(observed ratio) - ln(predicted ratio)| over all steps and tokens.
const ratioError = (probs: Float64Array[]) =>
  Math.max(
    ...probs.slice(1).flatMap((p, t) => {
      const pred = predictedRatios(probs[t], yMinus);
      return Array.from(p, (v, k) => Math.abs(Math.log(v / probs[t][k]) - Math.log(pred[k])));
    }),
  );
say(
  `max |ln ratio observed − ln ratio derived|: flat ${
    ratioError(trajectories.flat).toExponential(2)
  }, ` +
    `peaky ${ratioError(trajectories.peaky).toExponential(2)}`,
);
await lab.flushOutput();

// %%
const stepAxis = trajectories.flat.map((_, t) => t);
// One colour per token: y− in the rejected colour, the other 15 from the Okabe-Ito colours
// (yellow left out) and Paul Tol's muted set, so no two tokens share a colour.
const O = lab.OKABE_ITO;
const TOKEN_COLORS: string[] = [
  ...[O.blue, O.orange, O.skyBlue, O.bluishGreen, O.reddishPurple, O.black],
  ...["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677"],
  ...["#882255", "#AA4499"],
];
const tokenColor = (k: number) =>
  k === yMinus ? lab.ROLE_COLORS.rejected : TOKEN_COLORS[k < yMinus ? k : k - 1];
const panel = (shape: Shape, axis: string) =>
  tokens.map((name, k) => ({
    type: "scatter" as const,
    mode: "lines" as const,
    name: k === yMinus ? `${name} (y−)` : name,
    legendgroup: name,
    showlegend: axis === "",
    x: stepAxis,
    y: trajectories[shape].map((p) => Math.log(p[k])),
    xaxis: `x${axis}`,
    yaxis: `y${axis}`,
    line: {
      color: tokenColor(k),
      width: k === yMinus || k === 0 ? 3 : 1.2,
      dash: k === yMinus ? ("dash" as const) : ("solid" as const),
    },
  }));
await lab.show(lab.makeFigure({
  data: [...panel("flat", ""), ...panel("peaky", "2")],
  layout: {
    title: { text: "Negative gradient on r12: every token's log-probability" },
    height: 520,
    // One legend group per token: without a zero gap the 16 entries overflow and scroll.
    legend: { tracegroupgap: 0 },
    xaxis: { domain: [0, 0.46], title: { text: "step (flat start)" } },
    yaxis: { title: { text: "ln p_k (nats)" } },
    xaxis2: { domain: [0.54, 1], anchor: "y2", title: { text: "step (peaky start)" } },
    yaxis2: { anchor: "x2" },
  },
}));

// %% [markdown]
// Who rose after the first step? Ratio `p_k^1/p_k^0` against `p_k^0`: the formula says tokens
// with `c·p_k > ln Z` rise, so the cut is a probability threshold (rich get richer).

// %%
await lab.show(lab.scatterFigure(
  (["flat", "peaky"] as const).map((shape, i) => ({
    name: shape,
    x: Array.from(trajectories[shape][0]).filter((_, k) => k !== yMinus),
    y: Array.from(trajectories[shape][1], (v, k) => v / trajectories[shape][0][k]).filter((_, k) =>
      k !== yMinus
    ),
    color: lab.seriesColor(i),
    width: 9,
  })),
  {
    title: "First step: ratio p¹/p⁰ of every token but y−",
    xTitle: "p⁰ (initial probability)",
    yTitle: "p¹/p⁰",
    logX: true,
  },
));

// %% [markdown]
// ### A2 · How the squeeze depends on p(y−)
// One step from the same start for each choice of y−. Squeeze measures: the fraction of the
// other 14 tokens (not y−, not the argmax) that lose probability, and the argmax's gain.

// %%
/** One negative step on y−: p(y−) before, the share of the others that fall, the argmax's gain. */
async function oneStep(shape: Shape, y: number, seed = 0, cScale = 1) {
  const [p0, p1] = await negativeRun(shape, y, 1, seed, cScale);
  const others = tokens.map((_, k) => k).filter((k) => k !== y && k !== 0);
  return {
    shape,
    pMinus: p0[y],
    fallFrac: others.filter((k) => p1[k] < p0[k]).length / others.length,
    argmaxGain: p1[0] - p0[0],
  };
}
const sweep: { shape: Shape; pMinus: number; fallFrac: number; argmaxGain: number }[] = [];
for (const shape of ["flat", "peaky"] as const) {
  for (let y = 1; y < V; y++) sweep.push(await oneStep(shape, y));
}
await lab.show(lab.lineFigure(
  (["flat", "peaky"] as const).map((shape, i) => {
    const rows = sweep.filter((r) => r.shape === shape);
    return {
      name: shape,
      x: rows.map((r) => r.pMinus),
      y: rows.map((r) => r.fallFrac),
      color: lab.seriesColor(i),
    };
  }),
  {
    title: "One negative step: share of the other tokens that lose probability",
    xTitle: "p(y−) before the step",
    yTitle: "fraction of other tokens that fall",
    logX: true,
  },
));

// %% [markdown]
// ### A3 · Seeds and step size
// The findings' numbers on the 5 jittered toys: the argmax mass after 20 steps on y− = r12, the
// share of the other tokens falling after one step from the peaky start, and the flat start's
// ρ(p(y−), share falling) over the 15 choices of y−. Then the step size: one step on r12 with
// c = η‖x‖² from 1/4 to 16 on the default toy.

// %%
const SEEDS_A = lab.bySmoke([1, 2, 3, 4, 5], [1, 2]);
const perSeedA = [];
for (const seed of SEEDS_A) {
  const gain: Record<Shape, number> = { flat: 0, peaky: 0 };
  for (const shape of ["flat", "peaky"] as const) {
    const tr = await negativeRun(shape, yMinus, stepsA, seed);
    gain[shape] = lab.argmaxMass(tr.at(-1)!).mass - lab.argmaxMass(tr[0]).mass;
  }
  const flatSweep = [];
  for (let y = 1; y < V; y++) flatSweep.push(await oneStep("flat", y, seed));
  perSeedA.push({
    seed,
    gain,
    peakyFall: (await oneStep("peaky", yMinus, seed)).fallFrac,
    rho: lab.spearmanCorrelation(flatSweep.map((r) => r.pMinus), flatSweep.map((r) => r.fallFrac)),
  });
}
lab.printTable(perSeedA.map((r) => ({
  seed: r.seed,
  "argmax gain (flat)": r.gain.flat.toFixed(4),
  "(peaky)": r.gain.peaky.toFixed(4),
  "peaky: share falling": r.peakyFall.toFixed(2),
  "flat: ρ(p(y−), falling)": r.rho.toFixed(2),
})));
const C_SWEEP = [0.25, 1, 4, 16];
const cSweep: { c: number; shape: Shape; pMinus: number; fallFrac: number; argmaxGain: number }[] =
  [];
for (const cScale of C_SWEEP) {
  for (const shape of ["flat", "peaky"] as const) {
    cSweep.push({ c: cScale, ...(await oneStep(shape, yMinus, 0, cScale)) });
  }
}
lab.printTable(cSweep.map((r) => ({
  c: r.c,
  start: r.shape,
  "share of others falling": r.fallFrac.toFixed(2),
  "argmax gain": r.argmaxGain.toExponential(2),
})));
await lab.flushOutput();

// %%
/** Log axes with only the swept values as ticks (plotly's minor digits read as values). */
const sweptTicks = <F extends { layout?: Record<string, unknown> }>(
  fig: F,
  values: number[],
  axes = ["xaxis"],
): F => {
  for (const a of axes) {
    fig.layout![a] = {
      ...(fig.layout![a] as Record<string, unknown>),
      tickvals: values,
      ticktext: values.map(String),
    };
  }
  return fig;
};
await lab.show(sweptTicks(
  lab.lineFigure(
    (["flat", "peaky"] as const).map((shape, i) => ({
      name: `${shape} start`,
      x: C_SWEEP,
      y: cSweep.filter((r) => r.shape === shape).map((r) => r.fallFrac),
      color: lab.seriesColor(i),
    })),
    {
      title: "One negative step on r12: share of the other tokens that fall, by step size",
      xTitle: "c = η‖x‖² (log scale)",
      yTitle: "fraction of other tokens that fall",
      logX: true,
    },
  ),
  C_SWEEP,
));

// %% [markdown]
// ## Part B · The shipped tiny GPT-2 on simple_pairs
// Pairs whose rejected answer is a `minor_edit` or a `contradiction` of the chosen one (so the
// two are close and the pair is hard); seed s takes the s-th block of 8 such pairs. Greedy
// responses are decoded for up to 16 tokens (or EOS) after each prompt.

// %%
const modelDir = "../data/models/tiny";
const tok = await lab.loadTokenizer(modelDir);
const { rows: allPairs } = await lab.loadPreferenceFile(
  "../data/datasets/simple_pairs/pairs.jsonl",
);
const nPairs = lab.bySmoke(8, 2);
const SEEDS_B = lab.bySmoke([0, 1, 2, 3, 4], [0, 1]);
const hardRows = allPairs.filter((r) =>
  ["minor_edit", "contradiction"].includes(String(r.extra.kind))
);
// The valley response: the rejected words in a seeded shuffled order.
const valleyOf = (rows: typeof hardRows) =>
  rows.map((r, i) => {
    const words = String(r.rejected).trim().replace(/\.$/, "").split(/\s+/);
    const order = lab.permutation(words.length, 11 + i);
    return { ...r, rejected: " " + order.map((j) => words[j]).join(" ") + "." };
  });
const pairSets = SEEDS_B.map((seed) => {
  const rows = hardRows.slice(seed * nPairs, (seed + 1) * nPairs);
  return {
    rows,
    data: lab.tokenizePairs(rows, tok, { maxLength: 64 }).pairs,
    valley: lab.tokenizePairs(valleyOf(rows), tok, { maxLength: 64 }).pairs,
  };
});
const tokenized = pairSets[0].data;
const chosenRows = pairSets[0].rows, valleyRows = valleyOf(chosenRows);
console.log(`${SEEDS_B.length} sets of ${tokenized.length} pairs, e.g.`);
console.log(`  prompt:   ${JSON.stringify(chosenRows[0].prompt)}`);
console.log(`  chosen:   ${JSON.stringify(chosenRows[0].chosen)}`);
console.log(`  rejected: ${JSON.stringify(chosenRows[0].rejected)}`);
console.log(`  valley:   ${JSON.stringify(valleyRows[0].rejected)}`);
await lab.flushOutput();

// %% [markdown]
// Each run: 20 SGD steps on the whole set. The lr of each kind of run on each set comes from one
// probe run on that set (DPO at 10⁻², the negative gradient at 5·10⁻⁵), rescaled linearly so
// that the rejected log-prob falls by 3 nats (`lr* = lr₀ · 3 / |Δ ln π(y−)|`; close to linear in
// this small-step regime, which the sanity check below tests).

// %%
const stepsB = lab.bySmoke(20, 6);
const greedyTokens = lab.bySmoke(16, 6);
const TARGET = 3;
type LmOutcome = {
  result: lab.TrainResult;
  rejectedDelta: number;
  chosenDelta: number;
  greedyDelta: number;
  argmaxDelta: number;
};
async function lmRun(
  objective: lab.TrainObjective,
  pairs: lab.TokenizedPair[],
  lr: number,
  every = stepsB,
): Promise<LmOutcome> {
  const model = await lab.loadCausalLM(modelDir);
  const dist = lab.distributionTracker({
    source: lab.causalNextTokenSource(model, pairs.map((p) => p.promptIds), {
      greedyTokens,
      eosId: tok.eosId,
    }),
    prompts: pairs.map((_, i) => i),
    every,
    fullDistribution: false,
  });
  const result = await lab.train({
    policy: lab.lmScorer(model),
    data: lab.preferenceData(pairs, { padId: tok.padId }),
    objective,
    optimizer: { name: "sgd" },
    lr,
    batchSize: pairs.length,
    maxSteps: stepsB,
    progress: false,
    callbacks: [dist, lab.displacementTracker({ every, file: false })],
  });
  model.dispose();
  const vals = (k: string) =>
    result.records.filter((x) => typeof x[k] === "number").map((x) => x[k] as number);
  const delta = (k: string) => vals(k).at(-1)! - vals(k)[0];
  return {
    result,
    // logps/* are scored before each step's update: this is the change over the first
    // stepsB − 1 updates (the trackers' scores below are taken after the last one).
    rejectedDelta: delta("logps/rejected"),
    chosenDelta: vals("displacement/mean_change").at(-1)!,
    greedyDelta: delta("dist/greedy_logp"),
    argmaxDelta: delta("dist/argmax_mass"),
  };
}
const KINDS_B = {
  "DPO": { objective: lab.dpo({ beta: 0.1 }), probeLr: 1e-2, valley: false },
  "negative gradient": { objective: negativeOnly, probeLr: 5e-5, valley: false },
  "negative gradient, valley y−": { objective: negativeOnly, probeLr: 5e-5, valley: true },
};
type KindB = keyof typeof KINDS_B;
const namesB = Object.keys(KINDS_B) as KindB[];
const setOf = (k: KindB, s: number) => KINDS_B[k].valley ? pairSets[s].valley : pairSets[s].data;
/** The probe: Δ ln π(y−) of a run at the probe lr, no trackers (only the trainer's log-probs). */
async function probeRejected(k: KindB, s: number): Promise<number> {
  const model = await lab.loadCausalLM(modelDir);
  const result = await lab.train({
    policy: lab.lmScorer(model),
    data: lab.preferenceData(setOf(k, s), { padId: tok.padId }),
    objective: KINDS_B[k].objective,
    optimizer: { name: "sgd" },
    lr: KINDS_B[k].probeLr,
    batchSize: setOf(k, s).length,
    maxSteps: stepsB,
    progress: false,
  });
  model.dispose();
  const v = result.records.filter((x) => typeof x["logps/rejected"] === "number")
    .map((x) => x["logps/rejected"] as number);
  return v.at(-1)! - v[0];
}
// One lr* per kind of run and pair set: the sets differ enough that one set's lr* moved
// another's ln π(y−) by up to 6.5 nats in a trial.
const lrStar = {} as Record<KindB, number[]>;
const probes = {} as Record<KindB, number[]>;
const perSeedB = {} as Record<KindB, LmOutcome[]>;
for (const k of namesB) {
  [lrStar[k], probes[k], perSeedB[k]] = [[], [], []];
  for (let s = 0; s < SEEDS_B.length; s++) {
    probes[k].push(await probeRejected(k, s));
    lrStar[k].push(KINDS_B[k].probeLr * TARGET / Math.abs(probes[k][s]));
    perSeedB[k].push(
      await lmRun(KINDS_B[k].objective, setOf(k, s), lrStar[k][s], s === 0 ? 5 : stepsB),
    );
  }
}
// One row per run and seed (a row per run with lists of five seeds does not fit the page).
lab.printTable(namesB.flatMap((k) =>
  perSeedB[k].map((o, s) => ({
    run: k.replace("negative gradient", "neg. grad."),
    set: s,
    "probe Δ(y−)": probes[k][s].toFixed(2),
    "lr*": lrStar[k][s].toExponential(1),
    "Δ ln π(y−)": o.rejectedDelta.toFixed(2),
    "Δ ln π(greedy)": o.greedyDelta.toFixed(2),
    "Δ ln π(y+)": o.chosenDelta.toFixed(2),
  }))
));
say(
  `probe lr: ${namesB.map((k) => `${k} ${KINDS_B[k].probeLr.toExponential()}`).join("; ")}`,
);
await lab.flushOutput();

// %% [markdown]
// Mean summed log-probs over the first set's pairs at `lr*`: chosen and rejected (the trainer's
// `logps/*`, scored before each step's update) and the greedy response (`dist/greedy_logp`,
// after the update), each relative to its start, so the three share one axis.

// %%
const series = (r: lab.TrainResult, key: string) => {
  const rec = r.records.filter((x) => typeof x[key] === "number");
  const y0 = rec[0]?.[key] as number;
  return { x: rec.map((x) => x.step), y: rec.map((x) => (x[key] as number) - y0) };
};
await lab.show(lab.subplots(
  namesB.map((name) =>
    lab.lineFigure([
      {
        name: "chosen",
        ...series(perSeedB[name][0].result, "logps/chosen"),
        color: lab.ROLE_COLORS.chosen,
      },
      {
        name: "rejected",
        ...series(perSeedB[name][0].result, "logps/rejected"),
        color: lab.ROLE_COLORS.rejected,
      },
      {
        name: "greedy",
        ...series(perSeedB[name][0].result, "dist/greedy_logp"),
        color: lab.seriesColor(2),
      },
      { name: "start", x: [0, stepsB], y: [0, 0], color: "#999999", dash: "dot" },
    ], {
      title: `${name} (lr* ${lrStar[name][0].toExponential(1)})`,
      xTitle: "step",
      yTitle: "Δ summed log-prob (nats)",
    })
  ),
  {
    columns: 1,
    rowHeight: 260,
    title: "Tiny GPT-2 at a matched 3-nat fall of ln π(y−): chosen, rejected, greedy (first set)",
  },
));

// %% [markdown]
// ### B · Learning-rate sweep
// The first set, `lr*·{1/4, 1, 4, 16}` for the negative gradient and `lr*·{1, 4, 16}` for DPO: where
// does the greedy response start to gain? (×16 is the regime of the earlier version, where the
// log-probs moved by hundreds of nats.)

// %%
const MULTS = lab.bySmoke([0.25, 1, 4, 16], [1, 16]);
const sweepB: { run: KindB; mult: number; o: LmOutcome }[] = [];
for (const k of ["negative gradient", "DPO"] as const) {
  for (const m of MULTS) {
    if (k === "DPO" && m < 1) continue;
    const o = m === 1
      ? perSeedB[k][0]
      : await lmRun(KINDS_B[k].objective, setOf(k, 0), lrStar[k][0] * m);
    sweepB.push({ run: k, mult: m, o });
  }
}
lab.printTable(sweepB.map(({ run, mult, o }) => ({
  run,
  "lr / lr*": mult,
  "Δ ln π(y−)": o.rejectedDelta.toFixed(2),
  "Δ ln π(y+)": o.chosenDelta.toFixed(2),
  "Δ ln π(greedy)": o.greedyDelta.toFixed(2),
  "Δ argmax mass": o.argmaxDelta.toFixed(4),
})));
await lab.flushOutput();

// %%
// The ×16 negative-gradient run collapses (thousands of nats); the panels keep the ±20-nat
// range readable and name the off-scale values in the title.
const sweepPanel = (k: "negative gradient" | "DPO") => {
  const rows = sweepB.filter((r) => r.run === k);
  const off = rows.filter((r) => Math.abs(r.o.chosenDelta) > 20 || Math.abs(r.o.greedyDelta) > 20);
  return lab.lineFigure([
    {
      name: "greedy",
      x: rows.map((r) => r.mult),
      y: rows.map((r) => r.o.greedyDelta),
      color: lab.seriesColor(2),
    },
    {
      name: "chosen",
      x: rows.map((r) => r.mult),
      y: rows.map((r) => r.o.chosenDelta),
      color: lab.ROLE_COLORS.chosen,
    },
    {
      name: "no change",
      x: [Math.min(...MULTS), Math.max(...MULTS)],
      y: [0, 0],
      color: "#999999",
      dash: "dot",
    },
  ], {
    title: k +
      off.map((r) =>
        ` (×${r.mult} off scale: y+ ${r.o.chosenDelta.toFixed(0)}, greedy ${
          r.o.greedyDelta.toFixed(0)
        })`
      ).join(""),
    xTitle: "lr / lr* (log scale)",
    yTitle: "Δ summed log-prob (nats)",
    logX: true,
  });
};
const sweepFig = sweptTicks(
  lab.subplots([sweepPanel("negative gradient"), sweepPanel("DPO")], {
    columns: 2,
    title:
      `Learning-rate sweep on the first set: greedy and chosen log-prob changes after ${stepsB} steps`,
  }),
  MULTS,
  ["xaxis", "xaxis2"],
);
for (const a of ["yaxis", "yaxis2"]) {
  sweepFig.layout![a] = { ...(sweepFig.layout![a] as Record<string, unknown>), range: [-20, 20] };
}
await lab.show(sweepFig);

// %% [markdown]
// ## Part C · Where a displacement comes from: the learning-dynamics decomposition
// **Question.** Ren & Sutherland's Prop. 1 writes one step's change of any response's log-prob
// as `−η A·K·G`, and for a preference pair as a chosen-gradient part plus a rejected-gradient
// part: `Δ ln π(p) ≈ −η g_w ⟨∇ln π(p), ∇ln π(y+)⟩ − η g_l ⟨∇ln π(p), ∇ln π(y−)⟩`
// (`lab.influenceMatrix`, probes × pairs). When DPO starts to lower the preferred response,
// which part does it, and through which factor?
//
// *C1 — the "No ≻ Never" toy* (`lab.displacementToy`: unconstrained features, `W_No` and
// `W_Never` nearly parallel, `W_Yes` aligned with their difference). DPO (β = 0.1, SGD, lr 0.03)
// on the one pair; every few steps a tracker takes the influence of one step on the pair over
// all ten tokens (η = 10⁻³, reference = the starting model, as in training) and the exact A·K·G
// factors (`lab.akgDecomposition`). The *displacement event* is the first snapshot where the
// first-order change of `ln π(No)` turns negative.
//
// *C2 — the tiny GPT-2*: the influence matrix of Part B's pairs at the start of DPO (β = 0.1,
// SGD, η = 10⁻⁵), probes = every pair's chosen and rejected response.
//
// **Sanity checks** (code against its own theory): the influence matrix agrees with the change
// after a real SGD step, `‖predicted − observed‖_F / ‖observed‖_F` below 1% on the toy
// (η = 10⁻³) and below 5% on the GPT-2 (η = 10⁻⁵, where float32 rounding of the summed
// log-probs is the floor); the A·K·G totals equal the autodiff influence (to 10⁻⁴ of the
// snapshot's largest part).
//
// **Expected** (Theorem 4 of Razin et al. and §5.3 read through Prop. 1). In the toy the chosen
// part of `Δ ln π(No)` stays positive and the rejected part negative; the event happens when the
// rejected part outweighs it, because `K(No, Never) = ⟨h,h⟩·0 + ⟨W_No, W_Never⟩` is nearly as
// large as `K(No, No)`, while `Yes` keeps gaining. On the GPT-2 the same split shows,
// per pair, how much of the pull on each chosen response comes from rejected gradients.

// %%
const dToy = lab.displacementToy();
const dModel = lab.createUnconstrainedFeatures(dToy.options);
const dTokens = dModel.tokens;
const dPair = {
  prompt: Int32Array.of(0),
  chosen: Int32Array.of(dToy.chosen),
  rejected: Int32Array.of(dToy.rejected),
  pairIndex: [0],
};
const dProbes = { prompt: new Int32Array(dTokens.length), token: Int32Array.from(dTokens.keys()) };
const dRef = {
  chosen: [await dModel.logProbAsync("x0", dToy.chosen)],
  rejected: [await dModel.logProbAsync("x0", dToy.rejected)],
};
const dpoToy = lab.dpo({ beta: 0.1 });
const etaC = 1e-3;
type Snapshot = { step: number; inf: lab.InfluenceMatrix; akg: lab.AkgDecomposition[] };
const snapshots: Snapshot[] = [];
const snapshotEvery = lab.bySmoke(10, 20);
const influenceTracker: lab.TrainCallback<lab.ToyBatch> = {
  name: "influence",
  async onStepEnd(ctx) {
    if (ctx.step % snapshotEvery !== 0) return;
    const inf = await lab.influenceMatrix(dModel, [dPair], dProbes, {
      objective: dpoToy,
      lr: etaC,
      reference: dRef,
    });
    const params = await lab.toyParameters(dModel);
    const one = (t: number) => ({ contexts: [0], tokens: [t] });
    const weights = { chosen: inf.weights.chosen[0], rejected: inf.weights.rejected[0] };
    const akg = dTokens.map((_, t) =>
      lab.akgDecomposition(params, one(t), {
        chosen: one(dToy.chosen),
        rejected: one(dToy.rejected),
      }, { weights, lr: etaC })
    );
    snapshots.push({ step: ctx.step, inf, akg });
  },
};
const stepsC = lab.bySmoke(300, 120);
await lab.train({
  policy: dModel,
  data: lab.toyData({ prompt: [0], chosen: [dToy.chosen], rejected: [dToy.rejected] }),
  objective: dpoToy,
  optimizer: { name: "sgd" },
  lr: 0.03,
  batchSize: 1,
  maxSteps: stepsC,
  progress: false,
  callbacks: [influenceTracker],
});
const No = dToy.chosen, Never = dToy.rejected, Yes = dToy.attractor;
const toyRelErr = Math.max(...snapshots.map((s) => s.inf.relativeError!));
// Relative to the snapshot's largest part: a part passing through 0 (some token's, at some
// step) would make an entry-wise ratio meaningless while float32 rounding stays the same.
const akgVsAutodiff = Math.max(...snapshots.map((s) => {
  const scale = Math.max(
    ...s.akg.flatMap((_, t) => [Math.abs(s.inf.chosen[t][0]), Math.abs(s.inf.rejected[t][0])]),
  );
  return Math.max(...s.akg.flatMap((d, t) => [
    Math.abs(d.total.chosen - s.inf.chosen[t][0]),
    Math.abs(d.total.rejected - s.inf.rejected[t][0]),
  ])) / scale;
}));
const event = snapshots.find((s) => s.inf.predicted[No][0] < 0);
lab.printTable(snapshots.map((s) => ({
  step: s.step,
  "π(No)": Math.exp(s.inf.probeLogps[No]).toFixed(3),
  "π(Yes)": Math.exp(s.inf.probeLogps[Yes]).toFixed(3),
  "No: chosen": s.inf.chosen[No][0].toExponential(2),
  "No: rejected": s.inf.rejected[No][0].toExponential(2),
  "No: obs.": s.inf.observed![No][0].toExponential(2),
  "Yes: total": s.inf.predicted[Yes][0].toExponential(2),
})));
say(
  `sanity: influence vs a real step (η = ${etaC}): relative error at most ${
    toyRelErr.toExponential(1)
  }; A·K·G vs autodiff: at most ${akgVsAutodiff.toExponential(1)}`,
);
if (event) {
  const K = event.akg[No].K.rejected[0][0];
  say(
    `displacement event at step ${event.step}: Δ ln π(No) per step of ${etaC} = ` +
      `${event.inf.chosen[No][0].toExponential(2)} (chosen part) + ` +
      `${event.inf.rejected[No][0].toExponential(2)} (rejected part) = ` +
      `${event.inf.predicted[No][0].toExponential(2)} (observed ${
        event.inf.observed![No][0].toExponential(2)
      }).\n  The NTK entries behind it: K(No, Never) = ${K[No][Never].toFixed(1)}, ` +
      `K(No, No) = ${K[No][No].toFixed(1)}, K(Never, Never) = ${K[Never][Never].toFixed(1)}, ` +
      `K(No, Yes) = ${
        K[No][Yes].toFixed(1)
      }: pushing Never's logit down drags No's almost as far.` +
      `\n  At this step π(No) = ${Math.exp(event.inf.probeLogps[No]).toFixed(3)}, π(Never) = ${
        Math.exp(event.inf.probeLogps[Never]).toFixed(3)
      }, π(Yes) = ${Math.exp(event.inf.probeLogps[Yes]).toFixed(3)}; Yes gains ` +
      `${event.inf.predicted[Yes][0].toExponential(2)} per step.`,
  );
} else {
  console.log(`no displacement event within ${stepsC} steps`);
}
await lab.flushOutput();

// %%
await lab.show(lab.influenceFigure({
  chosen: dTokens.map((_, t) => snapshots.map((s) => s.inf.chosen[t][0])),
  rejected: dTokens.map((_, t) => snapshots.map((s) => s.inf.rejected[t][0])),
  predicted: dTokens.map((_, t) => snapshots.map((s) => s.inf.predicted[t][0])),
  observed: dTokens.map((_, t) => snapshots.map((s) => s.inf.observed![t][0])),
}, {
  probeLabels: [...dTokens],
  pairLabels: snapshots.map((s) => (s.step % 50 === 0 ? `step ${s.step}` : "")),
  title: `"No ≻ Never" toy: Δ ln π(token) of one step (η = ${etaC}) on the pair, ` +
    `by training step (columns)`,
}));
dModel.dispose();

// %%
const nInfluence = Math.min(tokenized.length, lab.bySmoke(4, 2));
const infModel = await lab.loadCausalLM(modelDir);
const infPairs = tokenized.slice(0, nInfluence);
const infData = lab.preferenceData(infPairs, { padId: tok.padId });
const infProbes = lab.collateProbes(
  infPairs.flatMap((p, i) =>
    (["chosen", "rejected"] as const).map((side) => ({
      index: i,
      name: side,
      promptIds: p.promptIds,
      completionIds: side === "chosen" ? p.chosenIds : p.rejectedIds,
    }))
  ),
  tok.padId,
);
const lmInf = await lab.influenceMatrix(
  lab.lmScorer(infModel),
  infPairs.map((_, i) => infData.batch([i])),
  infProbes,
  { objective: lab.dpo({ beta: 0.1 }), lr: 1e-5 },
);
infModel.dispose();
const probeNames = infPairs.flatMap((_, i) => [`y+ of ${i}`, `y− of ${i}`]);
// On each pair's own y+: the chosen part pushes up, the rejected part pulls down.
const ownChosen = infPairs.map((_, i) => lmInf.chosen[2 * i][i]);
const ownRejected = infPairs.map((_, i) => lmInf.rejected[2 * i][i]);
lab.printTable(infPairs.map((_, i) => ({
  pair: i,
  "y+: chosen": ownChosen[i].toExponential(2),
  "y+: rejected": ownRejected[i].toExponential(2),
  "y+: predicted": lmInf.predicted[2 * i][i].toExponential(2),
  "y+: observed": lmInf.observed![2 * i][i].toExponential(2),
  "−rej./chosen": (-ownRejected[i] / ownChosen[i]).toFixed(2),
})));
say(
  `sanity: GPT-2 influence vs a real SGD step at η = 1e-5: relative error ${
    lmInf.relativeError!.toExponential(1)
  } (${probeNames.length} probes x ${nInfluence} pairs)`,
);
await lab.flushOutput();

// %%
await lab.show(lab.influenceFigure(lmInf, {
  probeLabels: probeNames,
  pairLabels: infPairs.map((_, i) => `pair ${i}`),
  title: "Tiny GPT-2: Δ ln π(probe) of one DPO step (η = 1e-5) on each pair",
}));

// %% [markdown]
// ## Part D · The SFT'd model on the persona questions
// Part B's model was never taught to answer anything. Here the model is the one Razin et al.'s
// set-up starts DPO from: the tiny GPT-2 after the yes/no SFT (`data/models/tiny-sft`, made by
// `deno task lab sft`; its card gives the held-out answer-word share, 0.91). On 5 of its SFT
// questions whose cautious answer is "No", only the negative gradient is applied, to y− =
// "Never" (a likely answer word) and separately to y− = " Absolutely" (a valley token,
// p ≈ 1e-6 at the start): plain SGD, lr 1e-4, 20 steps, one question per run, which moves
// ln π(y−) by a few nats (the sanity check below holds it to [−6, −0.5]). The next-token
// distribution after the question is tracked at every step.

// %%
const sftDir = "../data/models/tiny-sft";
const tokSft = await lab.loadTokenizer(sftDir);
const allQuestions = await lab.loadYesNoQuestions(
  "../data/datasets/yesno_cautious/questions.jsonl",
);
// The card's split (seed 11, 20% held out): the model was trained on the train part.
const squeezePrompts = lab.splitQuestions(allQuestions, { heldOutFraction: 0.2, seed: 11 }).train
  .filter((q) => q.cautiousAnswer === "No").slice(0, lab.bySmoke(5, 2));
const stepsD = lab.bySmoke(20, 6), lrD = 1e-4;
if (lab.isSmoke()) console.log(`smoke mode: ${squeezePrompts.length} questions, ${stepsD} steps`);

interface SqueezeOutcome {
  minusDelta: number;
  topDelta: number;
  topWord: string;
  fallShare: number;
}
/** One run: the negative gradient on `rejected` after question `q`, from the SFT'd model. */
async function squeezeRun(q: lab.YesNoQuestion, rejected: string): Promise<SqueezeOutcome> {
  const [pair] = lab.tokenizePairs(
    lab.singleTokenPairs([q], { chosen: "No", rejected }),
    tokSft,
    { appendEos: false },
  ).pairs;
  const model = await lab.loadCausalLM(sftDir);
  const dist = lab.distributionTracker({
    source: lab.causalNextTokenSource(model, [pair.promptIds]),
    chosen: [pair.chosenIds[0]],
    rejected: [pair.rejectedIds[0]],
    file: false,
  });
  await lab.train({
    policy: lab.lmScorer(model),
    data: lab.preferenceData([pair], { padId: tokSft.padId }),
    objective: negativeOnly,
    optimizer: { name: "sgd" },
    lr: lrD,
    batchSize: 1,
    maxSteps: stepsD,
    progress: false,
    examplesEvery: false,
    callbacks: [dist],
  });
  model.dispose();
  const p0 = dist.history[0].probs, pT = dist.history.at(-1)!.probs;
  let top = 0;
  for (let z = 1; z < p0.length; z++) if (p0[z] > p0[top]) top = z;
  const yMinusId = pair.rejectedIds[0];
  const others = Array.from(p0.keys()).filter((z) => z !== top && z !== yMinusId);
  return {
    minusDelta: Math.log(pT[yMinusId]) - Math.log(p0[yMinusId]),
    topDelta: Math.log(pT[top]) - Math.log(p0[top]),
    topWord: tokSft.decode([top]),
    fallShare: others.filter((z) => pT[z] < p0[z]).length / others.length,
  };
}
const squeezeD = { never: [] as SqueezeOutcome[], valley: [] as SqueezeOutcome[] };
for (const q of squeezePrompts) {
  squeezeD.never.push(await squeezeRun(q, "Never"));
  squeezeD.valley.push(await squeezeRun(q, " Absolutely"));
}
const roundRow = (y: string, r: SqueezeOutcome) => ({
  "y−": y,
  "Δ ln π(y−)": r.minusDelta.toFixed(2),
  "Δ ln π(argmax)": r.topDelta.toFixed(2),
  argmax: r.topWord,
  "share falling": r.fallShare.toFixed(3),
});
lab.printTable([
  ...squeezeD.never.map((r) => roundRow("Never", r)),
  ...squeezeD.valley.map((r) => roundRow("valley", r)),
]);
await lab.flushOutput();

// %% [markdown]
// ## Measured
// Sanity checks (the code against its own theory, or properties that hold by construction) are
// listed apart from findings; only findings count. Every finding is a t interval over seeds
// (Part D: over questions); a bounded quantity (a change of probability, a share, Spearman's ρ)
// gets its t interval on the logit or Fisher z scale (`lab.boundedMeanCI`), inside its bounds.

// %%
// Part A
const errs = { flat: ratioError(trajectories.flat), peaky: ratioError(trajectories.peaky) };
const est = (xs: number[]) => lab.meanCI(xs, 0.95, "seeds");
// Quantities with bounds (a change of probability in [−1, 1], a share in [0, 1], Spearman's ρ in
// [−1, 1]) get t intervals on the logit / Fisher z scale, which stay inside them.
const within = (lower: number, upper: number, unit = "seeds") => (xs: number[]) =>
  lab.boundedMeanCI(xs, { lower, upper }, 0.95, unit);
const table = lab.studyTable();
table.sanity({
  what: "Part A: the linear-softmax one-step formula agrees with the autodiff step",
  expected: "largest ratio error < 1e-4 (flat and peaky starts, default toy)",
  measured: `flat ${errs.flat.toExponential(1)}, peaky ${errs.peaky.toExponential(1)}`,
  pass: Math.max(errs.flat, errs.peaky) < 1e-4,
});
const minusFell = (["flat", "peaky"] as const).every((s) =>
  trajectories[s].at(-1)![yMinus] < trajectories[s][0][yMinus]
);
table.sanity({
  what: "Part A: gradient descent on ln p(y−) lowers p(y−)",
  expected: "p(r12) after 20 steps < before, flat and peaky",
  measured: (["flat", "peaky"] as const).map((s) =>
    `${s} ${trajectories[s][0][yMinus].toExponential(2)} -> ${
      trajectories[s].at(-1)![yMinus].toExponential(2)
    }`
  ).join("; "),
  pass: minusFell,
});
table.finding({
  claim: "A1 (toy) a negative gradient on a low-probability y− squeezes mass into the argmax",
  expected: "argmax mass gain after 20 steps on r12, smaller of flat/peaky starts > 0",
  estimate: within(-1, 1)(perSeedA.map((r) => Math.min(r.gain.flat, r.gain.peaky))),
  threshold: 0,
  direction: ">",
  measured: `default toy: flat ${
    (lab.argmaxMass(trajectories.flat.at(-1)!).mass - lab.argmaxMass(trajectories.flat[0]).mass)
      .toFixed(4)
  }, peaky ${
    (lab.argmaxMass(trajectories.peaky.at(-1)!).mass - lab.argmaxMass(trajectories.peaky[0]).mass)
      .toFixed(4)
  }`,
});
const cRow = (shape: Shape, cc: number) => cSweep.find((r) => r.shape === shape && r.c === cc)!;
table.finding({
  claim: "A2 (toy) from a peaky start every other token falls",
  expected: "share of the 14 other tokens falling after one step on r12 > 0.9",
  estimate: within(0, 1)(perSeedA.map((r) => r.peakyFall)),
  threshold: 0.9,
  direction: ">",
  measured: `step-size sweep (default toy), share falling at c = ${C_SWEEP.join("/")}: peaky ${
    C_SWEEP.map((cc) => cRow("peaky", cc).fallFrac.toFixed(2)).join("/")
  }, flat ${C_SWEEP.map((cc) => cRow("flat", cc).fallFrac.toFixed(2)).join("/")}`,
});
table.finding({
  claim: "A3 (toy) the lower p(y−), the more of the other tokens lose probability",
  expected: "flat start, Spearman ρ(p(y−), share of the others falling) over the 15 y− < 0",
  estimate: within(-1, 1)(perSeedA.map((r) => r.rho)),
  threshold: 0,
  direction: "<",
});

// Part B
const dB = (k: KindB, pickB: (o: LmOutcome) => number) => perSeedB[k].map(pickB);
const rejAll = namesB.flatMap((k) => dB(k, (o) => o.rejectedDelta));
table.sanity({
  what: "Part B: the calibration matches the effective step (a 3-nat fall of ln π(y−))",
  expected: "every run's Δ ln π(y−) within 50% of the target, [−4.5, −2] nats, on every set",
  measured: namesB.map((k) => `${k}: ${lab.formatInterval(est(dB(k, (o) => o.rejectedDelta)))}`)
    .join("; "),
  pass: rejAll.every((v) => v > -4.5 && v < -2),
});
const neg = "negative gradient", valley = "negative gradient, valley y−";
table.finding({
  claim: "B1 (GPT-2) the greedy response gains under a negative gradient on y−",
  expected: "Δ ln π(greedy) > 0 nats (negative gradient, 3-nat fall of ln π(y−))",
  estimate: est(dB(neg, (o) => o.greedyDelta)),
  threshold: 0,
  direction: ">",
});
table.finding({
  claim: "B2 (GPT-2) … and gains more than the chosen response (squeezing)",
  expected: "Δ ln π(greedy) − Δ ln π(y+) > 0 nats (negative gradient)",
  estimate: est(dB(neg, (o) => o.greedyDelta - o.chosenDelta)),
  threshold: 0,
  direction: ">",
});
table.finding({
  claim: "B3 (GPT-2) under DPO the greedy response gains",
  expected: "Δ ln π(greedy) > 0 nats (DPO, 3-nat fall of ln π(y−))",
  estimate: est(dB("DPO", (o) => o.greedyDelta)),
  threshold: 0,
  direction: ">",
  measured: `Δ ln π(greedy) − Δ ln π(y+): ${
    lab.formatInterval(est(dB("DPO", (o) => o.greedyDelta - o.chosenDelta)))
  }`,
});
table.finding({
  claim: "B4 (GPT-2) the next-token argmax mass after the prompt grows",
  expected: "Δ argmax mass > 0 (negative gradient)",
  estimate: within(-1, 1)(dB(neg, (o) => o.argmaxDelta)),
  threshold: 0,
  direction: ">",
  measured: `DPO: ${lab.formatInterval(within(-1, 1)(dB("DPO", (o) => o.argmaxDelta)))}`,
});
table.finding({
  claim: "B5 (GPT-2) a valley y− squeezes more than the data's y−",
  expected: "Δ ln π(greedy), valley − data y− > 0 nats (paired by seed, same 3-nat fall)",
  estimate: est(perSeedB[valley].map((o, i) => o.greedyDelta - perSeedB[neg][i].greedyDelta)),
  threshold: 0,
  direction: ">",
});
const sweepNeg = sweepB.filter((r) => r.run === neg);
say(
  `Part B sweep (first set, negative gradient): lr/lr* ${
    sweepNeg.map((r) => r.mult).join("/")
  } -> Δ ln π(y−) ${sweepNeg.map((r) => r.o.rejectedDelta.toFixed(1)).join("/")}, ` +
    `Δ ln π(greedy) ${sweepNeg.map((r) => r.o.greedyDelta.toFixed(2)).join("/")}, Δ ln π(y+) ${
      sweepNeg.map((r) => r.o.chosenDelta.toFixed(2)).join("/")
    }`,
);
// Part D
const estQ = (xs: number[]) => lab.meanCI(xs, 0.95, "questions");
const dMinusAll = [...squeezeD.never, ...squeezeD.valley].map((r) => r.minusDelta);
table.sanity({
  what: "Part D: the SFT'd model's runs stay in the few-nat regime",
  expected: "every run's Δ ln π(y−) in [−6, −0.5] nats",
  measured: `Never ${lab.formatInterval(estQ(squeezeD.never.map((r) => r.minusDelta)))}; valley ${
    lab.formatInterval(estQ(squeezeD.valley.map((r) => r.minusDelta)))
  }`,
  pass: dMinusAll.every((v) => v >= -6 && v <= -0.5),
});
table.finding({
  claim: "D1 (SFT'd GPT-2) a negative gradient on y− = Never raises the next token's argmax",
  expected: "Δ ln π(argmax) > 0 nats over the questions",
  estimate: estQ(squeezeD.never.map((r) => r.topDelta)),
  threshold: 0,
  direction: ">",
  measured: `argmax words: ${squeezeD.never.map((r) => JSON.stringify(r.topWord)).join(", ")}`,
});
table.finding({
  claim: "D2 (SFT'd GPT-2) a valley y− makes more of the other tokens fall than Never does",
  expected: "share of the other tokens falling, valley − Never > 0 (paired by question)",
  estimate: within(-1, 1, "questions")(
    squeezeD.valley.map((r, i) => r.fallShare - squeezeD.never[i].fallShare),
  ),
  threshold: 0,
  direction: ">",
  measured: `share falling: Never ${
    lab.formatInterval(within(0, 1, "questions")(squeezeD.never.map((r) => r.fallShare)))
  }, valley ${
    lab.formatInterval(within(0, 1, "questions")(squeezeD.valley.map((r) => r.fallShare)))
  }`,
});
// Part C
const eventOk = event !== undefined && event.inf.chosen[No][0] > 0 &&
  event.inf.rejected[No][0] < 0 && event.inf.predicted[Yes][0] > 0;
table.sanity({
  what: "Part C: first-order influence vs a real step; A·K·G vs autodiff",
  expected: `toy < 1e-2 at η = ${etaC}; A·K·G < 1e-4 of the largest part; GPT-2 < 5e-2 at ` +
    `η = 1e-5`,
  measured: `toy ${toyRelErr.toExponential(1)}, A·K·G ${akgVsAutodiff.toExponential(1)}, GPT-2 ${
    lmInf.relativeError!.toExponential(1)
  }`,
  pass: toyRelErr < 1e-2 && akgVsAutodiff < 1e-4 && lmInf.relativeError! < 0.05,
});
// DPO's chosen part −η g_w ‖∇ln π(No)‖² is positive for any g_w < 0, so at the first step where
// the total turns negative the rejected part must be negative: this holds by construction.
table.sanity({
  what: "Part C (toy): ln π(No) starts to fall when the rejected part outweighs the chosen part",
  expected: "at the first step where ln π(No) falls: chosen part > 0, rejected part < 0, Yes gains",
  measured: event
    ? `event at step ${event.step} (π(No) ${
      Math.exp(event.inf.probeLogps[No]).toFixed(3)
    }), chosen part ${event.inf.chosen[No][0].toExponential(2)}, rejected part ${
      event.inf.rejected[No][0].toExponential(2)
    }`
    : "no event",
  pass: eventOk,
});
say(
  `Part C, GPT-2: on each pair's own y+, the rejected part offsets ${
    ownRejected.map((r, i) => (-r / ownChosen[i]).toFixed(2)).join(", ")
  } of the chosen part`,
);
say(
  `\nbackend ${report.name}; Part B lr* (3-nat fall of ln π(y−) in ${stepsB} steps): ${
    namesB.map((k) => `${k} ${lrStar[k].map((v) => v.toExponential(1)).join("/")}`).join("; ")
  }` +
    (lab.isSmoke()
      ? `\n(smoke mode: ${SEEDS_A.length} toy seeds, ${SEEDS_B.length} sets of ${tokenized.length} ` +
        `pairs x ${stepsB} steps; intervals over 2 seeds are wide)`
      : ""),
);
await table.print();
