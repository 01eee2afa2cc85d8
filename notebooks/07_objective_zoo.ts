// %% [markdown]
// # 07 · The objective zoo: gradient fields and toy dynamics side by side
//
// **Question.** Every preference objective in the library is a function of the chosen and
// rejected sequence scores, so each has gradient weights `g_w = ∂L/∂ℓθ(y_w)` and
// `g_l = ∂L/∂ℓθ(y_l)` that decide how it moves the two log-probs. How do the registered
// objectives differ in these weights over the (u_w, u_l) plane, do they match the analytic
// gradient-weight table of the reference (`objectives.md` §7), and what does each do on a toy
// where DPO displaces the preferred response?
//
// **Setup.**
// - *Fields:* every entry of `lab.OBJECTIVES` with its default parameters on a 20 × 20 grid of
//   (10 × 10 in smoke mode)
//   u_w, u_l ∈ [−10, 10] nats; completions of length 1; reference log-prob −12 on both sides (so
//   reference-free objectives see ℓθ = u − 12 < 0). Stated assumptions where an objective needs
//   more than (u_w, u_l): batch-coupled objectives (AOT, SFT, MPO, KTO) are evaluated one pair per
//   batch; KTO with a fixed reference point z0 = 0 and α-DPO with fixed statistics μ = 0, σ = 1
//   (their defaults estimate these from other pairs of a batch); the token-level LD-DPO and SGDPO
//   with 8-token completions that share the log-ratio evenly (`lab.tokenGradientField`; SGDPO's
//   pilot is then exact). WPO and TDPO are excluded from the fields: their weights depend on the
//   whole next-token distribution at each position (Σ_v π(v)², KL to the reference), not on
//   (u_w, u_l). Arrows show the descent direction (unit length); the background is
//   log₁₀‖(g_w, g_l)‖ on one shared scale.
// - *Toy runs:* the displacement toy of notebook 06 (`lab.displacementToy()`: y+ = "No",
//   y− = "Never", nearly parallel unembeddings, "Yes" aligned with their difference), one pair,
//   SGD lr 0.03 for 300 steps, global gradient norm clipped at 5 (some objectives have gradients
//   hundreds of times DPO's), every objective with its defaults (and the adjustments above),
//   through `lab.createToySequenceScorer` so token-level objectives get their per-token data.
//
// **Expected** (from the gradient-weight table, §7 of the reference; checked numerically at every
// grid point in the last cell):
// - DPO: `g_w = −βσ(−βh) = −g_l` — equal and opposite, nothing asks ℓθ(y_w) itself to rise.
// - IPO: `g_w = 2(h − 1/(2β))`: the weights change sign past the target margin 1/(2β) = 5 nats.
// - hinge: `g = ∓β` below the margin βh < 1 and exactly zero past it.
// - NCA: `g_w < 0` iff βu_w < ln 2; BCO and APO-zero: each weight depends on one score only;
//   SPPO-hard: `g_w = 2(u_w − 1/(2β))`, `g_l = 2(u_l + 1/(2β))`: pulls towards fixed targets.
// - DPOP, Cal-DPO, SimPO, ORPO, CPO, RPO, ASFT, EXO, APO-down, KTO, AlphaPO, α-DPO, MPO, SLiC-HF,
//   robust, R-DPO, sigmoid-norm: the table's formulas (with length 1); SPO and SGDPO: their
//   reconstructions' formulas (`lib/objectives/spo.ts`, `sgdpo.ts`).
// - DiscoPOP (derived from its loss, not in the table): at h = 0,
//   `g_w = β[(1 − ln 2)/(4τ) − 3/4] > 0` for τ = 0.05 — descent from policy = reference *lowers*
//   the margin, so on the toy its margin should end negative.
// - Toy: the hinge stops once βh ≥ 1 (margin ≥ 10 nats) and IPO settles at h = 1/(2β) = 5 nats.

// %%
import * as lab from "../lib/mod.ts";
// Toy tensors of a few dozen numbers: per-op dispatch dominates. Measured on this 2-core machine
// when the study was written (a DPO step of this toy): cpu ~8 ms, wasm ~13 ms, webgpu on the
// llvmpipe software adapter ~64 ms; so the pure-JS cpu backend, which is also deterministic.
const report = await lab.setupNotebook({ backend: "cpu" });

// %% [markdown]
// ## The registry and how each objective is shown

// %%
const ADJUST: Record<string, Record<string, unknown>> = {
  kto: { z0: 0 },
  alpha_dpo: { sigma: 1 },
};
const EXCLUDED: Record<string, string> = {
  wpo: "weights need Σ_v π(v)² at each position (no (u_w, u_l) field)",
  tdpo: "weights need KL(πref ‖ πθ) at each position (no (u_w, u_l) field)",
};
const make = (e: lab.ObjectiveEntry) => e.create(ADJUST[e.name] ?? {});
const howShown = (e: lab.ObjectiveEntry) => {
  const o = make(e);
  if (EXCLUDED[e.name]) return `excluded: ${EXCLUDED[e.name]}`;
  const notes: string[] = [];
  if (o.needsTokens) notes.push("token-level: 8 tokens, log-ratio spread evenly");
  if (o.batchCoupled) notes.push("batch-coupled: one pair per batch");
  if (ADJUST[e.name]) notes.push(`fixed ${JSON.stringify(ADJUST[e.name])}`);
  return notes.join("; ") || "direct";
};
console.table(lab.OBJECTIVES.map((e) => ({
  name: e.name,
  source: e.source,
  arXiv: e.arxiv,
  "field shown as": howShown(e),
})));

// %% [markdown]
// ## 1 · Gradient fields

// %%
// 20 (smoke: 10) points per axis; neither grid hits a kink (h = 10, u_w = 0) exactly.
const AXIS = { min: -10, max: 10, n: lab.bySmoke(20, 10) };
const REF = -12;
const fields = new Map<string, lab.GradientField>();
const tf0 = performance.now();
for (const e of lab.OBJECTIVES) {
  if (EXCLUDED[e.name]) continue;
  const o = make(e);
  fields.set(
    e.name,
    o.needsTokens
      ? lab.tokenGradientField(o, { uW: AXIS, uL: AXIS, refToken: REF / 8 })
      : lab.gradientField(o, { uW: AXIS, uL: AXIS, refChosen: REF, refRejected: REF }),
  );
}
console.log(`${fields.size} fields in ${((performance.now() - tf0) / 1000).toFixed(1)} s`);

// %%
const logNorm = (f: lab.GradientField) =>
  f.gW.map((row, i) => row.map((g, j) => Math.max(-4, Math.log10(Math.hypot(g, f.gL[i][j])))));
const names = [...fields.keys()];
// Six panels per figure: outputs of several MB can arrive after the Deno kernel reports the cell
// done, and headless runs then lose them; six panels keep each figure near 1.5 MB.
const groups = Array.from(
  { length: Math.ceil(names.length / 6) },
  (_, k) => names.slice(6 * k, 6 * k + 6),
);
/** Small multiples of one group of fields (each figure is a cell's value: displayed in order). */
const fieldGroup = (k: number) =>
  lab.objectiveFields(
    groups[k].map((name) => ({
      name,
      field: { ...fields.get(name)!, loss: logNorm(fields.get(name)!) },
    })),
    {
      columns: 3,
      normalize: "unit",
      arrows: 10,
      background: "loss",
      backgroundTitle: "log₁₀‖∇L‖",
      zmin: -4,
      zmax: 2.5,
      title: `Gradient fields ${
        k + 1
      }/${groups.length} (arrows: descent direction; u = ℓθ − ℓref, nats)`,
    },
  );
console.log(groups.map((g, k) => `${k + 1}: ${g.join(", ")}`).join("\n"));

// %%
// DPO alone first, at full size, as the reference every panel below is read against.
await lab.show(lab.gradientFieldFigure(fields.get("dpo")!, {
  title: "DPO (β = 0.1): the reference for the panels below",
  background: "loss",
}));

// %%
await lab.show(fieldGroup(0));

// %%
await lab.show(fieldGroup(1));

// %%
await lab.show(fieldGroup(2));

// %%
await lab.show(fieldGroup(3));

// %%
await lab.show(fieldGroup(4));

// %%
await lab.show(fieldGroup(5));

// %% [markdown]
// ## 2 · Toy dynamics: one run per objective
// Final π(y+ = No), π(y− = Never), the mass that left both (OOD), and the log-prob margin
// `ln π(No) − ln π(Never)` in nats (objective-independent, unlike the implicit rewards).

// %%
const toy = lab.displacementToy();
const STEPS = lab.bySmoke(300, 40);
const init = (() => {
  const m = lab.createUnconstrainedFeatures(toy.options);
  const d = m.distribution(0);
  m.dispose();
  return d;
})();
const [YP, YM] = [toy.options.tokens[toy.chosen], toy.options.tokens[toy.rejected]];
interface ToyResult {
  name: string;
  chosen: number;
  rejected: number;
  ood: number;
  margin: number;
  top: string;
  seconds: number;
  error?: string;
}
const results: ToyResult[] = [];
const tr0 = performance.now();
for (const e of lab.OBJECTIVES) {
  const model = lab.createUnconstrainedFeatures(toy.options);
  const scorer = lab.createToySequenceScorer(model, { maxLength: 1 });
  const t = performance.now();
  try {
    await lab.train({
      policy: scorer,
      data: lab.toySequenceData({
        prompt: [0],
        chosen: [[toy.chosen]],
        rejected: [[toy.rejected]],
      }),
      objective: make(e),
      optimizer: { name: "sgd" },
      lr: 0.03,
      batchSize: 1,
      maxSteps: STEPS,
      maxGradNorm: 5,
      progress: false,
      examplesEvery: false,
    });
    const d = model.distribution(0);
    const others = Object.keys(d).filter((k) => k !== YP && k !== YM);
    const top = others.reduce((a, b) => (d[b] - init[b] > d[a] - init[a] ? b : a));
    results.push({
      name: e.name,
      chosen: d[YP],
      rejected: d[YM],
      ood: 1 - d[YP] - d[YM],
      margin: Math.log(d[YP]) - Math.log(d[YM]),
      top: `${top} ${d[top] - init[top] >= 0 ? "+" : ""}${(d[top] - init[top]).toFixed(3)}`,
      seconds: (performance.now() - t) / 1000,
    });
  } catch (err) {
    results.push({
      name: e.name,
      chosen: NaN,
      rejected: NaN,
      ood: NaN,
      margin: NaN,
      top: "",
      seconds: (performance.now() - t) / 1000,
      error: String(err).slice(0, 120),
    });
  } finally {
    scorer.dispose();
    model.dispose();
  }
}
console.log(
  `${results.length} runs of ${STEPS} steps in ${
    ((performance.now() - tr0) / 1000).toFixed(0)
  } s; ` +
    `start: π(${YP}) ${init[YP].toFixed(3)}, π(${YM}) ${init[YM].toFixed(3)}, OOD ${
      (1 - init[YP] - init[YM]).toFixed(3)
    }`,
);
console.table(results.map((r) => ({
  objective: r.name,
  [`π(${YP})`]: r.chosen.toFixed(3),
  [`π(${YM})`]: r.rejected.toFixed(3),
  OOD: r.ood.toFixed(3),
  "margin (nats)": r.margin.toFixed(2),
  "largest other gain": r.top,
  ...(r.error ? { error: r.error } : {}),
})));

// %%
const sorted = results.filter((r) => !r.error).sort((a, b) => b.chosen - a.chosen);
const bars = (key: "chosen" | "rejected" | "ood", name: string, color: string) =>
  lab.makeFigure({
    data: [{
      type: "bar",
      x: sorted.map((r) => r.name),
      y: sorted.map((r) => r[key]),
      name,
      marker: { color },
    }],
    layout: {
      title: { text: name },
      yaxis: { title: { text: "probability" }, range: [0, 1] },
      xaxis: { tickangle: -60 },
      shapes: [{
        type: "line",
        xref: "paper",
        x0: 0,
        x1: 1,
        y0: key === "chosen" ? init[YP] : key === "rejected" ? init[YM] : 1 - init[YP] - init[YM],
        y1: key === "chosen" ? init[YP] : key === "rejected" ? init[YM] : 1 - init[YP] - init[YM],
        line: { color: "#555555", width: 1, dash: "dash" },
      }],
    },
  });
const massFigure = lab.subplots([
  bars("chosen", `final π(${YP}) (dashed: start)`, lab.ROLE_COLORS.chosen),
  bars("ood", "final OOD mass 1 − π(y+) − π(y−)", lab.OKABE_ITO.orange),
], { columns: 1, rowHeight: 360, width: 1000, ygap: 0.3 });
massFigure.layout.title = { text: `Where the mass went after ${STEPS} steps, by objective` };
await lab.show(massFigure);

// %% [markdown]
// ## Measured
// Each statement of the gradient-weight table, evaluated in float64 from its formula at every
// grid point and compared with the library's autodiff weights (agree: largest difference below
// 1e-4 + 1e-3·|value|, float32 arithmetic); then the qualitative statements and the toy.

// %%
{
  const sig = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
  const dsig = (x: number) => sig(x) * sig(-x);
  type P = Record<string, number>;
  const p = (name: string) => make(lab.findObjective(name)!).params as unknown as P;
  const dpoW = (b: number, h: number) => -b * sig(-b * h);
  // Table formulas: [g_w, g_l] at (u_w, u_l); lengths 1, ℓθ = u + REF.
  const TABLE: Record<string, (uw: number, ul: number, q: P) => [number, number]> = {
    dpo: (w, l, q) => [dpoW(q.beta, w - l), -dpoW(q.beta, w - l)],
    ld_dpo: (w, l, q) => [dpoW(q.beta, w - l), -dpoW(q.beta, w - l)],
    hinge: (w, l, q) => (q.beta * (w - l) < 1 ? [-q.beta, q.beta] : [0, 0]),
    ipo: (w, l, q) => [2 * (w - l - 1 / (2 * q.beta)), -2 * (w - l - 1 / (2 * q.beta))],
    exo_pair: (w, l, q) => {
      const z = q.beta * (w - l), e = q.labelSmoothing, s = sig(z);
      const g = q.beta * s * (1 - s) * (z - Math.log((1 - e) / e));
      return [g, -g];
    },
    nca_pair: (w, l, q) => [
      q.beta * (0.5 * sig(q.beta * w) - sig(-q.beta * w)),
      0.5 * q.beta * sig(q.beta * l),
    ],
    robust: (w, l, q) => {
      const e = q.labelSmoothing, h = w - l;
      const g = -q.beta * ((1 - e) * sig(-q.beta * h) + e * sig(q.beta * h)) / (1 - 2 * e);
      return [g, -g];
    },
    bco_pair: (w, l, q) => [-q.beta * sig(-q.beta * w), q.beta * sig(q.beta * l)],
    sppo_hard: (w, l, q) => [2 * (w - 1 / (2 * q.beta)), 2 * (l + 1 / (2 * q.beta))],
    aot: (w, l, q) => [dpoW(q.beta, w - l), -dpoW(q.beta, w - l)],
    aot_unpaired: (w, l, q) => [dpoW(q.beta, w - l), -dpoW(q.beta, w - l)],
    apo_zero: (w, l, q) => [-q.beta * dsig(q.beta * w), q.beta * dsig(q.beta * l)],
    apo_down: (w, l, q) => [
      q.beta * (dsig(q.beta * w) - dsig(q.beta * (w - l))),
      q.beta * dsig(q.beta * (w - l)),
    ],
    sigmoid_norm: (w, l, q) => [dpoW(q.beta, w - l), -dpoW(q.beta, w - l)],
    sft: () => [-1, 0],
    mpo: (w, l) => [
      0.8 * dpoW(0.1, w - l) - 0.2 * 0.1 * sig(-0.1 * w) - 1,
      -0.8 * dpoW(0.1, w - l) + 0.2 * 0.1 * sig(0.1 * l),
    ],
    simpo: (w, l, q) => {
      const m = q.beta * (w - l) - q.gammaBetaRatio * q.beta;
      return [-q.beta * sig(-m), q.beta * sig(-m)];
    },
    orpo: (w, l, q) => {
      const pw = Math.exp(w + REF), pl = Math.exp(l + REF);
      const o = (lp: number, pp: number) => lp - Math.log(1 - pp);
      const s = sig(-(o(w + REF, pw) - o(l + REF, pl)));
      return [-1 - q.beta * s / (1 - pw), q.beta * s / (1 - pl)];
    },
    cpo: (w, l, q) => [dpoW(q.beta, w - l) - q.alpha, -dpoW(q.beta, w - l)],
    rpo: (w, l, q) => [dpoW(q.beta, w - l) - q.alpha, -dpoW(q.beta, w - l)],
    rpo_reg: (w, l, q) => [dpoW(q.beta, w - l) - q.alpha, -dpoW(q.beta, w - l)],
    asft: (_w, l, q) => {
      const pl = Math.exp(l + REF);
      return [-(1 + q.lambda), q.lambda * pl / (1 - pl)];
    },
    cal_dpo: (w, l, q) => [
      -sig(-(w - l)) + (w - 1 / (2 * q.beta)),
      sig(-(w - l)) + (l + 1 / (2 * q.beta)),
    ],
    dpop: (w, l, q) => {
      const hp = w - l - q.lambda * Math.max(0, -w);
      const s = q.beta * sig(-q.beta * hp);
      return [-s * (1 + (w < 0 ? q.lambda : 0)), s];
    },
    r_dpo: (w, l, q) => [dpoW(q.beta, w - l), -dpoW(q.beta, w - l)],
    alpha_dpo: (w, l, q) => {
      const m = (w - l) - (q.alpha * (w - l) + q.gammaBetaRatio);
      return [-q.beta * sig(-q.beta * m), q.beta * sig(-q.beta * m)];
    },
    alphapo: (w, l, q) => {
      const r = (lp: number) => (1 - Math.exp(-q.alpha * lp)) / q.alpha;
      const z = q.beta * (r(w + REF) - r(l + REF)) - q.gamma;
      return [
        -q.beta * sig(-z) * Math.exp(-q.alpha * (w + REF)),
        q.beta * sig(-z) * Math.exp(-q.alpha * (l + REF)),
      ];
    },
    slic_hf: (w, l, q) => {
      const active = q.delta - (w - l) > 0 ? 1 : 0;
      return [-active - q.lambda, active];
    },
    kto: (w, l, q) => [-0.5 * q.beta * dsig(q.beta * w), 0.5 * q.beta * dsig(q.beta * l)],
    sgdpo: (w, l, q) => [
      dpoW(q.beta, w - l) * (1 + q.lambdaChosen * sig(-q.beta * w)),
      -dpoW(q.beta, w - l) * (1 - q.lambdaRejected * sig(-q.beta * l)),
    ],
    spo: (w, l, q) => [dpoW(q.beta, w - l) - (w < 0 ? q.lambda : 0), -dpoW(q.beta, w - l)],
  };
  const rows: Record<string, string | number>[] = [];
  let allAgree = true;
  for (const [name, f] of fields) {
    const formula = TABLE[name];
    if (!formula) {
      rows.push({ objective: name, check: "no closed form in the table (see below)" });
      continue;
    }
    const q = p(name);
    let worst = 0, scale = 0;
    f.uL.forEach((ul, i) =>
      f.uW.forEach((uw, j) => {
        const [ew, el] = formula(uw, ul, q);
        const tol = 1e-4 + 1e-3 * Math.max(Math.abs(ew), Math.abs(el));
        worst = Math.max(
          worst,
          Math.abs(f.gW[i][j] - ew) / tol,
          Math.abs(f.gL[i][j] - el) / tol,
        );
        scale = Math.max(scale, Math.abs(ew), Math.abs(el));
      })
    );
    const agree = worst <= 1;
    allAgree &&= agree;
    rows.push({
      objective: name,
      "max |g| on grid": scale.toPrecision(3),
      "worst error / tolerance": worst.toPrecision(2),
      agree: agree ? "yes" : "NO",
    });
  }
  console.table(rows);

  // Sanity checks (the code against its own theory) are kept apart from findings (the papers'
  // claims on the runs); only findings count in the verdict.
  const table = lab.studyTable();
  const lines: string[] = [];
  const sanity = (what: string, expected: string, measured: string, pass: boolean) =>
    table.sanity({ what, expected, measured, pass });
  const finding = (claim: string, expected: string, measured: string, pass: boolean) =>
    table.finding({ claim, expected, measured, pass });
  const nAgree = rows.filter((r) => r.agree === "yes").length;
  const nChecked = rows.filter((r) => r.agree !== undefined).length;
  sanity(
    "table formulas vs autodiff",
    `every objective's weights match its formula at all ${AXIS.n ** 2} grid points`,
    `${nAgree} of ${nChecked} objectives agree${
      allAgree ? "" : ` (not: ${rows.filter((r) => r.agree === "NO").map((r) => r.objective)})`
    }`,
    allAgree,
  );
  const fd = fields.get("dpo")!;
  const antisym = Math.max(...fd.gW.flatMap((r, i) => r.map((g, j) => Math.abs(g + fd.gL[i][j]))));
  sanity(
    "DPO: g_w = −g_l",
    "max |g_w + g_l| ≈ 0",
    `max |g_w + g_l| = ${antisym.toExponential(2)}`,
    antisym < 1e-6,
  );
  const fi = fields.get("ipo")!, target = 1 / (2 * p("ipo").beta);
  let signOk = 0, signN = 0;
  fi.uL.forEach((ul, i) =>
    fi.uW.forEach((uw, j) => {
      signN++;
      if (Math.sign(fi.gW[i][j]) === Math.sign(uw - ul - target)) signOk++;
    })
  );
  sanity(
    "IPO: sign change past the target margin",
    `sign(g_w) = sign(h − ${target}) at every grid point`,
    `${signOk} of ${signN} points`,
    signOk === signN,
  );
  const fh = fields.get("hinge")!, bh = p("hinge").beta;
  let past = 0, pastZero = 0, below = 0, belowBeta = 0;
  fh.uL.forEach((ul, i) =>
    fh.uW.forEach((uw, j) => {
      if (bh * (uw - ul) > 1) {
        past++;
        if (fh.gW[i][j] === 0 && fh.gL[i][j] === 0) pastZero++;
      } else {
        below++;
        if (Math.abs(fh.gW[i][j] + bh) < 1e-6) belowBeta++;
      }
    })
  );
  sanity(
    "hinge: zero past its margin",
    "g = 0 where βh > 1, g_w = −β elsewhere",
    `${pastZero} of ${past} points past the margin are exactly 0; ${belowBeta} of ${below} below have g_w = −β`,
    pastZero === past && belowBeta === below,
  );
  const q = p("discopop");
  const discoAt0 = lab.gradientField(make(lab.findObjective("discopop")!), {
    uW: [0],
    uL: [0],
    refChosen: REF,
    refRejected: REF,
  }).gW[0][0];
  const discoExpected = q.beta * ((1 - Math.LN2) / (4 * q.tau) - 0.75);
  const disco = results.find((r) => r.name === "discopop")!;
  sanity(
    "DiscoPOP at h = 0 (derived)",
    `g_w = β[(1 − ln 2)/(4τ) − 3/4] = ${discoExpected.toFixed(4)} > 0`,
    `g_w(0, 0) = ${discoAt0.toFixed(4)}`,
    Math.abs(discoAt0 - discoExpected) < 1e-4,
  );
  finding(
    "toy: DiscoPOP's positive g_w at h = 0 drives the margin negative",
    "toy margin ends < 0",
    `toy margin ${disco.margin.toFixed(3)} nats`,
    disco.margin < 0,
  );
  const hinge = results.find((r) => r.name === "hinge")!,
    ipo = results.find((r) => r.name === "ipo")!;
  finding(
    "toy: hinge stops at βh = 1, IPO settles at h = 1/(2β)",
    `hinge margin ≥ ${1 / bh} nats (then no gradient); IPO margin within 0.5 of ${target} nats`,
    `hinge ${hinge.margin.toFixed(2)}, IPO ${ipo.margin.toFixed(2)} nats`,
    hinge.margin >= 1 / bh - 1e-3 && Math.abs(ipo.margin - target) < 0.5,
  );
  const displaced = results.filter((r) => r.chosen < init[YP]).map((r) => r.name);
  lines.push(
    `  (π(${YP}) ended below its start for ${displaced.length} of ${results.length} objectives: ${
      displaced.join(", ")
    })`,
  );
  lines.push(`(backend ${report.name} on ${report.adapter})`);
  if (lab.isSmoke()) {
    lines.push(`(smoke mode: ${STEPS} toy steps — the toy statements need the full 300)`);
  }
  console.log(lines.join("\n"));
  await table.print();
}
