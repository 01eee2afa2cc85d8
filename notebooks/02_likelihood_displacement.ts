// %% [markdown]
// # 02 · Likelihood displacement with single tokens
//
// **Question.** Training DPO to prefer the answer *No* over *Never* should make *No* more likely.
// Razin et al. (arXiv 2410.08847, §3) found instead that the probability of the preferred token
// can fall while the margin grows, with the mass going to a token of the *opposite* meaning,
// *Yes*. Does the unconstrained-features theory (their Theorems 4 and 5) predict this, in sign
// and in size, and what does our small shipped model do in the papers' regime (margins of a few
// nats)?
//
// **Setup.**
// - *Part A — the unconstrained-features model (UFM).* One prompt with a free hidden vector
//   `h_x` and a free unembedding `W`, `π(·|x) = softmax(W h_x)`, twelve named tokens. The
//   geometry is written by hand: *No* and *Never* share a large common direction and differ
//   along a small axis, and the affirmative tokens (*Yes*, *Sure*, ...) lie along
//   `W_No − W_Never`. A control starts from the *same* distribution with the affirmative tokens
//   moved off that direction. Seeds: small seeded perturbations (σ = 0.05 per coordinate) of the
//   geometry. DPO (β = 0.1) on (No ≻ Never), plain gradient descent, lr 0.05, 80 steps (the
//   margin grows by about 4 nats), plus a learning-rate sweep at the same step count.
// - *Part B — the shipped tiny GPT-2* (`data/models/tiny`) on the yes/no questions of
//   `data/datasets/yesno_cautious` (prompt = question + newline). As in the paper: SFT first
//   (`lab.yesNoSft`, the recipe and measured answer-word share of `data/models/tiny-sft`, on a
//   seeded 80% of the questions; the other 20% check that the SFT model answers unseen
//   questions with the answer words), then DPO on **one** SFT prompt at a time (prompts are the
//   seeds), single-token responses (No ≻ Never), RMSProp, β = 0.1, from the SFT model and
//   (Table 2) from the base model, 30 steps at a learning rate picked by the rule below; the
//   rule's grid, 1e-6 … 3e-5, doubles as a sweep that shows what changes beyond the regime.
//
// **The learning-rate rule (Part B), fixed before any finding is measured.** The papers' regime
// is a margin `ln π(No) − ln π(Never)` that grows by a few nats: here **[1, 5] nats after the 30
// RMSProp steps**. On a *calibration prompt* that is not one of the measured prompts, from the
// SFT model, the grid lr ∈ {1e-6, 3e-6, 1e-5, 3e-5} is run; the pick is the grid lr whose margin
// growth is closest to 3 nats (on a log scale) among those inside [1, 5] nats (if none is inside,
// the closest one, and the notebook prints that the rule failed). Every finding of Part B is then
// measured at the pick. (History: an earlier version set 3e-6 by hand after one run at 1e-5 grew
// the margins by 7-16 nats; the rule replaces that choice.)
//
// **What Theorems 4-5 predict, exactly.** They give the *instantaneous rate*
// `d/dt ln π(z|x)` under gradient flow `dθ/dt = −∇L` on the UFM's free parameters, at the
// current `(W, h_x)`: for `z ∉ {y+, y−}`,
// `−ℓ'·[⟨W_z, W_{y+} − W_{y−}⟩ + c(t)]` with an offset `c(t) = (π(y−) − π(y+))‖h_x‖² −
// ⟨W̄, W_{y+} − W_{y−}⟩` (`W̄` the π-weighted mean unembedding) shared by every z. So a
// prediction is checked against the change one *small* gradient step makes, divided by the step
// size; it says nothing directly about the total change over many steps, over which `c(t)` moves
// (it turns strongly negative once π(y+) holds the mass: `−π(y+)‖h_x‖²`, and `W̄ → W_{y+}`).
//
// **Expected** (thresholds fixed before the run; means over seeds or prompts with 95%
// t-intervals; "supported" needs the whole interval past the threshold). A quantity that cannot
// leave a range gets its t interval on a scale that keeps it there (`lab.boundedMeanCI`): shares
// and percentiles (B3, B5) on the logit scale in [0, 1], Spearman's ρ (B2, B4) on Fisher's z
// scale in [−1, 1], A2's difference of two probability changes in [−2, 2].
//
// | id | claim | measured as | threshold |
// |---|---|---|---|
// | A1 | UFM, aligned: π(No) falls while the margin grows (Thm 4) | Δ ln π(No) after 80 steps | < 0 |
// | A2 | UFM, aligned: Yes gains most (Thm 5) | Δπ(Yes) − largest Δπ of the other tokens | > 0 |
// | A3 | UFM, control: π(No) rises | Δ ln π(No) | > 0 |
// | A4 | the alignment causes the fall | Δ ln π(No), aligned − control (Welch) | < 0 |
// | B1 | tiny GPT-2 after SFT: π(No) falls (the paper: every run) | Δ ln π(No) after 30 steps at the picked lr | < 0 |
// | B2 | Thm 5 ranks the real model's first step | Spearman ρ(predicted, one small SGD step) | > 0.5 |
// | B3 | Thm 5 gets the real model's signs | share of tokens with the predicted sign, one small step | > 0.9 |
// | B4 | Thm 5 at step 0 ranks the whole run | Spearman ρ(predicted at step 0, Δ ln π over 30 steps) | > 0.5 |
// | B5 | Yes is among the gainers (the paper: Yes rises) | Yes's percentile by Δ ln π over the run | > 0.9 |
// | B6 | from the base model (Table 2): π(No) falls | Δ ln π(No) after 30 steps | < 0 |
// | B7 | after SFT: π(Yes) rises (the paper's headline example) | Δ ln π(Yes) after 30 steps | > 0 |
//
// Sanity checks (code against its own theory, not evidence for the paper): the UFM rate against
// a float64 finite difference; the trainer's own SGD steps against the rate, in sign and size;
// `softmax(W h_x)` against the real model's next-token distribution; the margin growing by a
// few nats; and, as a precondition of Part B, the SFT model answering held-out questions with
// the answer words (share ≥ 0.5; the base model puts ~0.2% there). Our model is a 1.3M-parameter
// GPT-2, so Part B reports what it does rather than assuming it matches the paper's 1-8B
// models.

// %%
import * as lab from "../lib/mod.ts";
import * as tf from "@tensorflow/tfjs-core";
const report = await lab.setupNotebook();
// Cells that print end with `await lab.flushOutput()`: the Deno kernel sends console output
// asynchronously, and a cell ending right after printing can lose its last lines.
const nSeeds = lab.bySmoke(5, 2), nPrompts = lab.bySmoke(5, 2);
const table = lab.studyTable();
if (lab.isSmoke()) {
  console.log(lab.wrapText(
    `smoke mode: ${nSeeds} toy seeds and ${nPrompts} prompts (full mode: 5 and 5), fewer DPO ` +
      `steps (the lr rule runs its grid at those steps, so its pick can differ), a shorter SFT ` +
      `and one toy lr; intervals are wide and Part B says little`,
  ));
}
await lab.flushOutput();

// %% [markdown]
// ## Part A · The unconstrained-features model
// Coordinates of the 6-dimensional space: `e0` "is an answer word", `e1` the axis on which *No*
// and *Never* differ, `e2` "affirmative", `e3..e5` small idiosyncratic parts. Every row is
// scaled by `s = 4` and `h_x` by `1/s`: large unembeddings and a small hidden vector, the regime
// where the `‖h_x‖²` term of Theorem 4 (which always pushes `ln π(y+)` up) is weak. Seed 0 is
// the geometry as written; seeds 1.. add N(0, 0.05²) to every coordinate of the rows and of `h_x`.

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
const baseRows = [
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
const baseH = [5, 1, -3.5, 0, 0, 0];
const NO = 0, NEVER = 1, YES = 2;
const beta = 0.1, lrA = 0.05, stepsA = 80;
const yesLike = new Set(["Yes", "Sure", "Yeah", "Certainly", "Absolutely"]);
// One colour per token in every figure of this study (No and Never in the chosen/rejected
// colours, Yes always green); the real model's other tokens take OTHER_COLORS in order.
const O = lab.OKABE_ITO;
const TOKEN_COLORS: Record<string, string> = {
  No: lab.ROLE_COLORS.chosen,
  Never: lab.ROLE_COLORS.rejected,
  Yes: O.bluishGreen,
  Sure: O.orange,
  Yeah: O.skyBlue,
  Certainly: O.reddishPurple,
  Absolutely: "#8C564B",
  Maybe: "#999933",
  Perhaps: "#882255",
  Nope: "#AA4499",
  The: "#332288",
  And: O.black,
};
const OTHER_COLORS = [O.orange, O.skyBlue, O.reddishPurple, "#8C564B", "#999933", "#882255"];
const MARGIN_COLOR = "#666666";
const rgba = (hex: string, a: number) =>
  `rgba(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(",")},${a})`;
/** Recolour a lab.massEvolution figure: pinned tokens keep their colour, others take OTHER_COLORS. */
function pinMassColors<F extends { data: unknown[] }>(fig: F): F {
  let k = 0;
  for (const t of fig.data as { name?: string; line?: { color?: string }; fillcolor?: string }[]) {
    if (t.name === "everything else") continue;
    const name = JSON.parse(t.name ?? '""') as string;
    const color = TOKEN_COLORS[name.trim()] ?? OTHER_COLORS[k++ % OTHER_COLORS.length];
    t.line = { ...t.line, color };
    t.fillcolor = rgba(color, 0.7);
  }
  return fig;
}

interface Geometry {
  aligned: number[][];
  control: number[][];
  h: number[];
}
/** Seed 0: as written; other seeds: the same geometry plus N(0, 0.05²) on every coordinate. */
function geometry(seed: number): Geometry {
  const rng = new lab.Rng(seed);
  const jitter = (v: number) => (seed === 0 ? v : v + 0.05 * rng.normal());
  const rows = baseRows.map((r) => r.map(jitter)), hx = baseH.map(jitter);
  // Control: the affirmative rows' e1 part moved onto e2 so that every logit <W_z, h_x> (hence
  // the initial distribution) is unchanged, but the rows no longer align with W_No - W_Never.
  const control = rows.map((r, i) =>
    yesLike.has(tokens[i]) ? [r[0], 0, r[2] + r[1] * hx[1] / hx[2], ...r.slice(3)] : r
  );
  const scale = (m: number[][]) => m.map((r) => r.map((v) => v * s));
  return { aligned: scale(rows), control: scale(control), h: hx.map((v) => v / s) };
}
const dot = (a: number[], b: number[]) => a.reduce((acc, v, j) => acc + v * b[j], 0);
const alignment = (w: number[][]) => {
  const d = w[NO].map((v, j) => v - w[NEVER][j]);
  return w.map((r) => dot(r, d));
};
const g0 = geometry(0);
const p0A = lab.softmax64(g0.aligned.map((r) => dot(r, g0.h)));
lab.printTable(tokens.map((t, i) => ({
  token: t,
  "π0(z|x)": p0A[i].toFixed(3),
  "⟨W_z, W_No−W_Never⟩ aligned": alignment(g0.aligned)[i].toFixed(1),
  "... control": alignment(g0.control)[i].toFixed(1),
})));
await lab.flushOutput();

// %% [markdown]
// One run per geometry and seed. A callback stores `W` and `h_x` at a few checkpoints
// (`lab.ufmParameters`), from which the theory's rates are computed; the distribution tracker
// stores `π(·|x)` after every step, so the change the *next* step made is known at each
// checkpoint.

// %%
interface ToyResult {
  probs: Float64Array[];
  margin: number[];
  /** Predicted rates and observed (Δ ln π / lr of the next step) at each checkpoint. */
  checks: { step: number; predicted: Float64Array; observed: Float64Array }[];
}

async function runToy(W: number[][], h: number[], lr: number, checkAt: number[] = []) {
  const toy = lab.createUnconstrainedFeatures({ tokens, dim: 6, hidden: [h], unembedding: W });
  const params = new Map<number, { W: number[][]; h: number[] }>();
  const snap = async (step: number) => {
    if (checkAt.includes(step)) params.set(step, await lab.ufmParameters(toy, "x0"));
  };
  const dist = lab.distributionTracker({ source: toy, chosen: [NO], rejected: [NEVER], k: 3 });
  try {
    await lab.train({
      policy: toy,
      data: lab.toyData({ prompt: [0], chosen: [NO], rejected: [NEVER] }),
      objective: lab.dpo({ beta }),
      optimizer: { name: "sgd" },
      lr,
      batchSize: 1,
      maxSteps: stepsA,
      progress: false,
      examplesEvery: false,
      callbacks: [dist, {
        name: "ufm_params",
        onTrainBegin: () => snap(0),
        onStepEnd: (ctx) => snap(ctx.step),
      }],
    });
  } finally {
    toy.dispose();
  }
  const probs = dist.history.map((d) => d.probs);
  const margin = probs.map((p) => Math.log(p[NO]) - Math.log(p[NEVER]));
  // DPO's slope l'(t) = -beta * sigmoid(-beta * (t - t_ref)); the reference is the initial model.
  const slope = (t: number) => -beta / (1 + Math.exp(beta * (t - margin[0])));
  const checks = checkAt.map((step) => {
    const p = params.get(step)!;
    const predicted = lab.ufmPredictedLogProbChange(p.W, p.h, {
      yPlus: NO,
      yMinus: NEVER,
      lossDerivative: slope,
    }).rate;
    const observed = Float64Array.from(
      probs[step + 1],
      (v, z) => (Math.log(v) - Math.log(probs[step][z])) / lr,
    );
    return { step, predicted, observed };
  });
  return { probs, margin, checks } satisfies ToyResult;
}

const checkpoints = [0, 10, 20, 40, 79];
const seedsA = Array.from({ length: nSeeds }, (_, i) => i);
const runsA: { aligned: ToyResult; control: ToyResult }[] = [];
for (const seed of seedsA) {
  const g = geometry(seed);
  runsA.push({
    aligned: await runToy(g.aligned, g.h, lrA, checkpoints),
    control: await runToy(g.control, g.h, lrA),
  });
}
// Learning-rate sweep (aligned geometry, same 80 steps; lr 0.05 is the main run).
const sweepLrA = lab.bySmoke([0.01, 0.05, 0.2, 0.5], [0.05]);
const sweepSeedsA = seedsA.slice(0, lab.bySmoke(3, 2));
const sweepA = new Map<number, ToyResult[]>();
for (const lr of sweepLrA) {
  const runs: ToyResult[] = [];
  for (const seed of sweepSeedsA) {
    const g = geometry(seed);
    runs.push(lr === lrA ? runsA[seed].aligned : await runToy(g.aligned, g.h, lr, [0]));
  }
  sweepA.set(lr, runs);
}
console.log(
  `Part A: ${nSeeds} seeds x 2 geometries, sweep ${
    sweepLrA.join(", ")
  } on ${sweepSeedsA.length} seeds`,
);
await lab.flushOutput();

// %% [markdown]
// ### ln π(z|x) over training (seed 0)
// The six tokens that reached the highest probability, aligned geometry (solid) and control
// (dotted); each token has the same colour in every figure of this study.

// %%
const a0 = runsA[0].aligned, c0 = runsA[0].control;
const steps = a0.probs.map((_, t) => t);
const topTokens = tokens.map((_, z) => z)
  .sort((a, b) => Math.max(...a0.probs.map((p) => p[b])) - Math.max(...a0.probs.map((p) => p[a])))
  .slice(0, 6);
await lab.show(lab.lineFigure(
  topTokens.flatMap((z) => [
    {
      name: tokens[z],
      x: steps,
      y: a0.probs.map((p) => Math.log(p[z])),
      color: TOKEN_COLORS[tokens[z]],
    },
    {
      name: `${tokens[z]} (control)`,
      x: steps,
      y: c0.probs.map((p) => Math.log(p[z])),
      color: TOKEN_COLORS[tokens[z]],
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
await lab.show(pinMassColors(lab.massEvolution(
  { steps, probs: a0.probs },
  { topK: 6, include: [NO, NEVER], labels: tokens, title: "Where the mass goes (aligned, seed 0)" },
)));

// %% [markdown]
// ### Theory against observation, in sign and size
// Each point is one token at one checkpoint of seed 0: the rate Theorems 4-5 predict from the
// current `W` and `h_x` (x) and the change the next gradient step made, divided by the step size
// (y). The dashed line is y = x: the points lie on it, negative rates included (*No* and *Never*
// fall, *Yes* rises), up to the O(lr) error of a finite step.

// %%
const allPred = a0.checks.flatMap((c) => Array.from(c.predicted));
const lo = Math.min(...allPred), hi = Math.max(...allPred);
const theoryFig = lab.scatterFigure(
  a0.checks.map((c, i) => ({
    name: `step ${c.step}`,
    x: Array.from(c.predicted),
    y: Array.from(c.observed),
    color: lab.seriesColor(i),
  })),
  {
    title: "UFM: predicted vs observed d ln π(z|x)/dt, every token",
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
// ### Learning-rate sweep (aligned geometry, 80 steps)
// Mean over seeds (solid) with the 95% interval (dotted). Left: the margin's growth and the
// change of `ln π(No)` in nats; right: how far a single step at that learning rate is from the
// gradient-flow rate at step 0 (largest |observed − predicted| over tokens, relative to the
// largest |predicted|).

// %%
const sweepStats = sweepLrA.map((lr) => {
  const runs = sweepA.get(lr)!;
  const ci = (f: (r: ToyResult) => number) => lab.meanCI(runs.map(f));
  return {
    lr,
    margin: ci((r) => r.margin.at(-1)! - r.margin[0]),
    dNo: ci((r) => Math.log(r.probs.at(-1)![NO]) - Math.log(r.probs[0][NO])),
    err: ci((r) => {
      const { predicted: p, observed: o } = r.checks[0];
      const m = Math.max(...Array.from(p, Math.abs));
      return Math.max(...Array.from(p, (v, z) => Math.abs(o[z] - v))) / m;
    }),
  };
});
const band = (name: string, color: string, key: "margin" | "dNo" | "err") => [
  { name, x: sweepLrA, y: sweepStats.map((r) => r[key].mean), color, group: name },
  ...(["lo", "hi"] as const).map((b) => ({
    name: `${name} 95% ${b}`,
    x: sweepLrA,
    y: sweepStats.map((r) => r[key][b]),
    color,
    dash: "dot" as const,
    width: 1,
    group: name,
    hideInLegend: true,
  })),
];
await lab.show(lab.subplots([
  lab.lineFigure([
    ...band("margin growth", MARGIN_COLOR, "margin"),
    ...band("Δ ln π(No)", TOKEN_COLORS.No, "dNo"),
  ], { title: "After 80 steps (nats)", xTitle: "learning rate", yTitle: "nats", logX: true }),
  lab.lineFigure(band("one-step error", O.black, "err"), {
    title: "One step vs the gradient-flow rate",
    xTitle: "learning rate",
    yTitle: "relative error",
    logX: true,
  }),
], { columns: 2, title: "UFM: learning-rate sweep", rowHeight: 360 }));
const short = (e: lab.Interval) => `${e.mean.toFixed(2)} [${e.lo.toFixed(2)}, ${e.hi.toFixed(2)}]`;
lab.printTable(sweepStats.map((r) => ({
  lr: r.lr.toExponential(0),
  "margin Δ, nats (95% CI)": short(r.margin),
  "Δ ln π(No), nats (95% CI)": short(r.dNo),
  "one-step rel. error": r.err.mean.toFixed(3),
})));
await lab.flushOutput();

// %% [markdown]
// ## Part B · The shipped tiny GPT-2 on the yes/no questions
// 1. **SFT** (`lab.yesNoSft`): 80% of the questions (seeded split), each with one answer word
//    drawn (seeded) from {No, Never, Maybe, Perhaps} when the cautious answer is *No*, from
//    {Yes, Sure, Certainly, Absolutely} when it is *Yes* (the authors' code draws the same way);
//    next-token cross-entropy of that word, RMSProp lr 3e-4, batch 8, 5 epochs (100 steps).
//    Before and after, on the 39 held-out questions: the share of the next-token mass on the
//    20 answer-word tokens (the 8 SFT words and "yes"/"no", each with and without a leading
//    space), the part of it on the *No* side, and which word is on top for how many questions
//    (a collapsed model would put one word on top everywhere).
// 2. **DPO on one prompt** at a time, questions whose cautious answer is *No*, pair
//    (No ≻ Never), β = 0.1, RMSProp, 30 steps, from the SFT model and from the base model, at
//    the learning rate the rule of the Setup picks on a calibration prompt (run first, below). Responses are single tokens (no EOS), so the pair's log-probs are the next-token
//    log-probs of *No* and *Never* after the prompt.
// 3. **The theory on the real model**, per prompt: the UFM rate from the model's unembedding and
//    the prompt's last hidden state (`lab.lmUfmParameters`, treated as free parameters), against
//    (a) one plain SGD step of size 1e-3 on the whole model from the same start (Δ ln π / 1e-3,
//    the first-order quantity the theorem is about) and (b) the change over the DPO run.

// %%
const modelDir = "../data/models/tiny";
const tok = await lab.loadTokenizer(modelDir);
const questions = await lab.loadYesNoQuestions("../data/datasets/yesno_cautious/questions.jsonl");
const single = (w: string) => {
  const ids = tok.encode(w);
  if (ids.length !== 1) throw new RangeError(`"${w}" is ${ids.length} tokens, not one`);
  return ids[0];
};
const idNo = single("No"), idNever = single("Never"), idYes = single("Yes");
const decode = (id: number) => JSON.stringify(tok.decode([id]));
console.log(lab.wrapText(
  "answer words, one token each: " +
    lab.ANSWER_WORDS.map((w) => `${w}=${single(w)}`).join(", "),
));
await lab.flushOutput();

// %%
// Phase 1: SFT (lab.yesNoSft, the recipe of data/models/tiny-sft/README.md) on 80% of the
// questions; the other 20% measure whether the model now answers with the answer words.
const split = lab.splitQuestions(questions, { heldOutFraction: 0.2, seed: 11 });
const sftQuestions = lab.bySmoke(split.train, split.train.slice(0, 48));
const answerIds = lab.answerWordIds(tok);
const heldPrompts = split.heldOut.map((q) => tok.encode(q.question + "\n"));
const sftModel = await lab.loadCausalLM(modelDir);
const shareBase = await lab.answerShare(sftModel, heldPrompts, answerIds);
const sft = await lab.yesNoSft(sftModel, tok, sftQuestions);
const shareSft = await lab.answerShare(sftModel, heldPrompts, answerIds);
const sftDir = "../out/models/02_tiny_sft";
await lab.saveCausalLM(sftModel, sftDir);
sftModel.dispose();
// A question is answered on its cautious side when the No-side words hold more of the
// answer-word mass than the Yes-side words (the SFT words of the other side).
const sideRight = (s: lab.AnswerShare) =>
  s.noSideFraction.filter((f, i) => (f > 0.5) === (split.heldOut[i].cautiousAnswer === "No"))
    .length / split.heldOut.length;
console.log(
  `SFT: ${sft.steps} RMSProp steps on ${sftQuestions.length} questions, loss ${
    sft.records[0].loss?.toFixed(3)
  } -> ${sft.records.at(-1)!.loss?.toFixed(3)}; saved to ${sftDir}`,
);
lab.printTable([["base", shareBase], ["SFT", shareSft]].map(([name, s]) => {
  const a = s as lab.AnswerShare;
  return {
    model: name,
    "answer-word share (held-out)": a.share.toFixed(3),
    "No-side part": lab.mean(a.noSideFraction).toFixed(3),
    "cautious side on top": sideRight(a).toFixed(3),
    "top word: questions": Object.entries(a.topCounts).map(([w, n]) => `${w}:${n}`).join(" "),
  };
}));
await lab.flushOutput();

// %%
// Phase 2: DPO on one prompt at a time, and the theory at step 0 and at the end.
// Prompts the SFT saw, as in the paper (DPO on one training prompt after SFT on all of them).
// The first nPrompts are measured; the next one is the calibration prompt of the lr rule.
const picked = sftQuestions.filter((q) => q.cautiousAnswer === "No").slice(0, nPrompts + 1);
const allPairs = lab.tokenizePairs(
  lab.singleTokenPairs(picked, { chosen: "No", rejected: "Never" }),
  tok,
  { appendEos: false },
).pairs;
if (allPairs.length !== nPrompts + 1) {
  throw new RangeError(`expected ${nPrompts + 1} tokenized pairs, got ${allPairs.length}`);
}
const dpoPairs = allPairs.slice(0, nPrompts), calPair = allPairs[nPrompts];
const stepsB = lab.bySmoke(30, 6), probeLr = 1e-3;
// The lr rule (stated in the Setup before the run): regime = margin growth in [1, 5] nats.
const gridB = [1e-6, 3e-6, 1e-5, 3e-5], regimeB = [1, 5] as const, targetB = 3;

interface PromptRun {
  index: number;
  lr: number;
  probs: Float64Array[];
  margin: number[];
  /** UFM rate at step 0 and at the last step, from the model's own W and h_x. */
  theory0: Float64Array;
  theoryT: Float64Array;
  /** The model's next-token distribution against softmax(W h_x): largest difference. */
  ufmGap: number;
}

async function theoryOf(model: lab.CausalLM, pair: lab.TokenizedPair) {
  const { W, h } = await lab.lmUfmParameters(model, pair.promptIds);
  // DPO's l'(0) = -beta/2 holds at step 0 only (policy = reference); at the end the sign of
  // every rate is what matters, and l' < 0 throughout, so -beta/2 keeps signs and ranks.
  return lab.ufmPredictedLogProbChange(W, h, {
    yPlus: idNo,
    yMinus: idNever,
    lossDerivative: -beta / 2,
  });
}

async function dpoRun(
  start: string,
  pair: lab.TokenizedPair,
  opts: { lr: number; steps: number; optimizer: "rmsprop" | "sgd" },
): Promise<PromptRun> {
  const model = await lab.loadCausalLM(start);
  try {
    const t0 = await theoryOf(model, pair);
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
      optimizer: { name: opts.optimizer },
      lr: opts.lr,
      batchSize: 1,
      maxSteps: opts.steps,
      progress: false,
      examplesEvery: false,
      callbacks: [dist],
    });
    const probs = dist.history.map((d) => d.probs);
    let ufmGap = 0;
    for (let z = 0; z < probs[0].length; z++) {
      ufmGap = Math.max(ufmGap, Math.abs(probs[0][z] - t0.probs[z]));
    }
    return {
      index: pair.index,
      lr: opts.lr,
      probs,
      margin: probs.map((p) => Math.log(p[idNo]) - Math.log(p[idNever])),
      theory0: t0.rate,
      theoryT: (await theoryOf(model, pair)).rate,
      ufmGap,
    };
  } finally {
    model.dispose();
  }
}

// The rule first: the grid on the calibration prompt from the SFT model, then the pick.
const sweepLrB = gridB;
const sweepB = new Map<number, PromptRun>();
for (const lr of gridB) {
  sweepB.set(lr, await dpoRun(sftDir, calPair, { lr, steps: stepsB, optimizer: "rmsprop" }));
}
const growthB = (lr: number) => sweepB.get(lr)!.margin.at(-1)! - sweepB.get(lr)!.margin[0];
const inRegimeB = gridB.filter((lr) => growthB(lr) >= regimeB[0] && growthB(lr) <= regimeB[1]);
const offTarget = (lr: number) =>
  growthB(lr) > 0 ? Math.abs(Math.log(growthB(lr) / targetB)) : Infinity;
const lrB = (inRegimeB.length ? inRegimeB : gridB)
  .reduce((best, lr) => (offTarget(lr) < offTarget(best) ? lr : best));
lab.printTable(gridB.map((lr) => ({
  lr: lr.toExponential(0),
  "margin growth": growthB(lr).toFixed(2),
  [`in [${regimeB.join(", ")}]`]: inRegimeB.includes(lr) ? "yes" : "no",
  pick: lr === lrB ? "<-" : "",
})));
console.log(lab.wrapText(
  `lr rule on calibration prompt ${calPair.index} (${stepsB} steps): pick ${
    lrB.toExponential(0)
  }, margin growth ${growthB(lrB).toFixed(2)} nats` +
    (inRegimeB.length ? "" : ` — RULE FAILED: no grid lr in [${regimeB.join(", ")}] nats`) +
    (lab.isSmoke() ? ` (smoke mode: ${stepsB} steps, so the pick can differ from full mode)` : ""),
));
await lab.flushOutput();

// %%
const runsB = {
  sft: [] as PromptRun[],
  base: [] as PromptRun[],
  probe: [] as PromptRun[],
  probeSmall: [] as PromptRun[],
};
// A second probe step ten times smaller checks that the probe is first-order (the rate
// Δ ln π / step size must not depend on the step size).
const probeSmallLr = probeLr / 10;
for (const pair of dpoPairs) {
  runsB.sft.push(await dpoRun(sftDir, pair, { lr: lrB, steps: stepsB, optimizer: "rmsprop" }));
  runsB.base.push(await dpoRun(modelDir, pair, { lr: lrB, steps: stepsB, optimizer: "rmsprop" }));
  runsB.probe.push(await dpoRun(sftDir, pair, { lr: probeLr, steps: 1, optimizer: "sgd" }));
  runsB.probeSmall.push(
    await dpoRun(sftDir, pair, { lr: probeSmallLr, steps: 1, optimizer: "sgd" }),
  );
}
lab.printTable(["sft", "base"].flatMap((start) =>
  runsB[start as "sft" | "base"].map((r) => ({
    start,
    prompt: r.index,
    "π0(No)": r.probs[0][idNo].toExponential(2),
    "π_T(No)": r.probs.at(-1)![idNo].toExponential(2),
    "π0(Never)": r.probs[0][idNever].toExponential(2),
    "margin growth": (r.margin.at(-1)! - r.margin[0]).toFixed(2),
    "top gainers (Δπ)": lab.topKGains(r.probs[0], r.probs.at(-1)!, {
      k: 3,
      exclude: [idNo, idNever],
    }).map((g) => decode(g.token)).join(" "),
  }))
));
console.log(lab.wrapText(
  `Part B: ${dpoPairs.length} prompts x (SFT start, base start, one SGD probe step), ` +
    `${stepsB} RMSProp steps at the picked lr ${lrB.toExponential()}; the rule's grid ${
      sweepLrB.map((v) => v.toExponential()).join(", ")
    } ran on calibration prompt ${calPair.index}`,
));
await lab.flushOutput();

// %% [markdown]
// ### ln π(No), ln π(Never) and ln π(Yes) over the DPO steps
// Every prompt, from the SFT model (left) and from the base model (right), in nats.

// %%
const lnCurves = (runs: PromptRun[], title: string) =>
  lab.lineFigure(
    runs.flatMap((r) =>
      ([[idNo, "No (y+)", TOKEN_COLORS.No], [idNever, "Never (y−)", TOKEN_COLORS.Never], [
        idYes,
        "Yes",
        TOKEN_COLORS.Yes,
      ]] as const).map(([id, name, color]) => ({
        name,
        x: r.probs.map((_, t) => t),
        y: r.probs.map((p) => Math.log(p[id])),
        color,
        width: 1.5,
        group: name,
      }))
    ),
    { title, xTitle: "DPO step", yTitle: "ln π(token | prompt) (nats)" },
  );
await lab.show(lab.subplots([
  lnCurves(runsB.sft, "from the SFT model"),
  lnCurves(runsB.base, "from the base model"),
], {
  columns: 2,
  title: `Tiny GPT-2, DPO on (No ≻ Never), lr ${lrB.toExponential()}, one prompt per line`,
  rowHeight: 400,
}));

// %%
const vocabLabels = Array.from({ length: tok.vocabSize }, (_, i) => tok.decode([i]));
const r0 = runsB.sft[0];
await lab.show(
  pinMassColors(lab.massEvolution({ steps: r0.probs.map((_, t) => t), probs: r0.probs }, {
    topK: 8,
    include: [idNo, idNever],
    labels: vocabLabels,
    title: `Where the mass goes: prompt ${r0.index}, from the SFT model`,
  })),
);

// %% [markdown]
// ### The sign question: the theory's rate against one small step, and against the whole run
// Left: every one of the 4096 tokens for the first prompt (SFT start), the UFM rate at step 0
// (x) against one plain SGD step of the whole model, Δ ln π / step size (y). Right: the same
// rate against the change over the whole DPO run (nats). The first is what the theorem
// predicts; the second mixes the offset `c(t)` of every later step into every token. *No* and
// *Never* (Theorem 4) lie far outside both panels; their values are printed below.

// %%
const probe0 = runsB.probe[0];
const lnDelta = (r: PromptRun) =>
  Float64Array.from(r.probs.at(-1)!, (v, z) => Math.log(v) - Math.log(r.probs[0][z]));
const probeRate = (r: PromptRun) => Float64Array.from(lnDelta(r), (v) => v / probeLr);
// No and Never (Theorem 4's tokens) sit far out on both axes; the panels show the other 4094.
const others = Array.from(probe0.theory0.keys()).filter((z) => z !== idNo && z !== idNever);
const panel = (y: Float64Array, title: string, yTitle: string) =>
  lab.scatterFigure([
    {
      name: "other tokens",
      x: others.filter((z) => z !== idYes).map((z) => probe0.theory0[z]),
      y: others.filter((z) => z !== idYes).map((z) => y[z]),
      color: "#999",
      width: 4,
    },
    {
      name: "Yes",
      x: [probe0.theory0[idYes]],
      y: [y[idYes]],
      color: TOKEN_COLORS.Yes,
      width: 11,
    },
  ], { title, xTitle: "UFM rate at step 0 (Theorem 5)", yTitle });
await lab.show(lab.subplots([
  panel(probeRate(probe0), "one SGD step (size 1e-3)", "observed Δ ln π / step size"),
  panel(
    lnDelta(runsB.sft[0]),
    `${stepsB} RMSProp steps, lr ${lrB.toExponential()}`,
    "Δ ln π over the run (nats)",
  ),
], {
  columns: 2,
  title: `Prompt ${probe0.index}: the UFM rate against the real model`,
  rowHeight: 400,
}));
{
  const obs1 = probeRate(probe0), obsRun = lnDelta(runsB.sft[0]);
  lab.printTable(
    ([[idNo, "No"], [idNever, "Never"], [idYes, "Yes"]] as [number, string][]).map(([id, w]) => ({
      token: w,
      "UFM rate at step 0": probe0.theory0[id].toFixed(3),
      "one SGD step: Δ ln π / 1e-3": obs1[id].toFixed(3),
      "Δ ln π over the run (nats)": obsRun[id].toFixed(3),
    })),
  );
}
await lab.flushOutput();

// %% [markdown]
// ### Learning-rate sweep: the rule's grid (calibration prompt, SFT start, same number of steps)
// Left: margin growth and Δ ln π(No), in nats. Right: the share of tokens whose change over the
// run has the sign the step-0 rate predicts, and the share the theory *at the last step* still
// predicts to rise (the offset `c(t)` is negative whenever π(No) > π(Never), and then the
// theory itself says every other token falls).

// %%
const signShare = (pred: Float64Array, obs: Float64Array) =>
  pred.reduce((a, v, z) => a + (Math.sign(v) === Math.sign(obs[z]) ? 1 : 0), 0) / pred.length;
const riseShare = (pred: Float64Array) =>
  pred.reduce((a, v) => a + (v > 0 ? 1 : 0), 0) / pred.length;
const sweepRowsB = sweepLrB.map((lr) => {
  const r = sweepB.get(lr)!, d = lnDelta(r);
  return {
    lr,
    margin: r.margin.at(-1)! - r.margin[0],
    dNo: d[idNo],
    maxNo: Math.max(...r.probs.map((p) => p[idNo])),
    endNo: r.probs.at(-1)![idNo],
    agree: signShare(r.theory0, d),
    riseT: riseShare(r.theoryT),
    rho: lab.spearmanCorrelation(r.theory0, d),
  };
});
await lab.show(lab.subplots([
  lab.lineFigure([
    {
      name: "margin growth",
      x: sweepLrB,
      y: sweepRowsB.map((r) => r.margin),
      color: MARGIN_COLOR,
    },
    {
      name: "Δ ln π(No)",
      x: sweepLrB,
      y: sweepRowsB.map((r) => r.dNo),
      color: TOKEN_COLORS.No,
    },
    // The rule's regime, [1, 5] nats of margin growth.
    ...regimeB.map((v, i) => ({
      name: `regime bounds (${regimeB.join(", ")} nats)`,
      x: [gridB[0], gridB.at(-1)!],
      y: [v, v],
      color: "#999999",
      dash: "dot" as const,
      width: 1,
      group: "regime",
      hideInLegend: i > 0,
    })),
  ], {
    title: `After ${stepsB} steps (nats)`,
    xTitle: "RMSProp learning rate",
    yTitle: "nats",
    logX: true,
  }),
  lab.lineFigure([
    {
      name: "sign as predicted at step 0",
      x: sweepLrB,
      y: sweepRowsB.map((r) => r.agree),
      color: O.black,
    },
    {
      name: "predicted to rise at the last step",
      x: sweepLrB,
      y: sweepRowsB.map((r) => r.riseT),
      // Not grey: subplots gives a colour another panel's series owns a fresh palette colour.
      color: "#CC6677",
      dash: "dash",
    },
  ], {
    title: "Share of the 4096 tokens",
    xTitle: "RMSProp learning rate",
    yTitle: "share",
    logX: true,
  }),
], { columns: 2, title: "Tiny GPT-2: learning-rate sweep", rowHeight: 360 }));
lab.printTable(sweepRowsB.map((r) => ({
  lr: r.lr.toExponential(0),
  "margin Δ": r.margin.toFixed(2),
  "Δ ln π(No)": r.dNo.toFixed(2),
  "max π(No)": r.maxNo.toFixed(4),
  "π_T(No)": r.endNo.toExponential(2),
  "signs as step 0": r.agree.toFixed(3),
  "rise at T (thy)": r.riseT.toFixed(3),
  "ρ": r.rho.toFixed(3),
})));
await lab.flushOutput();

// %% [markdown]
// ### The sign question, answered
// An earlier version of this study set the UFM rate at step 0 against the change over 40
// RMSProp steps at lr 1e-4 and reported Spearman ρ = 0.987, although every predicted rate but
// *Never*'s was positive and most observed changes were strongly negative. **Not a bug, a
// misread.** The rate is right: it matches a float64 finite difference (S1) and the trainer's
// own SGD steps on the UFM in sign and size (S2, the y = x plot above). Ranks agree while signs
// do not because:
// 1. For every `z ∉ {y+, y−}` the rate is `−ℓ'·[⟨W_z, W_No − W_Never⟩ + c(t)]`: the factor and
//    the offset are the same for every token, so a rank correlation sees only
//    `⟨W_z, W_No − W_Never⟩`. It cannot see signs, and it would be ~0.99 for any offset.
// 2. The offset `c(t) = (π(Never) − π(No))‖h_x‖² − ⟨W̄, W_No − W_Never⟩` sets the sign of every
//    other token's rate, and it depends on where the run starts. From this SFT model π(No) >
//    π(Never) on every DPO prompt (the table of runs above), so `c(0) < 0` and the theory
//    predicts that every other token but one falls (B3's "predicted to rise"). (The earlier,
//    much weaker SFT left π(Never) > π(No): `c(0) > 0`, the opposite prediction.)
// 3. On the real network the signs fail even for one small step. The probe is first-order (S6:
//    steps of 1e-3 and 1e-4 give the same rates) and the ranks agree (B2), but far fewer tokens
//    than the threshold move with the predicted sign (B3); *Yes*, for one, rises in a single
//    step where the theory says it falls (the table above). The theorem treats `W` and `h_x` as
//    free parameters; a step of the whole network also moves `h_x` through every layer below
//    it, which changes the logits in ways the UFM's shared offset cannot express, and the
//    observed sizes are many times the free-parameter rate (B3's median ratio).
//
// So on this model the UFM theory orders the tokens (B2, B4) but does not give their signs.
// What DPO does here, in the papers' regime (margins of a few nats): the margin grows mostly by
// pushing *Never* down, π(No) does not fall on average (B1), *Yes* falls (B5, B7), and the
// tokens that gain most are common words of running text (the "top gainers" column), as if the
// model drifted back toward its pretraining distribution rather than to the opposite answer.
// Beyond the regime (the larger learning rates of the sweep, margins far past a few nats) π(No)
// falls far (the sweep's table).

// %% [markdown]
// ## Measured

// %%
// Part A: sanity checks. The float64 finite difference at a tiny step (the DPO loss with the
// initial model as reference), then the trainer's own steps at lr 0.05.
{
  const W = tf.tensor2d(g0.aligned), h = tf.tensor1d(g0.h);
  const m0 = runsA[0].aligned.margin[0];
  const loss = (a: tf.Scalar, b: tf.Scalar) =>
    tf.softplus(tf.neg(tf.mul(beta, tf.sub(tf.sub(a, b), m0)))) as tf.Scalar;
  const fd = await lab.ufmObservedLogProbChange(W, h, {
    yPlus: NO,
    yMinus: NEVER,
    loss,
    stepSize: 1e-4,
  });
  W.dispose();
  h.dispose();
  const pred = runsA[0].aligned.checks[0].predicted;
  const maxP = Math.max(...Array.from(pred, Math.abs));
  const err = Math.max(...Array.from(pred, (v, z) => Math.abs(fd.rate[z] - v))) / maxP;
  table.sanity({
    what: "A: UFM rate (Theorems 4-5) vs a float64 gradient step of size 1e-4, all 12 tokens",
    expected: "largest |difference| < 1e-3 of the largest |rate|",
    measured: `${err.toExponential(2)}`,
    pass: err < 1e-3,
  });
}
{
  let agree = 0, total = 0;
  const ratios: number[] = [];
  for (const { aligned } of runsA) {
    for (const c of aligned.checks) {
      const maxP = Math.max(...Array.from(c.predicted, Math.abs));
      c.predicted.forEach((v, z) => {
        if (Math.abs(v) < 0.05 * maxP) return; // a rate near 0 can flip within O(lr)
        total++;
        if (Math.sign(v) === Math.sign(c.observed[z])) agree++;
        ratios.push(c.observed[z] / v);
      });
    }
  }
  const med = lab.median(ratios);
  table.sanity({
    what: "A: the trainer's SGD steps (lr 0.05) vs the predicted rate at 5 checkpoints, all seeds",
    expected:
      "same sign for every token with |rate| > 5% of the largest; median observed/predicted in [0.9, 1.1]",
    measured: `sign agrees for ${agree}/${total}; median ratio ${med.toFixed(3)}`,
    pass: agree === total && med > 0.9 && med < 1.1,
  });
}
// Part A: findings over seeds.
const dLn = (r: ToyResult, z: number) => Math.log(r.probs.at(-1)![z]) - Math.log(r.probs[0][z]);
const yesLead = (r: ToyResult) => {
  const d = r.probs.at(-1)!.map((v, z) => v - r.probs[0][z]);
  return d[YES] - Math.max(...Array.from(d).filter((_, z) => z !== NO && z !== NEVER && z !== YES));
};
const mA = runsA.map((r) => r.aligned.margin.at(-1)! - r.aligned.margin[0]);
table.finding({
  claim: "A1 UFM, aligned geometry: π(No) falls while the margin grows (Theorem 4)",
  expected: `Δ ln π(No) after ${stepsA} steps < 0 (mean over ${nSeeds} seeds)`,
  estimate: lab.meanCI(runsA.map((r) => dLn(r.aligned, NO))),
  threshold: 0,
  direction: "<",
  measured: `margin growth ${lab.formatInterval(lab.meanCI(mA))} nats`,
});
table.finding({
  claim: "A2 UFM, aligned: Yes gains the most probability (Theorem 5)",
  expected: "Δπ(Yes) − largest Δπ of the other 9 tokens > 0",
  // A difference of two probability changes lies in [−2, 2].
  estimate: lab.boundedMeanCI(runsA.map((r) => yesLead(r.aligned)), { lower: -2, upper: 2 }),
  threshold: 0,
  direction: ">",
});
table.finding({
  claim: "A3 UFM, control geometry (affirmative tokens off W_No − W_Never): π(No) rises",
  expected: "Δ ln π(No) > 0",
  estimate: lab.meanCI(runsA.map((r) => dLn(r.control, NO))),
  threshold: 0,
  direction: ">",
});
table.finding({
  claim: "A4 UFM: the alignment, not the start, makes π(No) fall",
  expected: "Δ ln π(No), aligned − control < 0 (Welch interval)",
  estimate: lab.diffMeansCI(
    runsA.map((r) => dLn(r.aligned, NO)),
    runsA.map((r) => dLn(r.control, NO)),
  ),
  threshold: 0,
  direction: "<",
});
await lab.flushOutput();

// %%
// Part B: sanity checks, then findings over prompts.
const gap = Math.max(...runsB.sft.map((r) => r.ufmGap), ...runsB.base.map((r) => r.ufmGap));
table.sanity({
  what: "B: softmax(W h_x) from lmUfmParameters equals the model's next-token distribution",
  expected: "largest |difference| < 1e-4 over all tokens and runs",
  measured: gap.toExponential(2),
  pass: gap < 1e-4,
});
table.sanity({
  what: "B: after SFT the model answers held-out questions with the answer words",
  expected: "answer-word share of the next-token mass ≥ 0.5 (base model for comparison)",
  measured: `${shareSft.share.toFixed(3)} on ${split.heldOut.length} held-out questions (base ${
    shareBase.share.toFixed(4)
  }); cautious side on top for ${sideRight(shareSft).toFixed(3)}`,
  pass: shareSft.share >= 0.5,
});
const mB = runsB.sft.map((r) => r.margin.at(-1)! - r.margin[0]);
const mBase = runsB.base.map((r) => r.margin.at(-1)! - r.margin[0]);
table.sanity({
  what: "B: the papers' regime: DPO grows the margin by a few nats",
  expected:
    `margin growth in [0.5, 10] nats in every run (lr ${lrB.toExponential()}, ${stepsB} steps)`,
  measured: `SFT start ${Math.min(...mB).toFixed(2)} .. ${Math.max(...mB).toFixed(2)}, base start ${
    Math.min(...mBase).toFixed(2)
  } .. ${Math.max(...mBase).toFixed(2)} nats`,
  pass: [...mB, ...mBase].every((m) => m >= 0.5 && m <= 10),
});
{
  // First-order probe: rates from steps of 1e-3 and 1e-4 agree in sign and size.
  const stats = runsB.probe.map((r, i) => {
    const big = probeRate(r);
    const small = Float64Array.from(lnDelta(runsB.probeSmall[i]), (v) => v / probeSmallLr);
    return {
      sign: signShare(big, small),
      // A token whose small-step change rounds to 0 in float32 has no ratio.
      ratio: lab.median(Array.from(big, (v, z) => v / small[z]).filter(Number.isFinite)),
    };
  });
  const minSign = Math.min(...stats.map((s) => s.sign));
  const ratios = stats.map((s) => s.ratio);
  table.sanity({
    what: "B: the probe step is first-order: Δ ln π / step at step 1e-3 vs 1e-4, every prompt",
    expected: "same sign for ≥ 95% of tokens; median ratio of the rates in [0.8, 1.25]",
    measured: `same sign for ≥ ${minSign.toFixed(3)}; median ratios ${
      ratios.map((v) => v.toFixed(2)).join(", ")
    }`,
    pass: minSign >= 0.95 && ratios.every((v) => v >= 0.8 && v <= 1.25),
  });
}
const otherIds = (n: number) =>
  Array.from({ length: n }, (_, z) => z).filter((z) => z !== idNo && z !== idNever);
const probeStats = runsB.probe.map((r) => {
  const obs = probeRate(r), ids = otherIds(obs.length);
  return {
    rho: lab.spearmanCorrelation(r.theory0, obs),
    sign: signShare(r.theory0, obs),
    ratio: lab.median(ids.map((z) => obs[z] / r.theory0[z])),
    rise0: riseShare(r.theory0),
  };
});
const runStats = runsB.sft.map((r) => {
  const d = lnDelta(r);
  return {
    dNo: d[idNo],
    rho: lab.spearmanCorrelation(r.theory0, d),
    sign: signShare(r.theory0, d),
    yesPct: d.reduce((a, v) => a + (v < d[idYes] ? 1 : 0), 0) / (d.length - 1),
  };
});
// Part B's findings vary over prompts (one DPO run per SFT prompt), not seeds.
const ciPrompts = (xs: number[]) => lab.meanCI(xs, 0.95, "prompts");
// Shares and percentiles stay in [0, 1], Spearman's ρ in [−1, 1]: intervals on the logit and
// Fisher z scales (lab.boundedMeanCI) keep them there.
const shareCi = (xs: number[]) => lab.boundedMeanCI(xs, { lower: 0, upper: 1 }, 0.95, "prompts");
const rhoCi = (xs: number[]) => lab.boundedMeanCI(xs, { lower: -1, upper: 1 }, 0.95, "prompts");
table.finding({
  claim: "B1 tiny GPT-2 after SFT: π(No) falls while the margin grows (the paper: every run)",
  expected: `Δ ln π(No) after ${stepsB} steps < 0 (mean over ${nPrompts} prompts)`,
  estimate: ciPrompts(runStats.map((s) => s.dNo)),
  threshold: 0,
  direction: "<",
  measured: `margin growth ${lab.formatInterval(ciPrompts(mB))} nats`,
});
table.finding({
  claim: "B2 Theorem 5 ranks the tokens of the real model's first (small SGD) step",
  expected: "Spearman ρ(UFM rate, Δ ln π / step) over 4096 tokens > 0.5",
  estimate: rhoCi(probeStats.map((s) => s.rho)),
  threshold: 0.5,
  direction: ">",
});
table.finding({
  claim: "B3 Theorem 5 gets the signs of the real model's first (small SGD) step",
  expected: "share of the 4096 tokens with the predicted sign > 0.9",
  estimate: shareCi(probeStats.map((s) => s.sign)),
  threshold: 0.9,
  direction: ">",
  measured: `predicted to rise: ${lab.formatInterval(shareCi(probeStats.map((s) => s.rise0)))}; ` +
    `size: median observed/predicted ${
      lab.formatInterval(ciPrompts(probeStats.map((s) => s.ratio)))
    } ` +
    `(one step of the whole network also moves h_x through every layer below it)`,
});
table.finding({
  claim: "B4 Theorem 5 at step 0 ranks the changes over the whole DPO run",
  expected: "Spearman ρ(UFM rate at step 0, Δ ln π over the run) > 0.5",
  estimate: rhoCi(runStats.map((s) => s.rho)),
  threshold: 0.5,
  direction: ">",
  measured: `sign as predicted at step 0: ${
    lab.formatInterval(shareCi(runStats.map((s) => s.sign)))
  } ` +
    `of tokens (ranks can agree while signs do not: see "The sign question")`,
});
table.finding({
  claim: "B5 Yes is among the tokens that gain (the paper: Yes rises on OLMo)",
  expected: "Yes's percentile among the other tokens by Δ ln π over the run > 0.9",
  estimate: shareCi(runStats.map((s) => s.yesPct)),
  threshold: 0.9,
  direction: ">",
});
table.finding({
  claim: "B6 from the base model, no SFT (the paper's Table 2): π(No) falls",
  expected: "Δ ln π(No) after the run < 0",
  estimate: ciPrompts(runsB.base.map((r) => lnDelta(r)[idNo])),
  threshold: 0,
  direction: "<",
  measured: `margin growth ${lab.formatInterval(ciPrompts(mBase))} nats`,
});
table.finding({
  claim: "B7 tiny GPT-2 after SFT: π(Yes) rises under DPO on (No ≻ Never) (the paper's example)",
  expected: `Δ ln π(Yes) after ${stepsB} steps > 0`,
  estimate: ciPrompts(runsB.sft.map((r) => lnDelta(r)[idYes])),
  threshold: 0,
  direction: ">",
});
console.log(lab.wrapText(
  `backend ${report.name}; Part A: ${nSeeds} seeds, SGD lr ${lrA}, ${stepsA} steps; Part B: ` +
    `SFT ${sft.steps} steps on ${sftQuestions.length} questions, ${nPrompts} prompts x ${stepsB} ` +
    `RMSProp steps at lr ${lrB.toExponential()} (picked by the rule on calibration prompt ` +
    `${calPair.index})` +
    (lab.isSmoke() ? " (smoke mode: fewer seeds, prompts and steps)" : "") +
    "\n",
));
await table.print();
