// %% [markdown]
// # 03 · CHES: which preference pairs push the preferred response down
//
// **Question.** Razin et al. (arXiv 2410.08847) score a preference pair by the *centered hidden
// embedding similarity* (CHES) of its two responses under the model, and find that DPO lowers
// the probability of the preferred response more on pairs with higher CHES. Does that hold for
// the shipped tiny model and pair set? Does CHES rank pairs better than a surface measure
// (token edit distance) or the pair's `kind`? And does filtering out high-CHES pairs (keeping the
// lowest by length-normalised CHES) make training displace the preferred response less?
//
// **Setup.** The shipped tiny GPT-2 (`data/models/tiny`) and all pairs of
// `data/datasets/simple_pairs`. CHES = `⟨S+, S−⟩ − ‖S+‖²` and its length-normalised form
// `⟨S+, S−⟩/(|y+||y−|) − ‖S+‖²/|y+|²`, where `S±` sums the final hidden states that predict
// the tokens of `y±` (`lab.chesScores`; also the `lab ches` command). As in the paper's
// section 5, we take subsets of consecutive pairs in CHES order centred at the 0/25/50/75/100th
// percentiles (`lab.percentileSubsets`; the paper uses 512 pairs per subset, we use a few dozen
// to fit the time budget), train DPO on each from the same starting model with the same
// settings, and record the mean change of the preferred log-prob `ln π(y+|x)` over the subset's
// pairs (`lab.displacementTracker`). The same is done for percentiles of surface similarity,
// `1 − normalised token edit distance` (`lab.normalizedEditDistance`), the baseline. Finally we
// train on the lowest 5% by length-normalised CHES (`lab.lowestScores`, the paper's section 6
// filter) and on a random 5% for comparison.
//
// **Expected.** (objectives.md 4.3.) Higher CHES percentile ⇒ larger decrease of the preferred
// log-prob, with a near-perfect rank match: Spearman's ρ between percentile and mean change
// close to −1. Edit distance ranks the subsets less consistently. The CHES-filtered subset
// displaces the preferred response less than a random subset of the same size, and the subset
// with the highest length-normalised CHES more.

// %%
import * as lab from "../lib/mod.ts";
const report = await lab.setupNotebook();
// Cells that print end with `await lab.flushOutput()`: the Deno kernel sends console output
// asynchronously, and a cell ending right after printing can lose its last lines.

// %% [markdown]
// ## 1. Score every pair
// Smoke mode scores an equal share of each kind only.

// %%
const modelDir = "../data/models/tiny";
const dataFile = "../data/datasets/simple_pairs/pairs.jsonl";
const tokenizer = await lab.loadTokenizer(modelDir);
const model = await lab.loadCausalLM(modelDir);
const KINDS = ["paraphrase", "minor_edit", "contradiction", "length_change", "different_topic"];
const loaded = await lab.loadPreferenceFile(dataFile);
const perKind = lab.bySmoke(Infinity, 8);
const rows = KINDS.flatMap((k) => loaded.rows.filter((r) => r.extra.kind === k).slice(0, perKind))
  .sort((a, b) => a.index - b.index);
const tok = lab.tokenizePairs(rows, tokenizer, { maxLength: 64 });
const pairs = tok.pairs;
const kindOf = new Map(rows.map((r) => [r.index, r.extra.kind as string]));
const kinds = pairs.map((p) => kindOf.get(p.index)!);

const t0 = performance.now();
const ches = await lab.chesScores(model, pairs, { batchSize: 32, padId: tokenizer.padId });
const scoreSeconds = (performance.now() - t0) / 1000;
const chesRaw = ches.map((c) => c.ches), chesNorm = ches.map((c) => c.chesNormalized);
const editDist = pairs.map((p) => lab.normalizedEditDistance(p.chosenIds, p.rejectedIds));
const editSim = editDist.map((d) => 1 - d);
console.log(
  `scored ${pairs.length} pairs in ${scoreSeconds.toFixed(1)} s on ${report.name} ` +
    `(${(pairs.length / scoreSeconds).toFixed(1)} pairs/s)`,
);
const { mean, median } = lab;
const ofKind = <T>(xs: T[], k: string) => xs.filter((_, i) => kinds[i] === k);
console.table(KINDS.map((k) => ({
  kind: k,
  pairs: ofKind(chesRaw, k).length,
  "median CHES": median(ofKind(chesRaw, k)).toFixed(0),
  "median CHES~": median(ofKind(chesNorm, k)).toFixed(2),
  "mean edit distance": mean(ofKind(editDist, k)).toFixed(2),
  "mean |y+|": mean(ofKind(ches.map((c) => c.chosenLength), k)).toFixed(1),
  "mean |y-|": mean(ofKind(ches.map((c) => c.rejectedLength), k)).toFixed(1),
})));
console.log(
  `rank correlations over pairs: CHES vs CHES~ ${
    lab.spearmanCorrelation(chesRaw, chesNorm).toFixed(2)
  }, CHES vs edit similarity ${lab.spearmanCorrelation(chesRaw, editSim).toFixed(2)}, ` +
    `CHES~ vs edit similarity ${lab.spearmanCorrelation(chesNorm, editSim).toFixed(2)}`,
);
await lab.flushOutput();

// %%
await lab.show(lab.subplots([
  lab.scatterFigure(
    KINDS.map((k) => ({
      name: k,
      x: ofKind(editSim, k),
      y: ofKind(chesRaw, k),
      width: 5,
    })),
    { title: "CHES", xTitle: "1 − normalised edit distance", yTitle: "CHES" },
  ),
  lab.scatterFigure(
    KINDS.map((k) => ({
      name: k,
      x: ofKind(editSim, k),
      y: ofKind(chesNorm, k),
      width: 5,
    })),
    { title: "length-normalised CHES", xTitle: "1 − normalised edit distance", yTitle: "CHES~" },
  ),
], { columns: 2, title: "Each pair's CHES against its surface similarity, by kind" }));

// %% [markdown]
// ## 2. The same scores from the command line
// `lab ches` scores a JSONL file and writes one line per pair. We run it as a subprocess on the
// same file (in smoke mode on its first 16 lines) and compare its numbers with section 1's.
// With `--per-token` each line also carries every completion token's text and share of CHES
// (section 5b); the shares must sum to the line's CHES.

// %%
await Deno.mkdir("../out/ches", { recursive: true });
let cliInput = dataFile;
if (lab.isSmoke()) {
  cliInput = "../out/ches/pairs_head.jsonl";
  const head = (await Deno.readTextFile(dataFile)).split("\n").slice(0, 16).join("\n") + "\n";
  await Deno.writeTextFile(cliInput, head);
}
const cliOut = "../out/ches/simple_pairs_ches.jsonl";
// --force: the file is this study's own output, rewritten on every run (without it a second run
// of the study stops, as \`lab ches\` refuses to overwrite an existing file).
const cliArgs = [
  "ches",
  "--model",
  modelDir,
  "--data",
  cliInput,
  "--out",
  cliOut,
  "--per-token",
  "--force",
];
console.log(`$ deno task lab ${cliArgs.join(" ")}`);
const cli = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "../tools/cli.ts", ...cliArgs],
  stdout: "piped",
  stderr: "piped",
}).output();
console.log(new TextDecoder().decode(cli.stderr).trim());
if (!cli.success) throw new Error(`lab ches failed with code ${cli.code}`);
const cliRows = await lab.readJsonl<{
  pair: number;
  ches: number;
  ches_normalized: number;
  chosen_token_contributions: number[];
  rejected_token_contributions: number[];
}>(cliOut);
// --per-token: each line's token shares must sum to its CHES (float64 identity).
const cliTokenSumDiff = Math.max(...cliRows.map((r) => {
  const shares = [...r.chosen_token_contributions, ...r.rejected_token_contributions];
  return Math.abs(shares.reduce((a, b) => a + b, 0) - r.ches) / Math.max(...shares.map(Math.abs));
}));
const byIndex = new Map(ches.map((c) => [c.index, c]));
const common = cliRows.filter((r) => byIndex.has(r.pair));
const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
const cliMaxDiff = Math.max(
  ...common.map((r) => relDiff(r.ches, byIndex.get(r.pair)!.ches)),
  ...common.map((r) => relDiff(r.ches_normalized, byIndex.get(r.pair)!.chesNormalized)),
);
console.log(
  `${cliRows.length} lines from lab ches; ${common.length} pairs in common with section 1; ` +
    `largest relative difference ${cliMaxDiff.toExponential(1)}; per-token shares sum to ` +
    `CHES within ${cliTokenSumDiff.toExponential(1)}`,
);
await lab.flushOutput();

// %% [markdown]
// ## 3. Percentile subsets
// Five windows of consecutive pairs in score order, centred at the 0/25/50/75/100th
// percentiles, for CHES and for edit similarity; their score ranges and which kinds they hold.

// %%
const subsetSize = lab.bySmoke(24, 8);
const percentiles = lab.bySmoke([0, 25, 50, 75, 100], [0, 100]);
const chesSubsets = lab.percentileSubsets(chesRaw, { percentiles, sampleSize: subsetSize });
const editSubsets = lab.percentileSubsets(editSim, { percentiles, sampleSize: subsetSize });
const composition = (positions: number[]) =>
  KINDS.map((k) => positions.filter((p) => kinds[p] === k).length);
console.table([
  ...chesSubsets.map((s) => ["CHES", s] as const),
  ...editSubsets.map((s) => ["edit similarity", s] as const),
].map(([by, s]) => ({
  by,
  percentile: s.percentile,
  range: `${s.range[0].toFixed(2)} .. ${s.range[1].toFixed(2)}`,
  ...Object.fromEntries(KINDS.map((k, i) => [k, composition(s.positions)[i]])),
})));
await lab.flushOutput();

// %%
await lab.show(lab.makeFigure({
  data: KINDS.map((k, i) => ({
    type: "bar" as const,
    name: k,
    x: chesSubsets.map((s) => `${s.percentile}th`),
    y: chesSubsets.map((s) => composition(s.positions)[i]),
    marker: { color: lab.seriesColor(i) },
  })),
  layout: {
    title: { text: `Kinds in each CHES percentile subset (${subsetSize} pairs each)` },
    barmode: "stack",
    xaxis: { title: { text: "CHES percentile" } },
    yaxis: { title: { text: "pairs" } },
  },
}));

// %% [markdown]
// ## 4. Train DPO on each subset
// Every run starts from the shipped weights (loaded afresh), with the same settings: DPO
// β = 0.1, RMSProp, lr 2·10⁻⁴, batch 8, `epochs` passes over the subset, seed 0. The reference
// log-probs are the starting model's. The probability-mass tracker scores the chosen and
// rejected responses of every pair of the subset before the first and after the last update;
// from those come the change of `ln π(y+|x)` (the likelihood displacement) and the subset's
// reward margin and accuracy after training.

// %%
const epochs = lab.bySmoke(4, 1);
const batchSize = 8;
type RunResult = {
  positions: number[];
  change: number[];
  meanChange: number;
  margin: number;
  accuracy: number;
  seconds: number;
};
async function trainOn(positions: number[]): Promise<RunResult> {
  const policyModel = await lab.loadCausalLM(modelDir);
  try {
    const data = lab.preferenceData(positions.map((p) => pairs[p]), { padId: tokenizer.padId });
    const all = Array.from({ length: data.size }, (_, i) => i);
    const tracker = lab.probabilityMassTracker({ positions: all, every: 1_000_000 });
    const result = await lab.train({
      policy: lab.lmScorer(policyModel),
      data,
      objective: lab.dpo({ beta: 0.1 }),
      optimizer: { name: "rmsprop" },
      lr: 2e-4,
      batchSize,
      epochs,
      seed: 0,
      progress: false,
      callbacks: [tracker],
    });
    const rows = result.rows.mass as {
      step: number;
      prompt: number;
      label: string;
      logp: number;
    }[];
    const end = Math.max(...rows.map((r) => r.step));
    const logp = (step: number, label: string) =>
      positions.map((p) =>
        rows.find((r) => r.step === step && r.label === label && r.prompt === pairs[p].index)!.logp
      );
    const c0 = logp(0, "chosen"), c1 = logp(end, "chosen");
    const r0 = logp(0, "rejected"), r1 = logp(end, "rejected");
    const change = c1.map((c, i) => c - c0[i]);
    const margins = change.map((dc, i) => 0.1 * (dc - (r1[i] - r0[i])));
    return {
      positions,
      change,
      meanChange: mean(change),
      margin: mean(margins),
      accuracy: margins.filter((m) => m > 0).length / margins.length,
      seconds: result.summary.train_runtime,
    };
  } finally {
    policyModel.dispose();
  }
}
const chesRuns: RunResult[] = [];
for (const s of chesSubsets) chesRuns.push(await trainOn(s.positions));
const editRuns: RunResult[] = [];
for (const s of editSubsets) editRuns.push(await trainOn(s.positions));
console.table([
  ...chesRuns.map((r, i) => ["CHES", chesSubsets[i].percentile, r] as const),
  ...editRuns.map((r, i) => ["edit similarity", editSubsets[i].percentile, r] as const),
].map(([by, q, r]) => ({
  by,
  percentile: q,
  "mean Δ ln π(y+|x)": r.meanChange.toFixed(2),
  "y+ fell": `${r.change.filter((x) => x < 0).length}/${r.change.length}`,
  "margin after": r.margin.toFixed(3),
  "accuracy after": r.accuracy.toFixed(2),
  seconds: r.seconds.toFixed(0),
})));
await lab.flushOutput();

// %%
const rhoChes = lab.spearmanCorrelation(percentiles, chesRuns.map((r) => r.meanChange));
const rhoEdit = lab.spearmanCorrelation(percentiles, editRuns.map((r) => r.meanChange));
await lab.show(lab.lineFigure([
  {
    name: `CHES (ρ = ${rhoChes.toFixed(2)})`,
    x: percentiles,
    y: chesRuns.map((r) => r.meanChange),
    color: lab.ROLE_COLORS.chosen,
  },
  {
    name: `edit similarity (ρ = ${rhoEdit.toFixed(2)})`,
    x: percentiles,
    y: editRuns.map((r) => r.meanChange),
    color: lab.ROLE_COLORS.context,
    dash: "dash",
  },
], {
  title: "Mean change of the preferred log-prob after DPO, by the subset's percentile",
  xTitle: "percentile of the score the subset was chosen by",
  yTitle: "mean Δ ln π(y+|x) (nats)",
}));

// %% [markdown]
// ## 5. Pair by pair, and by kind
// Every pair trained in the CHES runs: its own change against its CHES (Spearman's ρ in the
// figure), and the mean change by kind over those pairs.

// %%
const perPair = chesRuns.flatMap((r) =>
  r.positions.map((p, i) => ({
    pair: pairs[p].index,
    kind: kinds[p],
    ches: chesRaw[p],
    chesNormalized: chesNorm[p],
    editSimilarity: editSim[p],
    displacement: r.change[i],
  }))
);
await lab.show(lab.displacementVsChes(perPair, {
  title: "Preferred log-prob change of each trained pair against its CHES",
  yTitle: "Δ ln π(y+|x) after training (nats)",
}));
const pairRho = {
  ches: lab.spearmanCorrelation(perPair.map((r) => r.ches), perPair.map((r) => r.displacement)),
  chesNormalized: lab.spearmanCorrelation(
    perPair.map((r) => r.chesNormalized),
    perPair.map((r) => r.displacement),
  ),
  editSimilarity: lab.spearmanCorrelation(
    perPair.map((r) => r.editSimilarity),
    perPair.map((r) => r.displacement),
  ),
};
console.log(
  `per-pair Spearman with Δ ln π(y+|x): CHES ${pairRho.ches.toFixed(2)}, CHES~ ${
    pairRho.chesNormalized.toFixed(2)
  }, edit similarity ${pairRho.editSimilarity.toFixed(2)} (${perPair.length} pairs)`,
);
console.table(KINDS.map((k) => {
  const rs = perPair.filter((r) => r.kind === k);
  return {
    kind: k,
    "pairs trained": rs.length,
    "mean CHES": rs.length ? mean(rs.map((r) => r.ches)).toFixed(0) : "-",
    "mean Δ ln π(y+|x)": rs.length ? mean(rs.map((r) => r.displacement)).toFixed(2) : "-",
  };
}));
await lab.flushOutput();

// %% [markdown]
// ## 5b. Which tokens drive it: per-token CHES
// **Question.** In the highest-CHES pairs, which tokens make the two responses look alike to
// the model? With `H+ = Σ_k h+_k`, CHES = `Σ_k ⟨H+, h−_k⟩ + Σ_k (−⟨H+, h+_k⟩)` exactly, so each
// rejected token contributes `⟨H+, h−_k⟩` and each chosen token `−⟨H+, h+_k⟩`, attributed to
// the token its state predicts (`lab.chesTokenContributions`; `lab ches --per-token` writes the
// same per line). Where y+ and y− share a prefix, the two sides' tokens cancel one for one, so
// what is left comes from where the responses differ.
//
// **Sanity check** (code against its own identity): the contributions sum to CHES to float64
// rounding (bar: relative 1e-9) and that CHES agrees with `chesScores` (float32 sums; bar 1e-5
// of `‖H+‖²`).
//
// **Expected** (a finding on these pairs, not a claim of the paper): in the pairs of the
// 100th-percentile CHES subset trained in section 4, the rejected tokens that have no
// counterpart in y+ (positions past |y+|) carry most of CHES: the mean share of CHES they carry
// is above 0.5, with the bootstrap 95% interval over the subset's pairs above 0.5.

// %%
const topSubset = chesSubsets[chesSubsets.length - 1];
const topRun = chesRuns[chesRuns.length - 1];
const topPairs = topSubset.positions.map((p) => pairs[p]);
const perToken = await lab.chesTokenContributions(model, topPairs, {
  batchSize: 32,
  padId: tokenizer.padId,
});
const tokenSumDiff = Math.max(...perToken.map((c) => {
  const total = [...c.chosen, ...c.rejected].reduce((a, b) => a + b, 0);
  const scale = Math.max(...[...c.chosen, ...c.rejected].map(Math.abs));
  return Math.abs(total - c.ches) / scale;
}));
// Relative to ||H+||^2 (= minus the chosen shares' sum), the size float32 sums are rounded at.
const tokenVsScores = Math.max(
  ...perToken.map((c, i) =>
    Math.abs(c.ches - chesRaw[topSubset.positions[i]]) / -c.chosen.reduce((a, b) => a + b, 0)
  ),
);
const surplusShare = perToken.map((c, i) =>
  Array.from(c.rejected).slice(topPairs[i].chosenIds.length).reduce((a, b) => a + b, 0) / c.ches
);
const tokenText = (ids: number[], k: number) => JSON.stringify(tokenizer.decode([ids[k]]));
console.table(perToken.map((c, i) => ({
  pair: c.index,
  kind: kinds[topSubset.positions[i]],
  CHES: c.ches.toFixed(0),
  "Δ ln π(y+|x)": topRun.change[i].toFixed(2),
  "|y+|, |y−|": `${c.chosen.length}, ${c.rejected.length}`,
  "share past |y+|": surplusShare[i].toFixed(2),
  "top tokens (side: share)": lab.topChesTokens(c, 3).map((t) =>
    `${t.side === "chosen" ? "+" : "−"}${
      tokenText(t.side === "chosen" ? topPairs[i].chosenIds : topPairs[i].rejectedIds, t.position)
    }: ${(t.contribution / c.ches).toFixed(2)}`
  ).join("  "),
})));
// Bootstrap over the subset's pairs (2000 resamples, seeded).
const rng = new lab.Rng(3);
const boots = Array.from({ length: 2000 }, () => {
  const draw = surplusShare.map(() =>
    surplusShare[Math.floor(rng.uniform() * surplusShare.length)]
  );
  return mean(draw);
}).sort((a, b) => a - b);
const surplusCi = [boots[49], boots[1949]];
console.log(
  `sanity: contributions sum to CHES within ${tokenSumDiff.toExponential(1)} (relative to the ` +
    `largest share); CHES vs chesScores ${tokenVsScores.toExponential(1)} of ‖H+‖²`,
);
console.log(
  `share of CHES carried by the rejected tokens past |y+|: mean ${
    mean(surplusShare).toFixed(2)
  }, ` +
    `95% interval ${surplusCi[0].toFixed(2)} .. ${surplusCi[1].toFixed(2)} ` +
    `(${surplusShare.length} pairs of the ${topSubset.percentile}th-percentile subset)`,
);
await lab.flushOutput();

// %%
const shown = perToken.reduce((b, c, i) => (c.ches > perToken[b].ches ? i : b), 0);
const shownPair = topPairs[shown];
await lab.show(lab.chesTokenFigure({
  chosenTokens: shownPair.chosenIds.map((id) => tokenizer.decode([id])),
  rejectedTokens: shownPair.rejectedIds.map((id) => tokenizer.decode([id])),
  chosen: perToken[shown].chosen,
  rejected: perToken[shown].rejected,
}, {
  title: `Pair ${shownPair.index}: each token's share of CHES ${perToken[shown].ches.toFixed(0)} ` +
    `(Δ ln π(y+|x) ${topRun.change[shown].toFixed(2)} after DPO)`,
}));

// %% [markdown]
// ## 6. Filtering by length-normalised CHES
// The paper's remedy: keep the pairs with the lowest length-normalised CHES (here the lowest
// 5%), and train on those. For comparison, a random 5% and the highest 5% by length-normalised
// CHES, with the same settings.

// %%
const keepPercent = lab.bySmoke(5, 100 * subsetSize / pairs.length);
const filtered = lab.lowestScores(chesNorm, { percent: keepPercent });
const random = lab.permutation(pairs.length, 7).slice(0, filtered.length);
const highest = lab.rankByScore(chesNorm, { descending: true }).slice(0, filtered.length);
const filteredRun = await trainOn(filtered);
const randomRun = await trainOn(random);
const highestRun = await trainOn(highest);
console.table([
  ["lowest CHES~", filteredRun],
  ["random", randomRun],
  ["highest CHES~", highestRun],
].map(([name, r]) => {
  const run = r as RunResult;
  return {
    subset: name,
    pairs: run.positions.length,
    "mean CHES~": mean(run.positions.map((p) => chesNorm[p])).toFixed(2),
    "kinds": KINDS.map((k, i) => `${k}:${composition(run.positions)[i]}`).join(" "),
    "mean Δ ln π(y+|x)": run.meanChange.toFixed(2),
    "y+ fell": `${run.change.filter((x) => x < 0).length}/${run.change.length}`,
    "margin after": run.margin.toFixed(3),
  };
}));
await lab.show(lab.makeFigure({
  data: [{
    type: "bar",
    name: "mean Δ ln π(y+|x)",
    x: [
      `lowest ${keepPercent.toFixed(0)}% CHES~`,
      `random ${keepPercent.toFixed(0)}%`,
      `highest ${keepPercent.toFixed(0)}% CHES~`,
    ],
    y: [filteredRun.meanChange, randomRun.meanChange, highestRun.meanChange],
    marker: { color: lab.ROLE_COLORS.chosen },
  }],
  layout: {
    title: { text: "Training on CHES-filtered pairs vs random and high-CHES subsets" },
    yaxis: { title: { text: "mean Δ ln π(y+|x) (nats)" } },
  },
}));
await lab.flushOutput();

// %% [markdown]
// ## Measured
// Everything below is computed from the runs above. Each subset is one run of a few dozen pairs
// with one seed, so each point carries noise that five subsets cannot average out; the Spearman
// correlations are over five points (two in smoke mode).

// %%
// The CLI check is a sanity check (two code paths computing one number); the rest are the
// paper's claims. The filter comparisons are Welch intervals over the subsets' pairs (one
// training run each: the interval covers the pairs, not the seed); the ρ are one run of five
// subsets, reported without an interval.
const table = lab.studyTable();
table.sanity({
  what: "`lab ches` CLI agrees with chesScores",
  expected: "max relative difference < 1e-4 on the common pairs",
  measured: `${common.length} pairs, max relative difference ${cliMaxDiff.toExponential(1)}`,
  pass: common.length > 0 && cliMaxDiff < 1e-4,
});
table.sanity({
  what: "per-token contributions sum to CHES (library and lab ches --per-token)",
  expected: "sum differs < 1e-9 of the largest share; CHES vs chesScores < 1e-5 of ‖H+‖²",
  measured: `library ${tokenSumDiff.toExponential(1)}, CLI ${cliTokenSumDiff.toExponential(1)}, ` +
    `vs chesScores ${tokenVsScores.toExponential(1)}`,
  pass: tokenSumDiff < 1e-9 && tokenVsScores < 1e-5 && cliTokenSumDiff < 1e-9,
});
table.finding({
  claim: "in the highest-CHES pairs, the rejected tokens past |y+| carry most of CHES",
  expected: "mean share of CHES from rejected tokens past |y+| > 0.5 (bootstrap over pairs)",
  estimate: lab.bootstrapCI(surplusShare, lab.mean, { seed: 3 }),
  threshold: 0.5,
  direction: ">",
});
table.finding({
  claim: "CHES percentile ranks the subsets' displacement",
  expected: "Spearman ρ(CHES percentile, mean Δ ln π(y+|x)) < −0.7",
  estimate: rhoChes,
  threshold: -0.7,
  direction: "<",
});
table.finding({
  claim: "CHES ranks displacement better than edit distance",
  expected: "ρ_CHES − ρ_edit < 0",
  estimate: rhoChes - rhoEdit,
  threshold: 0,
  direction: "<",
  measured: `ρ_CHES ${rhoChes.toFixed(2)} vs ρ_edit ${rhoEdit.toFixed(2)}; one swap of ` +
    `neighbouring ranks moves ρ by ${
      (12 / (percentiles.length ** 3 - percentiles.length)).toFixed(2)
    }`,
});
table.finding({
  claim: "the lowest-CHES~ filter displaces y+ less than a random subset",
  expected: "mean Δ ln π(y+|x), filtered − random > 0 nats",
  estimate: lab.diffMeansCI(filteredRun.change, randomRun.change, 0.95, "pairs"),
  threshold: 0,
  direction: ">",
});
table.finding({
  claim: "the highest-CHES~ subset displaces y+ more than a random subset",
  expected: "mean Δ ln π(y+|x), highest − random < 0 nats",
  estimate: lab.diffMeansCI(highestRun.change, randomRun.change, 0.95, "pairs"),
  threshold: 0,
  direction: "<",
});
console.log(
  `backend ${report.name}; ${pairs.length} pairs scored; subsets of ${subsetSize} pairs, ` +
    `${epochs} epochs of batch ${batchSize}`,
);
console.log(
  `mean Δ ln π(y+|x) by CHES percentile ${percentiles.join("/")}: ` +
    chesRuns.map((r) => r.meanChange.toFixed(2)).join(", ") +
    `  -> Spearman ρ = ${rhoChes.toFixed(2)}`,
);
console.log(
  `same by edit-similarity percentile: ` + editRuns.map((r) => r.meanChange.toFixed(2)).join(", ") +
    `  -> Spearman ρ = ${rhoEdit.toFixed(2)}`,
);
console.log(
  `(with ${percentiles.length} subsets, one swap of neighbouring ranks moves ρ by ${
    (12 / (percentiles.length ** 3 - percentiles.length)).toFixed(2)
  }, so a small gap between the two ρ is within the noise of single runs)`,
);
console.log(
  `filter: lowest ${keepPercent.toFixed(1)}% by CHES~ ${filteredRun.meanChange.toFixed(2)} nats ` +
    `vs random ${randomRun.meanChange.toFixed(2)} nats (highest CHES~: ${
      highestRun.meanChange.toFixed(2)
    } nats)`,
);
console.log(
  `lab ches CLI vs chesScores: ${common.length} pairs, max relative difference ${
    cliMaxDiff.toExponential(1)
  }`,
);
console.log(
  `per-token CHES, ${topSubset.percentile}th-percentile subset: rejected tokens past |y+| carry ` +
    `${mean(surplusShare).toFixed(2)} of CHES (95% interval ${surplusCi[0].toFixed(2)} .. ${
      surplusCi[1].toFixed(2)
    }); contributions sum to CHES within ${tokenSumDiff.toExponential(1)}, lab ches --per-token ` +
    `within ${cliTokenSumDiff.toExponential(1)}`,
);
console.log(
  `\nexpected: Spearman ρ(percentile, mean change) near −1 for CHES, weaker for edit distance; ` +
    `the lowest-CHES~ subset displaces y+ less than a random one, the highest more.` +
    (lab.isSmoke()
      ? ` (smoke mode: ${percentiles.length} subsets of ${subsetSize} pairs, ${epochs} epochs)`
      : ""),
);
await table.print();
