// %% [markdown]
// # 03 · CHES: which preference pairs push the preferred response down
//
// **Question.** Razin et al. (arXiv 2410.08847) score a preference pair by the *centered hidden
// embedding similarity* (CHES) of its two responses under the model, and find that DPO lowers
// the probability of the preferred response more on pairs with higher CHES (their §5), and that
// dropping the highest length-normalised CHES pairs mitigates it (§6). Does that hold for the
// shipped tiny model and pair set? Our pairs are synthetic and come in five *kinds*
// (paraphrase, minor edit, contradiction, length change, different topic), and CHES largely
// recovers the kind (the lowest CHES pairs are mostly different-topic and length-change pairs),
// so a CHES effect could be a kind effect. We therefore also ask: does CHES rank displacement
// *within* a kind, over *all* pairs (not only percentile-selected ones), and better than a
// surface measure (token edit distance) used as a filter of the same size?
//
// **Setup.** The shipped tiny GPT-2 (`data/models/tiny`) and all 600 pairs of
// `data/datasets/simple_pairs` (120 per kind). CHES = `⟨S+, S−⟩ − ‖S+‖²` and its
// length-normalised form `⟨S+, S−⟩/(|y+||y−|) − ‖S+‖²/|y+|²`, where `S±` sums the final hidden
// states that predict the tokens of `y±` (`lab.chesScores`; also the `lab ches` command). The
// surface baseline is the normalised token edit distance `d` (`lab.normalizedEditDistance`) or
// the similarity `1 − d`. Training is always DPO (β = 0.1) with RMSProp at **lr 8·10⁻⁶**, batch
// 8, from the shipped weights, reference = the starting model: the papers' regime, where the
// log-probs move by a few nats (at the lr 2·10⁻⁴ an earlier version used, pairs moved by up to
// 44 nats, collapse rather than displacement; trial runs at 2·10⁻⁵ × 4 epochs and 10⁻⁵ × 2
// epochs still moved the lowest-CHES window's pairs up by 12.5 and 5.1 nats on average). The
// change of `ln π(y+|x)` per pair is scored before the first and after the last update
// (`lab.probabilityMassTracker`).
// - *§4, the paper's protocol:* windows of consecutive pairs in CHES order centred at the
//   0/25/50/75/100th percentiles (`lab.percentileSubsets`; the paper uses 512 pairs per window,
//   we use 24), the same for edit similarity, one DPO run each (2 epochs, seed 0).
// - *§5, every pair:* one DPO run on all pairs (1 epoch); each pair's own change against its
//   CHES, over all pairs and inside each kind, with bootstrap 95% intervals over pairs.
// - *§6, filters at equal size, 5 seeds:* each seed draws a random half of the pairs (the
//   "dataset") and keeps 24 of them by each rule: lowest length-normalised CHES (the paper's
//   §6 filter), highest edit distance (the surface filter keeping the most dissimilar pairs),
//   random; and, for the other end, highest CHES~ and lowest edit distance. One DPO run each
//   (2 epochs, that seed); differences are paired by seed, t interval over the 5 seeds.
//
// **Expected** (written before the run; the paper's claims, objectives.md 4.3):
// - E1 (§4) the 100th-percentile CHES window displaces y+ more than the 0th: mean Δ ln π(y+|x),
//   top − bottom < 0 nats (Welch interval over the windows' pairs, one run each);
// - E2 (§5, all pairs) Spearman ρ(CHES, Δ ln π(y+|x)) < 0, bootstrap interval below 0;
// - E3 (§5, all pairs) CHES ranks the pairs better than edit similarity: ρ_CHES − ρ_edit < 0
//   (same bootstrap resamples, interval below 0);
// - E4 (§5, within kind) the mean over the five kinds of the within-kind ρ(CHES, Δ) < 0, with
//   the bootstrap interval below 0 (per-kind ρ shown with their intervals);
// - E5 (§6) the lowest-CHES~ filter displaces y+ less than a random subset: filtered − random
//   > 0 nats; E6 the highest-CHES~ subset more: highest − random < 0 nats;
// - E7 (§6) CHES beats edit distance as a filter: lowest-CHES~ − highest-edit-distance > 0
//   nats, and E8 at the other end highest-CHES~ − lowest-edit-distance < 0 nats. "Beats" only
//   if the interval of the difference excludes 0.

// %%
import * as lab from "../lib/mod.ts";
const report = await lab.setupNotebook();
// Long printed lines wrapped at 110 columns, as the report page would otherwise cut them mid-word.
const say = (text: string) => console.log(lab.wrapText(text));
// Cells that print end with `await lab.flushOutput()`: the Deno kernel sends console output
// asynchronously, and a cell ending right after printing can lose its last lines.

// %% [markdown]
// ## 1. Score every pair
// Smoke mode scores an equal share of each kind only. A few pairs have very large CHES (long
// length-change pairs); the figures' CHES axes show the bulk, inside Tukey's fences at 3
// interquartile ranges, and each panel's title says how many pairs lie off the axis.

// %%
const modelDir = "../data/models/tiny";
const dataFile = "../data/datasets/simple_pairs/pairs.jsonl";
const tokenizer = await lab.loadTokenizer(modelDir);
const model = await lab.loadCausalLM(modelDir);
const KINDS = ["paraphrase", "minor_edit", "contradiction", "length_change", "different_topic"];
// Short column headers for the tables (they must fit ~110 columns).
const SHORT: Record<string, string> = {
  paraphrase: "para",
  minor_edit: "minor",
  contradiction: "contra",
  length_change: "length",
  different_topic: "topic",
};
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
say(
  `scored ${pairs.length} pairs in ${scoreSeconds.toFixed(1)} s on ${report.name} ` +
    `(${(pairs.length / scoreSeconds).toFixed(1)} pairs/s)`,
);
const { mean, median } = lab;
const ofKind = <T>(xs: T[], k: string) => xs.filter((_, i) => kinds[i] === k);
/**
 * An axis range showing the bulk of `xs`: Tukey's fences at 3 interquartile ranges, clipped to
 * the data (a few very large CHES otherwise squeeze every other pair into one column), and the
 * number of values outside it, which the figure's title states.
 */
function bulkRange(xs: number[]): { range: [number, number]; outside: number } {
  const v = [...xs].sort((a, b) => a - b), q = (p: number) => v[Math.floor(p * (v.length - 1))];
  const iqr = q(0.75) - q(0.25);
  const lo = Math.max(v[0], q(0.25) - 3 * iqr), hi = Math.min(v.at(-1)!, q(0.75) + 3 * iqr);
  const pad = 0.03 * (hi - lo || 1);
  return { range: [lo - pad, hi + pad], outside: xs.filter((x) => x < lo || x > hi).length };
}
/** A panel title's note: how many pairs lie off the clipped axis. */
const offAxis = (b: { outside: number }) =>
  b.outside ? ` (${b.outside} of ${pairs.length} pairs off-axis)` : "";
lab.printTable(KINDS.map((k) => ({
  kind: k,
  pairs: ofKind(chesRaw, k).length,
  "med CHES": median(ofKind(chesRaw, k)).toFixed(0),
  "med CHES~": median(ofKind(chesNorm, k)).toFixed(2),
  "mean edit d": mean(ofKind(editDist, k)).toFixed(2),
  "|y+|": mean(ofKind(ches.map((c) => c.chosenLength), k)).toFixed(1),
  "|y-|": mean(ofKind(ches.map((c) => c.rejectedLength), k)).toFixed(1),
})));
say(
  `rank correlations over pairs: CHES vs CHES~ ${
    lab.spearmanCorrelation(chesRaw, chesNorm).toFixed(2)
  }, CHES vs edit similarity ${lab.spearmanCorrelation(chesRaw, editSim).toFixed(2)}, ` +
    `CHES~ vs edit similarity ${lab.spearmanCorrelation(chesNorm, editSim).toFixed(2)}`,
);
await lab.flushOutput();

// %%
/** A scatter panel whose y (or x) axis shows the bulk of `score` only; see bulkRange. */
function clipped<F extends { layout?: Record<string, unknown> }>(
  fig: F,
  axis: "xaxis" | "yaxis",
  score: number[],
): F {
  const ax = (fig.layout?.[axis] ?? {}) as Record<string, unknown>;
  fig.layout = { ...fig.layout, [axis]: { ...ax, range: bulkRange(score).range } };
  return fig;
}
const bulkRaw = bulkRange(chesRaw), bulkNorm = bulkRange(chesNorm);
await lab.show(lab.subplots([
  clipped(
    lab.scatterFigure(
      KINDS.map((k) => ({ name: k, x: ofKind(editSim, k), y: ofKind(chesRaw, k), width: 5 })),
      { title: `CHES${offAxis(bulkRaw)}`, xTitle: "1 − normalised edit distance", yTitle: "CHES" },
    ),
    "yaxis",
    chesRaw,
  ),
  clipped(
    lab.scatterFigure(
      KINDS.map((k) => ({ name: k, x: ofKind(editSim, k), y: ofKind(chesNorm, k), width: 5 })),
      {
        title: `length-normalised CHES${offAxis(bulkNorm)}`,
        xTitle: "1 − normalised edit distance",
        yTitle: "CHES~",
      },
    ),
    "yaxis",
    chesNorm,
  ),
], {
  columns: 2,
  title: "Each pair's CHES against its surface similarity, by kind",
}));

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
console.log(lab.wrapText(`$ deno task lab ${cliArgs.join(" ")}`));
const cli = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "../tools/cli.ts", ...cliArgs],
  stdout: "piped",
  stderr: "piped",
}).output();
console.log(lab.wrapText(new TextDecoder().decode(cli.stderr).trim()));
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
// Relative to ‖S+‖² (minus the chosen shares' sum), resp. ‖S+‖²/|y+|²: CHES is a difference of
// two large float32 sums, so that is the size its rounding scales with (batching differs).
const normS = (r: (typeof cliRows)[number]) =>
  -r.chosen_token_contributions.reduce((a, b) => a + b, 0);
const cliMaxDiff = Math.max(
  ...common.map((r) => Math.abs(r.ches - byIndex.get(r.pair)!.ches) / normS(r)),
  ...common.map((r) =>
    Math.abs(r.ches_normalized - byIndex.get(r.pair)!.chesNormalized) /
    (normS(r) / byIndex.get(r.pair)!.chosenLength ** 2)
  ),
);
say(
  `${cliRows.length} lines from lab ches; ${common.length} pairs in common with section 1; ` +
    `largest difference ${cliMaxDiff.toExponential(1)}; per-token shares sum to ` +
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
lab.printTable([
  ...chesSubsets.map((s) => ["CHES", s] as const),
  ...editSubsets.map((s) => ["edit similarity", s] as const),
].map(([by, s]) => ({
  by,
  pct: s.percentile,
  range: `${s.range[0].toPrecision(3)} .. ${s.range[1].toPrecision(3)}`,
  ...Object.fromEntries(KINDS.map((k, i) => [SHORT[k], composition(s.positions)[i]])),
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
// ## 4. Train DPO on each percentile window
// Every run starts from the shipped weights (loaded afresh): DPO β = 0.1, RMSProp, lr 8·10⁻⁶,
// batch 8, `epochs` passes over the window. The probability-mass tracker scores the chosen and
// rejected responses of every pair of the run before the first and after the last update; from
// those come the change of `ln π(y+|x)` (the likelihood displacement) and the reward margin and
// accuracy after training.

// %%
const LR = 8e-6;
const epochs = lab.bySmoke(2, 1);
const batchSize = 8;
type RunResult = {
  positions: number[];
  change: number[];
  meanChange: number;
  margin: number;
  accuracy: number;
  seconds: number;
};
async function trainOn(positions: number[], seed = 0, passes = epochs): Promise<RunResult> {
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
      lr: LR,
      batchSize,
      epochs: passes,
      seed,
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
    const at = new Map(rows.map((r) => [`${r.step}/${r.label}/${r.prompt}`, r.logp]));
    const logp = (step: number, label: string) =>
      positions.map((p) => at.get(`${step}/${label}/${pairs[p].index}`)!);
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
const tTrain = performance.now();
const chesRuns: RunResult[] = [];
for (const s of chesSubsets) chesRuns.push(await trainOn(s.positions));
const editRuns: RunResult[] = [];
for (const s of editSubsets) editRuns.push(await trainOn(s.positions));
lab.printTable([
  ...chesRuns.map((r, i) => ["CHES", chesSubsets[i].percentile, r] as const),
  ...editRuns.map((r, i) => ["edit similarity", editSubsets[i].percentile, r] as const),
].map(([by, q, r]) => ({
  by,
  pct: q,
  "mean Δ ln π(y+)": r.meanChange.toFixed(2),
  "y+ fell": `${r.change.filter((x) => x < 0).length}/${r.change.length}`,
  "margin": r.margin.toFixed(3),
  "acc": r.accuracy.toFixed(2),
  "s": r.seconds.toFixed(0),
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
  { name: "no change", x: [0, 100], y: [0, 0], color: "#999999", dash: "dot" },
], {
  title: "Mean change of the preferred log-prob after DPO, by the window's percentile",
  xTitle: "percentile of the score the window was chosen by",
  yTitle: "mean Δ ln π(y+|x) (nats)",
}));

// %% [markdown]
// ## 5. Every pair, and inside each kind
// One DPO run on all pairs (1 epoch), same settings. Each pair's own change of
// `ln π(y+|x)` against its CHES (and, as the baseline, its edit similarity): Spearman's ρ over
// all pairs and inside each kind, each with a percentile-bootstrap 95% interval over pairs
// (2000 resamples). ρ_CHES − ρ_edit is computed on the same resamples, so its interval accounts
// for the two being measured on the same pairs. In a joint run a pair's change also carries the
// pull of every other pair's updates; the per-pair claim is about that total.

// %%
const allPositions = pairs.map((_, i) => i);
const allRun = await trainOn(allPositions, 0, 1);
const dAll = allRun.change;
const rho = (xs: number[], s: readonly number[]) =>
  lab.spearmanCorrelation(s.map((i) => xs[i]), s.map((i) => dAll[i]));
const boot = { resamples: 2000, seed: 11 };
const rhoAll = {
  ches: lab.bootstrapCI(allPositions, (s) => rho(chesRaw, s), boot),
  chesNormalized: lab.bootstrapCI(allPositions, (s) => rho(chesNorm, s), boot),
  edit: lab.bootstrapCI(allPositions, (s) => rho(editSim, s), boot),
  diff: lab.bootstrapCI(allPositions, (s) => rho(chesRaw, s) - rho(editSim, s), boot),
};
const withinKind = KINDS.map((k) => {
  const idx = allPositions.filter((i) => kinds[i] === k);
  return {
    kind: k,
    idx,
    ches: lab.bootstrapCI(idx, (s) => rho(chesRaw, s), boot),
    edit: lab.bootstrapCI(idx, (s) => rho(editSim, s), boot),
  };
});
// Pooled within-kind: the mean of the five within-kind ρ on each resample of all pairs.
// A kind drawn fewer than twice (or with tied changes) has no ρ; the resample is then skipped.
const meanWithinKind = (s: readonly number[]) => {
  const rs = KINDS.map((k) => rho(chesRaw, s.filter((i) => kinds[i] === k)));
  return rs.every(Number.isFinite) ? mean(rs) : NaN;
};
const rhoWithin = lab.bootstrapCI(allPositions, meanWithinKind, boot);
const ci = (e: lab.Interval) => `${e.mean.toFixed(2)} [${e.lo.toFixed(2)}, ${e.hi.toFixed(2)}]`;
say(
  `all-pairs run: ${pairs.length} pairs, ${allRun.seconds.toFixed(0)} s; mean Δ ln π(y+|x) ` +
    `${allRun.meanChange.toFixed(2)} nats (y+ fell for ${
      dAll.filter((x) => x < 0).length
    }), margin after ${allRun.margin.toFixed(3)}, accuracy ${allRun.accuracy.toFixed(2)}`,
);
say(
  `Spearman ρ with Δ ln π(y+|x) over all pairs (95% bootstrap): CHES ${ci(rhoAll.ches)}, ` +
    `CHES~ ${ci(rhoAll.chesNormalized)}, edit similarity ${ci(rhoAll.edit)}; ` +
    `ρ_CHES − ρ_edit ${ci(rhoAll.diff)}`,
);
lab.printTable(withinKind.map((w) => ({
  kind: w.kind,
  pairs: w.idx.length,
  "mean Δ ln π(y+)": mean(w.idx.map((i) => dAll[i])).toFixed(2),
  "ρ(CHES, Δ)": ci(w.ches),
  "ρ(edit sim., Δ)": ci(w.edit),
})));
console.log(`mean of the within-kind ρ(CHES, Δ): ${ci(rhoWithin)}`);
await lab.flushOutput();

// %%
await lab.show(lab.subplots([
  clipped(
    lab.scatterFigure(
      KINDS.map((k) => ({ name: k, x: ofKind(chesRaw, k), y: ofKind(dAll, k), width: 5 })),
      { title: `against CHES${offAxis(bulkRaw)}`, xTitle: "CHES", yTitle: "Δ ln π(y+|x) (nats)" },
    ),
    "xaxis",
    chesRaw,
  ),
  lab.scatterFigure(
    KINDS.map((k) => ({ name: k, x: ofKind(editSim, k), y: ofKind(dAll, k), width: 5 })),
    { title: "against edit similarity", xTitle: "1 − normalised edit distance", yTitle: "" },
  ),
], {
  columns: 2,
  title: "Each pair's change of ln π(y+|x) in the all-pairs DPO run, by kind",
}));

// %%
const rhoTrace = (
  name: string,
  pick: (w: (typeof withinKind)[number]) => lab.Interval,
  i: number,
) => ({
  type: "scatter" as const,
  mode: "markers" as const,
  name,
  x: [...KINDS, "all pairs"],
  y: [...withinKind.map((w) => pick(w).mean), i === 0 ? rhoAll.ches.mean : rhoAll.edit.mean],
  error_y: {
    type: "data",
    symmetric: false,
    array: [...withinKind.map(pick), i === 0 ? rhoAll.ches : rhoAll.edit].map((e) => e.hi - e.mean),
    arrayminus: [...withinKind.map(pick), i === 0 ? rhoAll.ches : rhoAll.edit].map((e) =>
      e.mean - e.lo
    ),
  },
  marker: { color: lab.seriesColor(i), size: 10 },
});
await lab.show(lab.makeFigure({
  data: [
    rhoTrace("CHES", (w) => w.ches, 0),
    rhoTrace("edit similarity", (w) => w.edit, 1),
  ],
  layout: {
    title: { text: "Spearman ρ(score, Δ ln π(y+|x)) inside each kind, 95% bootstrap intervals" },
    height: 440,
    scattermode: "group",
    yaxis: { title: { text: "Spearman ρ" }, range: [-1, 1], zeroline: true },
    xaxis: { title: { text: "kind (120 pairs each in full mode)" } },
  },
}));

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
// is above 0.5, with the bootstrap 95% interval over the subset's pairs above 0.5. This "share"
// is a ratio of signed sums, not a fraction bounded by 1: the other tokens' net part of CHES
// (`Σ_{k≤|y+|} ⟨H+, h−_k⟩ − ‖H+‖²`) can be negative, and then the tokens past |y+| carry more
// than all of CHES (a pair's share above 1). The percentile bootstrap over pairs keeps the
// interval inside the range the statistic can take.

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
lab.printTable(perToken.map((c, i) => ({
  pair: c.index,
  kind: kinds[topSubset.positions[i]].replace("_", " ").slice(0, 13),
  CHES: c.ches.toFixed(0),
  "Δ ln π": topRun.change[i].toFixed(2),
  "|y±|": `${c.chosen.length},${c.rejected.length}`,
  "past |y+|": surplusShare[i].toFixed(2),
  "top 2 tokens (side: share)": lab.topChesTokens(c, 2).map((t) =>
    `${t.side === "chosen" ? "+" : "−"}${
      tokenText(t.side === "chosen" ? topPairs[i].chosenIds : topPairs[i].rejectedIds, t.position)
    }: ${(t.contribution / c.ches).toFixed(2)}`
  ).join(" "),
})));
// Percentile bootstrap over the subset's pairs (the same interval the final table reports).
const surplusCi = lab.bootstrapCI(surplusShare, lab.mean, { seed: 3 });
say(
  `sanity: contributions sum to CHES within ${tokenSumDiff.toExponential(1)} (relative to the ` +
    `largest share); CHES vs chesScores ${tokenVsScores.toExponential(1)} of ‖H+‖²`,
);
say(
  `share of CHES carried by the rejected tokens past |y+|: mean ${
    mean(surplusShare).toFixed(2)
  }, ` +
    `95% interval ${surplusCi.lo.toFixed(2)} .. ${surplusCi.hi.toFixed(2)} ` +
    `(bootstrap over ${surplusShare.length} pairs of the ${topSubset.percentile}th-percentile ` +
    `subset; ${surplusShare.filter((v) => v > 1).length} pairs above 1, where the other ` +
    `tokens' net part is negative)`,
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
  title:
    `Pair ${shownPair.index}: each token's contribution to CHES ${
      perToken[shown].ches.toFixed(0)
    } ` +
    `(Δ ln π(y+|x) ${topRun.change[shown].toFixed(2)} after DPO)`,
}));

// %% [markdown]
// ## 6. Filters of equal size: CHES against edit distance, over seeds
// Per seed: a random half of the pairs is the dataset; five subsets of the same size are kept
// from it (lowest CHES~, highest edit distance, random, highest CHES~, lowest edit distance)
// and each is trained with that seed. The differences are paired by seed. The table's kinds
// (pairs of each kind: paraphrase / minor edit / contradiction / length change / different
// topic) and means are over all seeds' subsets.

// %%
const SEEDS = lab.bySmoke([0, 1, 2, 3, 4], [0, 1]);
const keep = lab.bySmoke(24, 6);
const RULES = [
  "lowest CHES~",
  "highest edit distance",
  "random",
  "highest CHES~",
  "lowest edit distance",
] as const;
type Rule = (typeof RULES)[number];
const pick = (pool: number[], score: (p: number) => number, descending: boolean) =>
  [...pool].sort((a, b) => descending ? score(b) - score(a) : score(a) - score(b)).slice(0, keep);
const filterRuns = new Map<Rule, RunResult[]>(RULES.map((r) => [r, []]));
for (const seed of SEEDS) {
  const pool = lab.permutation(pairs.length, 100 + seed).slice(0, Math.floor(pairs.length / 2));
  const chosenBy: Record<Rule, number[]> = {
    "lowest CHES~": pick(pool, (p) => chesNorm[p], false),
    "highest edit distance": pick(pool, (p) => editDist[p], true),
    "random": lab.permutation(pool.length, 200 + seed).slice(0, keep).map((i) => pool[i]),
    "highest CHES~": pick(pool, (p) => chesNorm[p], true),
    "lowest edit distance": pick(pool, (p) => editDist[p], false),
  };
  for (const rule of RULES) filterRuns.get(rule)!.push(await trainOn(chosenBy[rule], seed));
}
const meanOf = (rule: Rule) => filterRuns.get(rule)!.map((r) => r.meanChange);
const pairedDiff = (a: Rule, b: Rule) => {
  const xa = meanOf(a), xb = meanOf(b);
  return lab.meanCI(xa.map((x, i) => x - xb[i]), 0.95, "seeds");
};
lab.printTable(RULES.map((rule) => {
  const runs = filterRuns.get(rule)!;
  const all = runs.flatMap((r) => r.positions);
  return {
    subset: rule,
    "CHES~": mean(all.map((p) => chesNorm[p])).toFixed(2),
    "edit d": mean(all.map((p) => editDist[p])).toFixed(2),
    "kinds p/m/c/l/t": composition(all).join("/"),
    "Δ ln π(y+) by seed": meanOf(rule).map((x) => x.toFixed(2)).join(" "),
  };
}));
await lab.flushOutput();

// %%
await lab.show(lab.makeFigure({
  data: [{
    type: "bar",
    name: "mean over seeds",
    x: [...RULES],
    y: RULES.map((r) => mean(meanOf(r))),
    error_y: {
      type: "data",
      symmetric: false,
      array: RULES.map((r) => lab.meanCI(meanOf(r)).hi - mean(meanOf(r))),
      arrayminus: RULES.map((r) => mean(meanOf(r)) - lab.meanCI(meanOf(r)).lo),
    },
    marker: { color: lab.ROLE_COLORS.chosen },
  }, {
    type: "scatter",
    mode: "markers",
    name: "one seed",
    x: RULES.flatMap((r) => meanOf(r).map(() => r)),
    y: RULES.flatMap((r) => meanOf(r)),
    marker: { color: lab.seriesColor(1), size: 7 },
  }],
  layout: {
    title: {
      text:
        `Equal-size subsets (${keep} pairs) kept by each rule: mean Δ ln π(y+|x), ${SEEDS.length} seeds`,
    },
    height: 440,
    yaxis: { title: { text: "mean Δ ln π(y+|x) (nats)" }, rangemode: "tozero" },
  },
}));

// %% [markdown]
// ## Measured
// Everything below is computed from the runs above. Sanity checks test the code against its
// own identities and do not count; findings are the paper's claims on these pairs, each with a
// 95% interval (bootstrap over pairs, Welch over the windows' pairs, or t over seeds).

// %%
const table = lab.studyTable();
table.sanity({
  what: "`lab ches` CLI agrees with chesScores",
  expected: "max difference < 1e-5 of ‖S+‖² (CHES~: of ‖S+‖²/|y+|²) on the common pairs",
  measured: `${common.length} pairs, max difference ${cliMaxDiff.toExponential(1)} of the scale`,
  pass: common.length > 0 && cliMaxDiff < 1e-5,
});
table.sanity({
  what: "per-token contributions sum to CHES (library and lab ches --per-token)",
  expected: "sum differs < 1e-9 of the largest share; CHES vs chesScores < 1e-5 of ‖H+‖²",
  measured: `library ${tokenSumDiff.toExponential(1)}, CLI ${cliTokenSumDiff.toExponential(1)}, ` +
    `vs chesScores ${tokenVsScores.toExponential(1)}`,
  pass: tokenSumDiff < 1e-9 && tokenVsScores < 1e-5 && cliTokenSumDiff < 1e-9,
});
const maxAbsChange = Math.max(
  ...[...chesRuns, ...editRuns, allRun].flatMap((r) => r.change).map(Math.abs),
);
table.sanity({
  what: "the papers' regime (small lr): log-probs move by a few nats",
  expected: "mean |Δ ln π(y+|x)| of every run < 5 nats",
  measured: `largest run mean |Δ| ${
    Math.max(...[...chesRuns, ...editRuns, allRun, ...[...filterRuns.values()].flat()].map((r) =>
      mean(r.change.map(Math.abs))
    )).toFixed(2)
  } nats; largest single pair ${maxAbsChange.toFixed(1)} nats`,
  pass: [...chesRuns, ...editRuns, allRun, ...[...filterRuns.values()].flat()].every((r) =>
    mean(r.change.map(Math.abs)) < 5
  ),
});
table.finding({
  claim: "in the highest-CHES pairs, the rejected tokens past |y+| carry most of CHES",
  expected: "mean share of CHES from rejected tokens past |y+| > 0.5 (bootstrap over pairs; " +
    "a ratio of signed sums, above 1 where the other tokens' net part is negative)",
  estimate: surplusCi,
  threshold: 0.5,
  direction: ">",
});
const topW = chesRuns[chesRuns.length - 1], bottomW = chesRuns[0];
table.finding({
  claim: "E1 (§5 protocol) the top CHES window displaces y+ more than the bottom one",
  expected: "mean Δ ln π(y+|x), 100th − 0th percentile window < 0 nats",
  estimate: lab.diffMeansCI(topW.change, bottomW.change, 0.95, "pairs (one run each)"),
  threshold: 0,
  direction: "<",
  measured: `windows' means ${chesRuns.map((r) => r.meanChange.toFixed(2)).join(", ")}; ` +
    `ρ(percentile, mean Δ) CHES ${rhoChes.toFixed(2)}, edit similarity ${rhoEdit.toFixed(2)} ` +
    `(${percentiles.length} points, one run: no interval)`,
});
table.finding({
  claim: "E2 over all pairs, higher CHES goes with a larger fall of ln π(y+|x)",
  expected: "Spearman ρ(CHES, Δ ln π(y+|x)) < 0 over all pairs",
  estimate: rhoAll.ches,
  threshold: 0,
  direction: "<",
  measured: `CHES~ ${ci(rhoAll.chesNormalized)}`,
});
table.finding({
  claim: "E3 over all pairs, CHES ranks displacement better than edit similarity",
  expected: "ρ_CHES − ρ_edit < 0 (same resamples)",
  estimate: rhoAll.diff,
  threshold: 0,
  direction: "<",
  measured: `ρ_CHES ${ci(rhoAll.ches)}, ρ_edit ${ci(rhoAll.edit)}`,
});
table.finding({
  claim: "E4 within a kind, higher CHES goes with a larger fall of ln π(y+|x)",
  expected: "mean over the 5 kinds of the within-kind ρ(CHES, Δ) < 0",
  estimate: rhoWithin,
  threshold: 0,
  direction: "<",
  measured: withinKind.map((w) => `${w.kind} ${ci(w.ches)}`).join("; "),
});
const finding = (claim: string, expected: string, a: Rule, b: Rule, direction: ">" | "<") =>
  table.finding({
    claim,
    expected,
    estimate: pairedDiff(a, b),
    threshold: 0,
    direction,
    measured: `${a} ${mean(meanOf(a)).toFixed(2)}, ${b} ${mean(meanOf(b)).toFixed(2)} nats`,
  });
finding(
  "E5 (§6) the lowest-CHES~ filter displaces y+ less than a random subset",
  "mean Δ ln π(y+|x), lowest CHES~ − random > 0 nats (paired by seed)",
  "lowest CHES~",
  "random",
  ">",
);
finding(
  "E6 the highest-CHES~ subset displaces y+ more than a random subset",
  "highest CHES~ − random < 0 nats (paired by seed)",
  "highest CHES~",
  "random",
  "<",
);
finding(
  "E7 CHES beats edit distance as a filter (the dissimilar end)",
  "lowest CHES~ − highest edit distance > 0 nats (paired by seed)",
  "lowest CHES~",
  "highest edit distance",
  ">",
);
finding(
  "E8 CHES beats edit distance at finding displacing pairs (the similar end)",
  "highest CHES~ − lowest edit distance < 0 nats (paired by seed)",
  "highest CHES~",
  "lowest edit distance",
  "<",
);
say(
  `backend ${report.name}; ${pairs.length} pairs scored; DPO β 0.1, RMSProp lr ${LR.toExponential()}, batch ` +
    `${batchSize}; windows of ${subsetSize} pairs x ${epochs} epochs; filters of ${keep} pairs ` +
    `x ${SEEDS.length} seeds; training took ${((performance.now() - tTrain) / 1000).toFixed(0)} s`,
);
say(
  `mean Δ ln π(y+|x) by CHES percentile ${percentiles.join("/")}: ` +
    chesRuns.map((r) => r.meanChange.toFixed(2)).join(", ") +
    `; by edit-similarity percentile: ` + editRuns.map((r) => r.meanChange.toFixed(2)).join(", "),
);
say(
  `\nexpected: E1-E4 higher CHES, larger fall of ln π(y+|x) (across windows, over all pairs, ` +
    `within kinds), CHES better than edit similarity; E5-E8 the CHES~ filters beat random and ` +
    `the equal-size edit-distance filters.` +
    (lab.isSmoke()
      ? ` (smoke mode: ${pairs.length} pairs, ${SEEDS.length} seeds, subsets of ${keep}, ` +
        `${epochs} epoch(s): intervals are wide and verdicts mean little)`
      : ""),
);
await table.print();
