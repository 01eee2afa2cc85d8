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
//   the ratios the library's training loop produces. Then one step from the same start for
//   every choice of y−, to see how the squeeze depends on `p(y−)`.
// - *Part B — the shipped tiny GPT-2* on a few pairs of `data/datasets/simple_pairs`: DPO
//   (β = 0.1) and the negative-gradient-only loss, trained by plain SGD as in the theory
//   (in trials, RMSProp's per-parameter scaling made every response fall, the greedy one
//   included), tracking the summed log-probs of the chosen
//   and the rejected response and of the greedy (argmax-decoded) response, plus the argmax mass
//   of the next-token distribution after the prompt. A third run puts the negative gradient on
//   the rejected response with its words shuffled, a "valley" response of much lower
//   probability.
//
// **Expected** (§5.3 claims 1-4). p(y−) falls; the argmax gains; high-probability tokens rise
// and low-probability ones fall, and from a peaky start every token but the argmax falls; the
// lower p(y−), the stronger the squeeze (more of the other tokens lose probability). Measured
// ratios equal the formula to float precision. On the language model: the rejected log-prob
// falls, the greedy response's log-prob rises while the chosen one falls (the paper reports
// −113 → −63 for the greedy response under long off-policy DPO).

// %%
import * as lab from "../lib/mod.ts";
const report = await lab.setupNotebook();
// Cells that print end with `await lab.flushOutput()`: the Deno kernel sends console output
// asynchronously, and a cell ending right after printing can lose its last lines.

// %% [markdown]
// ## Part A · Linear softmax toy
// Initial logits are set through a rank-one `W = x zᵀ/‖x‖²`, so `Wᵀx = z`: flat `z_k =
// −0.6 ln(k+1)` and peaky `z_k = −2.5 ln(k+1)` (token `r1` is the most likely, `r16` the least).

// %%
const V = 16;
const tokens = Array.from({ length: V }, (_, k) => `r${k + 1}`);
const x = [1, 0.5, -0.5, 0.25];
const x2 = x.reduce((a, v) => a + v * v, 0);
const eta = 1 / x2; // so c = eta * ||x||^2 = 1
const c = eta * x2;
const shapes = { flat: 0.6, peaky: 2.5 } as const;
type Shape = keyof typeof shapes;
const logitsOf = (shape: Shape) => tokens.map((_, k) => -shapes[shape] * Math.log(k + 1));
const makeToy = (shape: Shape) =>
  lab.createLinearSoftmax({
    tokens,
    inputs: [x],
    weights: x.map((xi) => logitsOf(shape).map((zk) => (xi * zk) / x2)),
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
  console.log(
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
async function negativeRun(shape: Shape, rejected: number, steps: number) {
  const toy = makeToy(shape);
  const dist = lab.distributionTracker({ source: toy, rejected: [rejected], file: false });
  await lab.train({
    policy: toy,
    data: lab.toyData({ prompt: [0], chosen: [0], rejected: [rejected] }),
    objective: negativeOnly,
    optimizer: { name: "sgd" },
    lr: eta,
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
console.log(
  `max |ln ratio observed − ln ratio derived|: flat ${
    ratioError(trajectories.flat).toExponential(2)
  }, ` +
    `peaky ${ratioError(trajectories.peaky).toExponential(2)}`,
);
await lab.flushOutput();

// %%
const stepAxis = trajectories.flat.map((_, t) => t);
const panel = (shape: Shape, axis: string) =>
  tokens.map((name, k) => ({
    type: "scatter" as const,
    mode: "lines" as const,
    name: k === yMinus ? `${name} (y−)` : name,
    legendgroup: name,
    showlegend: axis === "" && (k < 4 || k === yMinus),
    x: stepAxis,
    y: trajectories[shape].map((p) => Math.log(p[k])),
    xaxis: `x${axis}`,
    yaxis: `y${axis}`,
    line: {
      color: k === yMinus ? lab.ROLE_COLORS.rejected : lab.seriesColor(k % 8),
      width: k === yMinus || k === 0 ? 3 : 1.2,
      dash: k === yMinus ? ("dash" as const) : ("solid" as const),
    },
  }));
await lab.show(lab.makeFigure({
  data: [...panel("flat", ""), ...panel("peaky", "2")],
  layout: {
    title: { text: "Negative gradient on r12: every token's log-probability" },
    height: 460,
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
const sweep: { shape: Shape; pMinus: number; fallFrac: number; argmaxGain: number }[] = [];
for (const shape of ["flat", "peaky"] as const) {
  for (let y = 1; y < V; y++) {
    const [p0, p1] = await negativeRun(shape, y, 1);
    const others = tokens.map((_, k) => k).filter((k) => k !== y && k !== 0);
    sweep.push({
      shape,
      pMinus: p0[y],
      fallFrac: others.filter((k) => p1[k] < p0[k]).length / others.length,
      argmaxGain: p1[0] - p0[0],
    });
  }
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
// ## Part B · The shipped tiny GPT-2 on simple_pairs
// Pairs whose rejected answer is a `minor_edit` or a `contradiction` of the chosen one (so the
// two are close and the pair is hard). Greedy responses are decoded for up to 16 tokens (or
// EOS) after each prompt.

// %%
const modelDir = "../data/models/tiny";
const tok = await lab.loadTokenizer(modelDir);
const { rows: allPairs } = await lab.loadPreferenceFile(
  "../data/datasets/simple_pairs/pairs.jsonl",
);
const nPairs = lab.bySmoke(8, 2);
const chosenRows = allPairs.filter((r) =>
  ["minor_edit", "contradiction"].includes(String(r.extra.kind))
)
  .slice(0, nPairs);
const tokenized = lab.tokenizePairs(chosenRows, tok, { maxLength: 64 }).pairs;
// The valley response: the rejected words in a seeded shuffled order.
const valleyRows = chosenRows.map((r, i) => {
  const words = String(r.rejected).trim().replace(/\.$/, "").split(/\s+/);
  const order = lab.permutation(words.length, 11 + i);
  return { ...r, rejected: " " + order.map((j) => words[j]).join(" ") + "." };
});
const tokenizedValley = lab.tokenizePairs(valleyRows, tok, { maxLength: 64 }).pairs;
console.log(`${tokenized.length} pairs, e.g.`);
console.log(`  prompt:   ${JSON.stringify(chosenRows[0].prompt)}`);
console.log(`  chosen:   ${JSON.stringify(chosenRows[0].chosen)}`);
console.log(`  rejected: ${JSON.stringify(chosenRows[0].rejected)}`);
console.log(`  valley:   ${JSON.stringify(valleyRows[0].rejected)}`);
await lab.flushOutput();

// %%
const stepsB = lab.bySmoke(40, 6);
const everyB = lab.bySmoke(5, 3);
const greedyTokens = lab.bySmoke(16, 6);
async function lmRun(objective: lab.TrainObjective, pairs: lab.TokenizedPair[], lr: number) {
  const model = await lab.loadCausalLM(modelDir);
  const dist = lab.distributionTracker({
    source: lab.causalNextTokenSource(model, pairs.map((p) => p.promptIds), {
      greedyTokens,
      eosId: tok.eosId,
    }),
    prompts: pairs.map((_, i) => i),
    every: everyB,
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
    callbacks: [dist, lab.displacementTracker({ every: everyB, file: false })],
  });
  model.dispose();
  return result;
}
// DPO's gradient carries the weight beta * sigmoid(.) <= 0.1, so it gets a 100x larger step.
const lrDpo = 0.1, lrNeg = 5e-4;
const runs = {
  "DPO": await lmRun(lab.dpo({ beta: 0.1 }), tokenized, lrDpo),
  "negative gradient": await lmRun(negativeOnly, tokenized, lrNeg),
  "negative gradient, valley y−": await lmRun(negativeOnly, tokenizedValley, lrNeg),
};
for (const [name, r] of Object.entries(runs)) {
  console.log(`${name}: ${r.steps} steps, ${r.summary.train_runtime?.toFixed(0)} s`);
}
await lab.flushOutput();

// %% [markdown]
// Mean summed log-probs over the pairs: chosen and rejected (the trainer's `logps/*`, scored
// before each step's update) and the greedy response (`dist/greedy_logp`, after the update).

// %%
const series = (r: lab.TrainResult, key: string) => {
  const rec = r.records.filter((x) => typeof x[key] === "number");
  return { x: rec.map((x) => x.step), y: rec.map((x) => x[key] as number) };
};
const names = Object.keys(runs) as (keyof typeof runs)[];
await lab.show(lab.subplots(
  names.map((name) =>
    lab.lineFigure([
      { name: "chosen", ...series(runs[name], "logps/chosen"), color: lab.ROLE_COLORS.chosen },
      {
        name: "rejected",
        ...series(runs[name], "logps/rejected"),
        color: lab.ROLE_COLORS.rejected,
      },
      { name: "greedy", ...series(runs[name], "dist/greedy_logp"), color: lab.seriesColor(2) },
    ], { title: name, xTitle: "step", yTitle: "summed log-prob (nats)" })
  ),
  {
    columns: 1,
    rowHeight: 260,
    title: "Tiny GPT-2: chosen, rejected and greedy log-probs (mean over pairs)",
  },
));

// %% [markdown]
// ## Measured

// %%
// Part A
const fallAfterFirst = (shape: Shape) => {
  const [p0, p1] = trajectories[shape];
  const others = tokens.map((_, k) => k).filter((k) => k !== yMinus && k !== 0);
  return others.filter((k) => p1[k] < p0[k]).length;
};
const argmaxTraj = (shape: Shape) => trajectories[shape].map((p) => lab.argmaxMass(p));
const errs = { flat: ratioError(trajectories.flat), peaky: ratioError(trajectories.peaky) };
console.log(
  `Part A (linear softmax, V = ${V}, c = η‖x‖² = ${c.toFixed(2)}, ${stepsA} steps, y− = r12)`,
);
for (const shape of ["flat", "peaky"] as const) {
  const tr = trajectories[shape], am = argmaxTraj(shape);
  console.log(
    `  ${shape.padEnd(5)}: p(y−) ${tr[0][yMinus].toExponential(2)} -> ${
      tr.at(-1)![yMinus].toExponential(2)
    }; ` +
      `argmax ${tokens[am[0].token]} ${am[0].mass.toFixed(3)} -> ${tokens[am.at(-1)!.token]} ` +
      `${am.at(-1)!.mass.toFixed(3)}; after step 1, ${fallAfterFirst(shape)} of ${
        V - 2
      } other tokens fell; ` +
      `ratio error ${errs[shape].toExponential(1)}`,
  );
}
const sweepRows = (shape: Shape) => sweep.filter((r) => r.shape === shape);
const rhoFall = lab.spearmanCorrelation(
  sweepRows("flat").map((r) => r.pMinus),
  sweepRows("flat").map((r) => r.fallFrac),
);
const rhoGain = (shape: Shape) =>
  lab.spearmanCorrelation(
    sweepRows(shape).map((r) => r.pMinus),
    sweepRows(shape).map((r) => r.argmaxGain),
  );
const peakyAllFall = sweepRows("peaky").every((r) => r.fallFrac === 1);
console.log(
  `  sweep over y− (one step each): flat start, Spearman ρ(p(y−), share of others that fall) ` +
    `${rhoFall.toFixed(2)} (negative: the lower p(y−), the more tokens lose); peaky start: ` +
    `${peakyAllFall ? "every other token falls whatever y− is" : "some tokens rise for some y−"}`,
);
console.log(
  `  (the argmax's own one-step gain grows with p(y−): ρ flat ${rhoGain("flat").toFixed(2)}, ` +
    `peaky ${
      rhoGain("peaky").toFixed(2)
    }, as the formula says: more mass is freed from a likelier y−)`,
);
const minusFell = (["flat", "peaky"] as const).every((s) =>
  trajectories[s].at(-1)![yMinus] < trajectories[s][0][yMinus]
);
const argmaxGained = (["flat", "peaky"] as const).every((s) =>
  argmaxTraj(s).at(-1)!.mass > argmaxTraj(s)[0].mass && argmaxTraj(s).at(-1)!.token === 0
);
// The formula against autodiff is a sanity check; the squeezing pattern is the paper's claim
// (a deterministic toy: one run, no interval).
const table = lab.studyTable();
table.sanity({
  what: "Part A: the linear-softmax one-step formula agrees with the autodiff step",
  expected: "largest ratio error < 1e-4 (flat and peaky starts)",
  measured: `flat ${errs.flat.toExponential(1)}, peaky ${errs.peaky.toExponential(1)}`,
  pass: Math.max(errs.flat, errs.peaky) < 1e-4,
});
table.finding({
  claim: "Part A (toy): negative gradient on y− squeezes mass into the argmax",
  expected: "p(y−) falls, the argmax gains, a peaky start loses every other token, a flat one " +
    "only some, lower p(y−) makes more tokens fall",
  measured: `peaky: ${fallAfterFirst("peaky")} of ${V - 2} others fell, flat: ${
    fallAfterFirst("flat")
  }; ρ(p(y−), share falling) ${rhoFall.toFixed(2)}`,
  pass: minusFell && argmaxGained && fallAfterFirst("peaky") === V - 2 &&
    fallAfterFirst("flat") < V - 2 && rhoFall < 0 && peakyAllFall,
});

// Part B
console.log(
  `\nPart B (tiny GPT-2, ${tokenized.length} pairs, SGD, lr ${lrDpo} DPO / ${lrNeg} negative ` +
    `gradient, ${stepsB} steps)`,
);
const first = (r: lab.TrainResult, k: string) =>
  r.records.find((x) => typeof x[k] === "number")?.[k] as number;
const last = (r: lab.TrainResult, k: string) =>
  r.records.filter((x) => typeof x[k] === "number").at(-1)?.[k] as number;
const tableB = names.map((name) => {
  const r = runs[name];
  return {
    run: name,
    rejectedDelta: last(r, "logps/rejected") - first(r, "logps/rejected"),
    chosenDelta: last(r, "displacement/mean_change"),
    greedyDelta: last(r, "dist/greedy_logp") - first(r, "dist/greedy_logp"),
    argmax0: first(r, "dist/argmax_mass"),
    argmaxT: last(r, "dist/argmax_mass"),
  };
});
console.table(tableB.map((t) => ({
  run: t.run,
  "Δ ln π(rejected)": t.rejectedDelta.toFixed(2),
  "Δ ln π(chosen)": t.chosenDelta.toFixed(2),
  "Δ ln π(greedy)": t.greedyDelta.toFixed(2),
  "argmax mass (first token)": `${t.argmax0.toFixed(3)} -> ${t.argmaxT.toFixed(3)}`,
})));
const rejectedFell = tableB.every((t) => t.rejectedDelta < 0);
const squeezed = tableB.map((t) => t.greedyDelta > 0 && t.greedyDelta > t.chosenDelta);
const argmaxUp = tableB.map((t) => t.argmaxT > t.argmax0);
const [, ng, valley] = tableB;
table.finding({
  claim: "Part B: the rejected log-prob falls in every run",
  expected: "Δ ln π(rejected) < 0 for DPO, negative gradient and the valley y−",
  measured: tableB.map((t) => `${t.run}: ${t.rejectedDelta.toFixed(2)}`).join("; "),
  pass: rejectedFell,
});
table.finding({
  claim: "Part B: the greedy response gains while the chosen one does not keep up (squeezing)",
  expected: "Δ ln π(greedy) > 0 and > Δ ln π(chosen), in every run",
  measured: names.map((n, i) => `${n}: ${squeezed[i] ? "yes" : "no"}`).join("; "),
  pass: squeezed.every(Boolean),
});
table.finding({
  claim: "Part B: the next-token argmax mass after the prompt grows",
  expected: "in every run",
  measured: names.map((n, i) => `${n}: ${argmaxUp[i] ? "yes" : "no"}`).join("; "),
  pass: argmaxUp.every(Boolean),
});
table.finding({
  claim: "Part B: a valley y− squeezes more than the data's y−",
  expected: "greedy Δ larger and chosen Δ smaller under the valley y−",
  measured: `greedy Δ ${valley.greedyDelta.toFixed(2)} (valley) vs ${
    ng.greedyDelta.toFixed(2)
  } (data y−), chosen Δ ${valley.chosenDelta.toFixed(2)} vs ${ng.chosenDelta.toFixed(2)}`,
  pass: valley.greedyDelta > ng.greedyDelta && valley.chosenDelta < ng.chosenDelta,
});
console.log(
  `\nbackend ${report.name}` +
    (lab.isSmoke()
      ? `; smoke mode: ${stepsA} toy steps, ${tokenized.length} pairs x ${stepsB} steps`
      : ""),
);
await table.print();
