// %% [markdown]
// # 02 · Likelihood displacement with single tokens
//
// **Question.** Training DPO to prefer the answer *No* over *Never* should make *No* more likely.
// Razin et al. (arXiv 2410.08847, §3) found instead that the probability of the preferred
// token can fall while the margin grows, with the mass going to a token of the *opposite*
// meaning, *Yes*. When does this happen, does the unconstrained-features theory predict which
// tokens gain, and what does our small shipped model do?
//
// **Setup.**
// - *Part A — theory.* The unconstrained-features model (`lab.createUnconstrainedFeatures`): one
//   prompt with a free hidden vector `h_x` and a free unembedding `W`, `π(·|x) = softmax(W h_x)`,
//   twelve named tokens. The geometry is written by hand: *No* and *Never* share a large common
//   direction and differ along a small axis, and the affirmative tokens (*Yes*, *Sure*, ...) lie
//   along `W_No − W_Never`. DPO (β = 0.1) on the pair (No ≻ Never), trained by plain gradient
//   descent with a small step (the theory is about gradient flow). At every step the predicted
//   instantaneous change of `ln π(z|x)` (Theorems 4 and 5, `lab.ufmPredictedLogProbChange`) is
//   set against the change the step made. A control run starts from the *same* distribution but
//   moves the affirmative tokens off `W_No − W_Never`.
// - *Part B — the shipped model.* The tiny GPT-2 in `data/models/tiny`, on the yes/no questions
//   of `data/datasets/yesno_cautious` (prompt = question + newline, as in the paper). As in the
//   paper, DPO on **one** prompt at a time (several prompts play the role of seeds), with the
//   single-token responses (No ≻ Never), RMSProp, β = 0.1; the distribution tracker follows
//   `π(No)`, `π(Never)` and the tokens that gained most.
//
// **Expected** (the paper, §3 and §4). `d/dt ln π(z|x) = −ℓ'·[⟨W_z, W_{y+} − W_{y−}⟩ + c]` for
// every token other than y+ and y− (Theorem 5), so the tokens most aligned with
// `W_No − W_Never` gain most, and `ln π(No)` falls when `⟨W_No, W_Never⟩` is large and
// aligned tokens hold mass (Theorem 4). In Part A: π(No) falls while the margin grows, *Yes*
// gains most, predicted and observed changes rank the tokens alike; in the control, π(No)
// rises. In Part B (the paper, on 1-8B models after SFT): π(y+) fell in every run, by 0.21
// or more, with mass moving to tokens such as *Yes*. Our model is a ~1M-parameter GPT-2 with
// no SFT, so Part B reports what it does rather than assuming it matches.

// %%
import * as lab from "../lib/mod.ts";
const report = await lab.setupNotebook();
// Cells that print end with `await lab.flushOutput()`: the Deno kernel sends console output
// asynchronously, and a cell ending right after printing can lose its last lines.

// %% [markdown]
// ## Part A · The unconstrained-features model
// Coordinates of the 6-dimensional space: `e0` "is an answer word", `e1` the axis on which *No*
// and *Never* differ, `e2` "affirmative", `e3..e5` small idiosyncratic parts. Every row is
// scaled by `s = 4` and `h_x` by `1/s`: large unembeddings and a small hidden vector, the
// regime where the `‖h_x‖²` term of Theorem 4 (which always pushes `ln π(y+)` up) is weak.

// %%
const tokens = [
  "No",
  "Never",
  "Yes",
  "Sure",
  "Yeah",
  "Certainly",
  "Absolutely",
  "Maybe",
  "Perhaps",
  "Nope",
  "The",
  "And",
];
const s = 4;
const alignedRows = [
  [1, 0, 0, 0, 0, 0], // No
  [1, -1, 0, 0, 0, 0], // Never: W_No - W_Never = s * e1
  [1, 2, 1, 0, 0, 0], // Yes
  [0.8, 1.6, 1, 0.2, 0, 0], // Sure
  [0.8, 1.4, 1, 0, 0.2, 0], // Yeah
  [0.7, 1, 1, 0, 0, 0.2], // Certainly
  [0.7, 0.8, 1, 0.1, 0.1, 0], // Absolutely
  [0.4, 0.1, 0.3, 0.3, 0, 0], // Maybe
  [0.4, 0, 0.3, 0, 0.3, 0], // Perhaps
  [0.75, -0.3, 0, 0, 0, 0.3], // Nope
  [0, -0.3, 0, 0.4, -0.3, 0.2], // The
  [0, -0.4, 0.1, -0.2, 0.4, 0.1], // And
];
const hx = [5, 1, -3.5, 0, 0, 0];
// Control: the affirmative rows' e1 part moved onto e2 so that every logit <W_z, h_x> (hence the
// initial distribution) is unchanged, but the rows are no longer aligned with W_No - W_Never.
const yesLike = new Set(["Yes", "Sure", "Yeah", "Certainly", "Absolutely"]);
const controlRows = alignedRows.map((r, i) =>
  yesLike.has(tokens[i]) ? [r[0], 0, r[2] + r[1] * hx[1] / hx[2], ...r.slice(3)] : r
);
const scaled = (rows: number[][]) => rows.map((r) => r.map((v) => v * s));
const hScaled = [hx.map((v) => v / s)];
const NO = 0, NEVER = 1, YES = 2;
const beta = 0.1;
const lrA = 0.05;
const stepsA = lab.bySmoke(300, 80);

function alignment(rows: number[][]): number[] {
  const w = scaled(rows), d = w[NO].map((v, j) => v - w[NEVER][j]);
  return w.map((r) => r.reduce((acc, v, j) => acc + v * d[j], 0));
}
const p0A = lab.softmax64(
  scaled(alignedRows).map((r) => r.reduce((a, v, j) => a + v * hScaled[0][j], 0)),
);
console.table(tokens.map((t, i) => ({
  token: t,
  "π0(z|x)": p0A[i].toFixed(3),
  "⟨W_z, W_No−W_Never⟩ aligned": alignment(alignedRows)[i].toFixed(1),
  "... control": alignment(controlRows)[i].toFixed(1),
})));
await lab.flushOutput();

// %% [markdown]
// One run per geometry. A small callback stores `W` and `h_x` after every step
// (`lab.ufmParameters`), from which the theory's rates are computed afterwards; the distribution
// tracker stores `π(·|x)` after every step.

// %%
async function runToy(rows: number[][]) {
  const toy = lab.createUnconstrainedFeatures({
    tokens,
    dim: 6,
    hidden: hScaled,
    unembedding: scaled(rows),
  });
  const params: { W: number[][]; h: number[] }[] = [];
  const snapshot = async () => {
    params.push(await lab.ufmParameters(toy, "x0"));
  };
  const dist = lab.distributionTracker({ source: toy, chosen: [NO], rejected: [NEVER], k: 5 });
  const result = await lab.train({
    policy: toy,
    data: lab.toyData({ prompt: [0], chosen: [NO], rejected: [NEVER] }),
    objective: lab.dpo({ beta }),
    optimizer: { name: "sgd" },
    lr: lrA,
    batchSize: 1,
    maxSteps: stepsA,
    progress: false,
    callbacks: [dist, { name: "ufm_params", onTrainBegin: snapshot, onStepEnd: snapshot }],
  });
  toy.dispose();
  const probs = dist.history.map((d) => d.probs);
  const margin = probs.map((p) => Math.log(p[NO]) - Math.log(p[NEVER]));
  // DPO's slope l'(t) = -beta * sigmoid(-beta * (t - t_ref)); the reference is the initial model.
  const slope = (t: number) => -beta / (1 + Math.exp(beta * (t - margin[0])));
  const predicted = params.map((p) =>
    Array.from(
      lab.ufmPredictedLogProbChange(p.W, p.h, {
        yPlus: NO,
        yMinus: NEVER,
        lossDerivative: slope,
      }).rate,
    )
  );
  // Observed rate of step t+1: (ln pi_{t+1} - ln pi_t) / lr, next to the rate predicted at t.
  const observed = probs.slice(1).map((p, t) =>
    Array.from(p, (v, z) => (Math.log(v) - Math.log(probs[t][z])) / lrA)
  );
  return {
    probs,
    margin,
    predicted: predicted.slice(0, observed.length),
    observed,
    records: result.records,
  };
}
const aligned = await runToy(alignedRows);
const control = await runToy(controlRows);

// %% [markdown]
// ### ln π(z|x) over training
// The six tokens that reached the highest probability, aligned geometry (solid) and control
// (dotted, same colours).

// %%
const steps = aligned.probs.map((_, t) => t);
const topTokens = tokens.map((_, z) => z)
  .sort((a, b) =>
    Math.max(...aligned.probs.map((p) => p[b])) - Math.max(...aligned.probs.map((p) => p[a]))
  )
  .slice(0, 6);
await lab.show(lab.lineFigure(
  topTokens.flatMap((z, i) => [
    {
      name: tokens[z],
      x: steps,
      y: aligned.probs.map((p) => Math.log(p[z])),
      color: lab.seriesColor(i),
    },
    {
      name: `${tokens[z]} (control)`,
      x: steps,
      y: control.probs.map((p) => Math.log(p[z])),
      color: lab.seriesColor(i),
      dash: "dot" as const,
    },
  ]),
  {
    title: "DPO on (No ≻ Never): ln π(z|x), aligned geometry vs control",
    xTitle: "gradient step",
    yTitle: "ln π(z|x) (nats)",
    height: 480,
  },
));

// %%
await lab.show(lab.massEvolution(
  { steps, probs: aligned.probs },
  {
    topK: 6,
    include: [NO, NEVER],
    labels: tokens,
    title: "Where the mass goes (aligned geometry)",
  },
));

// %% [markdown]
// ### Theory against observation
// Each point is one token at one step: the rate Theorem 4/5 predicts from the current `W` and
// `h_x` (x) and the change the next gradient step made, divided by the step size (y). Points
// are drawn for a few steps; the dashed line is y = x.

// %%
const checkpoints = [
  0,
  Math.round(stepsA / 8),
  Math.round(stepsA / 4),
  Math.round(stepsA / 2),
  stepsA - 1,
];
const allPred = checkpoints.flatMap((t) => aligned.predicted[t]);
const lo = Math.min(...allPred), hi = Math.max(...allPred);
const theoryFig = lab.scatterFigure(
  checkpoints.map((t, i) => ({
    name: `step ${t}`,
    x: aligned.predicted[t],
    y: aligned.observed[t],
    color: lab.seriesColor(i),
  })),
  {
    title: "Predicted vs observed d ln π(z|x)/dt, every token",
    xTitle: "predicted rate (Theorems 4-5)",
    yTitle: "observed Δ ln π / step size",
  },
);
theoryFig.data.push({
  type: "scatter",
  mode: "lines",
  name: "y = x",
  x: [lo, hi],
  y: [lo, hi],
  line: { color: "#888", dash: "dash", width: 1 },
});
await lab.show(theoryFig);

// %% [markdown]
// Theorem 5 in one picture: at step 0, the observed rate of every token other than *No* and
// *Never* against its alignment `⟨W_z, W_No − W_Never⟩`. The theory says the points lie on a
// line of slope `−ℓ'(0) = β/2`.

// %%
const others = tokens.map((_, z) => z).filter((z) => z !== NO && z !== NEVER);
const align0 = alignment(alignedRows);
await lab.show(lab.scatterFigure(
  others.map((z, i) => ({
    name: tokens[z],
    x: [align0[z]],
    y: [aligned.observed[0][z]],
    color: lab.seriesColor(i),
    width: 10,
  })),
  {
    title: "Step 0: tokens aligned with W_No − W_Never gain most",
    xTitle: "⟨W_z, W_No − W_Never⟩",
    yTitle: "observed Δ ln π(z|x) / step size",
  },
));

// %% [markdown]
// ## Part B · The shipped tiny GPT-2 on the yes/no questions
// As in the paper, two phases.
// 1. **SFT**: one epoch over all questions, each with one answer word drawn (seeded) from
//    {No, Never, Maybe, Perhaps} when the cautious answer is *No*, from {Yes, Sure, Certainly,
//    Absolutely} when it is *Yes*; RMSProp, batch 8 (`lab.sft()`, the NLL of the chosen word).
//    This puts most of the next-token mass on answer words, as SFT did in the paper.
// 2. **DPO on one prompt** at a time, questions whose cautious answer is *No*, pair
//    (No ≻ Never), β = 0.1, RMSProp, from the SFT model and — the paper's Table 2 variant —
//    from the base model. Responses are single tokens (no EOS appended), so the pair's log-probs
//    are the next-token log-probs of *No* and *Never* after the prompt. The learning rates are
//    chosen so that a few dozen steps move this small model a lot (the paper's 1e-7 is
//    for 1-8B models).

// %%
const modelDir = "../data/models/tiny";
const tok = await lab.loadTokenizer(modelDir);
const questions = await lab.loadYesNoQuestions("../data/datasets/yesno_cautious/questions.jsonl");
const single = (w: string) => {
  const ids = tok.encode(w);
  if (ids.length !== 1) throw new RangeError(`"${w}" is ${ids.length} tokens, not one`);
  return ids[0];
};
const noWords = ["No", "Never", "Maybe", "Perhaps"];
const yesWords = ["Yes", "Sure", "Certainly", "Absolutely"];
const answerIds = new Map([...noWords, ...yesWords].map((w) => [w, single(w)]));
const idNo = single("No"), idNever = single("Never"), idYes = single("Yes");
const decode = (id: number) => JSON.stringify(tok.decode([id]));
console.log(
  "answer words, one token each: " + [...answerIds].map(([w, id]) => `${w}=${id}`).join(", "),
);
await lab.flushOutput();

// %%
// Phase 1: SFT. The word of question i is words[draw[i] % 4], draw a seeded permutation.
const sftQuestions = lab.bySmoke(questions, questions.slice(0, 48));
const draw = lab.permutation(sftQuestions.length, 7);
const sftWord = new Map(
  sftQuestions.map((q, i) => [q, (q.cautiousAnswer === "No" ? noWords : yesWords)[draw[i] % 4]]),
);
const sftRows = lab.singleTokenPairs(sftQuestions, {
  chosen: (q) => sftWord.get(q)!,
  rejected: (q) => sftWord.get(q)!, // ignored by the SFT loss
});
const sftPairs = lab.tokenizePairs(sftRows, tok, { appendEos: false }).pairs;
const sftModel = await lab.loadCausalLM(modelDir);
const sft = await lab.train({
  policy: lab.lmScorer(sftModel),
  data: lab.preferenceData(sftPairs, { padId: tok.padId }),
  objective: lab.sft(),
  optimizer: { name: "rmsprop" },
  lr: 1e-3,
  batchSize: 8,
  epochs: 1,
  seed: 0,
  progress: false,
});
const sftDir = "../out/models/02_tiny_sft";
await lab.saveCausalLM(sftModel, sftDir);
sftModel.dispose();
console.log(
  `SFT: ${sft.steps} steps on ${sftPairs.length} questions, loss ${
    sft.records[0].loss?.toFixed(3)
  } -> ` +
    `${sft.records.at(-1)!.loss?.toFixed(3)} (${
      sft.summary.train_runtime?.toFixed(0)
    } s); saved to ${sftDir}`,
);
await lab.flushOutput();

// %%
// Phase 2: DPO on one prompt at a time.
const nPrompts = lab.bySmoke(8, 1);
const picked = questions.filter((q) => q.cautiousAnswer === "No").slice(0, nPrompts);
const dpoPairs = lab.tokenizePairs(
  lab.singleTokenPairs(picked, { chosen: "No", rejected: "Never" }),
  tok,
  { appendEos: false },
).pairs;
const lrB = 1e-4;
const stepsB = lab.bySmoke(40, 6);

interface PromptRun {
  start: string;
  index: number;
  probs: Float64Array[];
  margin: number[];
  /** UFM prediction of d ln pi(z|x)/dt at step 0 from the model's own W and h_x. */
  theory: Float64Array;
}

async function dpoOnePrompt(start: string, pair: lab.TokenizedPair): Promise<PromptRun> {
  const model = await lab.loadCausalLM(start);
  const { W, h } = await lab.lmUfmParameters(model, pair.promptIds);
  const theory = lab.ufmPredictedLogProbChange(W, h, {
    yPlus: idNo,
    yMinus: idNever,
    lossDerivative: -beta / 2, // DPO's l'(0): policy = reference at the start
  }).rate;
  const dist = lab.distributionTracker({
    source: lab.causalNextTokenSource(model, [pair.promptIds]),
    chosen: [idNo],
    rejected: [idNever],
    file: false,
  });
  await lab.train({
    policy: lab.lmScorer(model),
    data: lab.preferenceData([pair], { padId: tok.padId }),
    objective: lab.dpo({ beta }),
    optimizer: { name: "rmsprop" },
    lr: lrB,
    batchSize: 1,
    maxSteps: stepsB,
    progress: false,
    callbacks: [dist],
  });
  model.dispose();
  const probs = dist.history.map((d) => d.probs);
  return {
    start,
    index: pair.index,
    probs,
    margin: probs.map((p) => Math.log(p[idNo]) - Math.log(p[idNever])),
    theory,
  };
}

const runsB: Record<"sft" | "base", PromptRun[]> = { sft: [], base: [] };
for (const pair of dpoPairs) {
  for (const [variant, start] of [["sft", sftDir], ["base", modelDir]] as const) {
    const r = await dpoOnePrompt(start, pair);
    runsB[variant].push(r);
    console.log(
      `${variant.padEnd(4)} prompt ${pair.index}: π(No) ${r.probs[0][idNo].toFixed(4)} -> ` +
        `${r.probs.at(-1)![idNo].toFixed(4)}, π(Never) ${r.probs[0][idNever].toFixed(4)} -> ` +
        `${r.probs.at(-1)![idNever].toFixed(4)}, π(Yes) ${r.probs[0][idYes].toFixed(4)} -> ` +
        `${r.probs.at(-1)![idYes].toFixed(4)}`,
    );
  }
}
await lab.flushOutput();

// %% [markdown]
// ### π(No), π(Never) and π(Yes) over the DPO steps
// Every prompt, starting from the SFT model (left) and from the base model (right).

// %%
const stepsBx = runsB.sft[0].probs.map((_, t) => t);
const curve = (runs: PromptRun[], id: number, name: string, color: string, axis: string) =>
  runs.map((r, i) => ({
    type: "scatter" as const,
    mode: "lines" as const,
    name,
    legendgroup: name,
    showlegend: i === 0 && axis === "",
    x: stepsBx,
    y: r.probs.map((p) => p[id]),
    xaxis: `x${axis}`,
    yaxis: `y${axis}`,
    line: { color, width: 1.5 },
  }));
const colNo = lab.ROLE_COLORS.chosen, colNever = lab.ROLE_COLORS.rejected;
const colYes = lab.seriesColor(2);
await lab.show(lab.makeFigure({
  data: [
    ...curve(runsB.sft, idNo, "No (y+)", colNo, ""),
    ...curve(runsB.sft, idNever, "Never (y−)", colNever, ""),
    ...curve(runsB.sft, idYes, "Yes", colYes, ""),
    ...curve(runsB.base, idNo, "No (y+)", colNo, "2"),
    ...curve(runsB.base, idNever, "Never (y−)", colNever, "2"),
    ...curve(runsB.base, idYes, "Yes", colYes, "2"),
  ],
  layout: {
    title: { text: "Tiny GPT-2, DPO on (No ≻ Never), one prompt per line" },
    height: 440,
    xaxis: { domain: [0, 0.4], title: { text: "DPO step (from SFT model)" } },
    yaxis: { title: { text: "π(token | prompt)" } },
    xaxis2: { domain: [0.6, 1], anchor: "y2", title: { text: "DPO step (from base model)" } },
    yaxis2: {
      anchor: "x2",
      type: "log",
      exponentformat: "power",
      title: { text: "π (log scale)" },
    },
  },
}));

// %%
const vocabLabels = Array.from({ length: tok.vocabSize }, (_, i) => tok.decode([i]));
await lab.show(lab.massEvolution({ steps: stepsBx, probs: runsB.sft[0].probs }, {
  topK: 8,
  include: [idNo, idNever],
  labels: vocabLabels,
  title: `Where the mass goes: prompt ${runsB.sft[0].index}, from the SFT model`,
}));

// %% [markdown]
// ### The UFM prediction on the real model
// For one prompt (SFT start): every one of the 4096 tokens, the rate Theorem 4/5 predicts at
// step 0 from the model's unembedding and the prompt's last hidden state (treated as free
// parameters) against the change of `ln π(z|x)` over the whole run. The real model's hidden
// state is produced by shared layers and RMSProp is not gradient flow, so only the ranking is
// compared (Spearman ρ in the last section).

// %%
const r0 = runsB.sft[0];
const obs0 = Array.from(r0.probs.at(-1)!, (v, z) => Math.log(v) - Math.log(r0.probs[0][z]));
// No and Never themselves (y+ and y-, Theorem 4) sit far off this scale; every other token
// (Theorem 5) is drawn, Yes and the run's largest gainer highlighted.
const topGainer = lab.topKGains(r0.probs[0], r0.probs.at(-1)!, {
  k: 1,
  exclude: [idNo, idNever, idYes],
})[0].token;
const rest = Array.from(r0.theory.keys()).filter((z) =>
  ![idNo, idNever, idYes, topGainer].includes(z)
);
await lab.show(lab.scatterFigure(
  [
    {
      name: "other tokens",
      x: rest.map((z) => r0.theory[z]),
      y: rest.map((z) => obs0[z]),
      color: "#999",
      width: 4,
    },
    { name: "Yes", x: [r0.theory[idYes]], y: [obs0[idYes]], color: colYes, width: 12 },
    {
      name: `${decode(topGainer)} (largest Δπ)`,
      x: [r0.theory[topGainer]],
      y: [obs0[topGainer]],
      color: lab.seriesColor(4),
      width: 12,
    },
  ],
  {
    title: `Prompt ${r0.index}: UFM-predicted rate at step 0 vs Δ ln π over ${stepsB} DPO steps`,
    xTitle: "predicted d ln π(z|x)/dt at step 0 (Theorem 5)",
    yTitle: "observed ln π_T(z|x) − ln π_0(z|x) (nats)",
  },
));

// %% [markdown]
// ## Measured

// %%
// Part A
const fin = aligned.probs.at(-1)!, ini = aligned.probs[0];
const gainsA = lab.topKGains(ini, fin, { k: 3, exclude: [NO, NEVER] });
const rhoA = aligned.predicted.map((p, t) => lab.spearmanCorrelation(p, aligned.observed[t]));
const rhoMedian = [...rhoA].sort((a, b) => a - b)[Math.floor(rhoA.length / 2)];
const rhoMin = Math.min(...rhoA);
const thm5 = lab.pearsonCorrelation(
  others.map((z) => align0[z]),
  others.map((z) => aligned.observed[0][z]),
);
const minNoA = Math.min(...aligned.probs.map((p) => p[NO]));
const ctrlFin = control.probs.at(-1)!;
console.log(`Part A (unconstrained features, gradient descent, lr ${lrA}, ${stepsA} steps)`);
console.log(
  `  aligned: π(No) ${ini[NO].toFixed(3)} -> ${fin[NO].toFixed(4)} (min ${minNoA.toFixed(4)}), ` +
    `margin ${aligned.margin[0].toFixed(2)} -> ${
      aligned.margin.at(-1)!.toFixed(2)
    } nats; top gainers: ` +
    gainsA.map((g) => `${tokens[g.token]} +${g.gain.toFixed(3)}`).join(", "),
);
console.log(
  `  control: π(No) ${control.probs[0][NO].toFixed(3)} -> ${ctrlFin[NO].toFixed(4)}, π(Yes) ` +
    `${control.probs[0][YES].toFixed(3)} -> ${ctrlFin[YES].toFixed(4)}`,
);
console.log(
  `  predicted vs observed per-token rates: Spearman ρ median ${rhoMedian.toFixed(3)}, min ` +
    `${rhoMin.toFixed(3)} over ${rhoA.length} steps; step-0 rate vs ⟨W_z, W_No−W_Never⟩: ` +
    `Pearson ${thm5.toFixed(4)}`,
);
// Theory against its own autodiff is a sanity check; the displacement itself is the paper's
// claim (a deterministic toy: one run, no interval).
const table = lab.studyTable();
table.sanity({
  what: "Part A: the UFM theory's per-token rates rank tokens like the autodiff steps",
  expected: "median Spearman ρ > 0.9 over steps; step-0 Pearson(rate, ⟨W_z, W_No−W_Never⟩) > 0.99",
  measured: `median ρ ${rhoMedian.toFixed(3)} (min ${rhoMin.toFixed(3)}), Pearson ${
    thm5.toFixed(4)
  } (ranks only: signs and magnitudes are not compared here)`,
  pass: rhoMedian > 0.9 && thm5 > 0.99,
});
table.finding({
  claim:
    "Part A (toy): π(No) falls while the margin grows, Yes gains most, the control's π(No) rises",
  expected: "all four, on the aligned geometry and its control",
  measured:
    `π(No) ${ini[NO].toFixed(3)} -> ${fin[NO].toFixed(4)}, margin ${
      aligned.margin[0].toFixed(2)
    } -> ${aligned.margin.at(-1)!.toFixed(2)} nats, top gainer ${tokens[gainsA[0].token]}, ` +
    `control π(No) -> ${ctrlFin[NO].toFixed(4)}`,
  pass: fin[NO] < ini[NO] && aligned.margin.at(-1)! > aligned.margin[0] &&
    gainsA[0].token === YES && ctrlFin[NO] > ini[NO],
});

// Part B
function summarise(runs: PromptRun[]) {
  const rows = runs.map((r) => {
    const p0 = r.probs[0], pT = r.probs.at(-1)!;
    const logGain = Float64Array.from(pT, (v, z) => Math.log(v) - Math.log(p0[z]));
    const byProb = lab.topKGains(p0, pT, { k: 5, exclude: [idNo, idNever] });
    const byLog = lab.topKGains(p0, pT, { k: 5, exclude: [idNo, idNever], by: "logProbability" });
    const yesRank = 1 +
      Array.from(pT).filter((v, z) =>
        z !== idNo && z !== idNever && v - p0[z] > pT[idYes] - p0[idYes]
      ).length;
    return {
      prompt: r.index,
      "π0(No)": p0[idNo],
      "max π(No)": Math.max(...r.probs.map((p) => p[idNo])),
      "min π(No)": Math.min(...r.probs.map((p) => p[idNo])),
      "π_T(No)": pT[idNo],
      "margin Δ (nats)": r.margin.at(-1)! - r.margin[0],
      "top gainers (Δπ)": byProb.map((g) => decode(g.token)).join(" "),
      "top gainers (Δ ln π)": byLog.map((g) => decode(g.token)).join(" "),
      "Yes rank (Δπ)": yesRank,
      "ρ(UFM, Δ ln π)": lab.spearmanCorrelation(r.theory, logGain),
    };
  });
  const n = rows.length;
  const mean = (f: (r: (typeof rows)[number]) => number) => lab.mean(rows.map(f));
  return {
    rows,
    fell: rows.filter((r) => r["π_T(No)"] < r["π0(No)"]).length / n,
    marginUp: rows.filter((r) => r["margin Δ (nats)"] > 0).length / n,
    largestDrop: mean((r) => r["π0(No)"] - r["min π(No)"]),
    yesTop5: rows.filter((r) => r["Yes rank (Δπ)"] <= 5).length / n,
    rho: mean((r) => r["ρ(UFM, Δ ln π)"]),
    p0: mean((r) => r["π0(No)"]),
    pMin: mean((r) => r["min π(No)"]),
  };
}
const fmt = (x: number) => (x >= 0.01 ? x.toFixed(3) : x.toExponential(2));
const summaries = { sft: summarise(runsB.sft), base: summarise(runsB.base) };
for (const [variant, sm] of Object.entries(summaries)) {
  console.log(
    `\nPart B, DPO from the ${
      variant === "sft" ? "SFT" : "base"
    } model (${sm.rows.length} prompts, ` +
      `RMSProp lr ${lrB}, ${stepsB} steps each)`,
  );
  console.table(sm.rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map((
        [k, v],
      ) => [k, typeof v === "number" && !Number.isInteger(v) ? fmt(v) : v]),
    )
  ));
  console.log(
    `  π(No) fell in ${(100 * sm.fell).toFixed(0)}% of prompts (mean largest drop ` +
      `${fmt(sm.p0)} -> ${fmt(sm.pMin)}); margin grew in ${(100 * sm.marginUp).toFixed(0)}%; ` +
      `Yes among the top-5 probability gainers in ${
        (100 * sm.yesTop5).toFixed(0)
      }%; mean Spearman ρ ` +
      `(UFM prediction at step 0 vs Δ ln π over the run, all ${tok.vocabSize} tokens) ${
        sm.rho.toFixed(3)
      }`,
  );
}
const smS = summaries.sft;
// Over prompts: a bootstrap where there are several, else the one prompt's value.
const overPrompts = (xs: number[]) => xs.length >= 2 ? lab.bootstrapCI(xs, lab.mean) : xs[0];
table.finding({
  claim: "Part B (SFT then DPO): π(No) falls while the margin grows (paper, 1-8B models)",
  expected: "share of prompts where π_T(No) < π0(No) > 0.5 (the paper: every run)",
  estimate: overPrompts(smS.rows.map((r) => (r["π_T(No)"] < r["π0(No)"] ? 1 : 0))),
  threshold: 0.5,
  direction: ">",
  measured: `fell in ${(100 * smS.fell).toFixed(0)}% of prompts; margin grew in ${
    (100 * smS.marginUp).toFixed(0)
  }%`,
});
table.finding({
  claim: "Part B: the mass goes to tokens aligned with W_No − W_Never (UFM prediction vs run)",
  expected: "mean Spearman ρ(UFM prediction at step 0, Δ ln π over the run) > 0.5",
  estimate: overPrompts(smS.rows.map((r) => r["ρ(UFM, Δ ln π)"])),
  threshold: 0.5,
  direction: ">",
});
table.finding({
  claim: "Part B: Yes among the top-5 probability gainers",
  expected: "share of prompts with Yes in the top 5 > 0",
  estimate: overPrompts(smS.rows.map((r) => (r["Yes rank (Δπ)"] <= 5 ? 1 : 0))),
  threshold: 0,
  direction: ">",
});
console.log(
  `\nbackend ${report.name}` +
    (lab.isSmoke()
      ? `; smoke mode: ${stepsA} toy steps, SFT on ${sftQuestions.length} questions, ` +
        `${dpoPairs.length} prompt(s) x ${stepsB} DPO steps, so Part B says little`
      : ""),
);
await table.print();
