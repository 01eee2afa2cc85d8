// %% [markdown]
// # 09 · Analyse a run made elsewhere
//
// **Question.** Can a DPO run trained somewhere else with Hugging Face TRL be loaded and plotted
// here with the same tools as our own runs, without losing anything on the way in?
//
// **Setup.** `data/runs/trl_sample/trainer_state.json` is a small *synthetic* run (no model was
// trained; see its README) written in exactly the layout Hugging Face `Trainer` saves and with
// the metric names TRL's `DPOTrainer` logs. We first check that it is that format (the
// `TrainerState` fields and the DPO metric keys), then read it with `lab.readRun` — the reader
// our own run directories go through — and plot it with `lab.rewardCurves`. Next we make a
// short DPO run of ours on the unconstrained-features toy model (a run directory under
// `out/runs/`), read it back with the same reader, and overlay both runs with
// `lab.runComparison`.
//
// **Expected.** The reader keeps every `log_history` entry: train entries become steps
// (`learning_rate` also copied to `lr`), `eval_*` entries become evals (prefix dropped), the
// `train_runtime` entry becomes the summary, so counts add up and every number is equal to the
// raw JSON's. Both runs show the DPO signature: the reward margin grows and the reward accuracy
// ends above one half. (The TRL numbers are synthetic, so nothing is concluded from them.)
// All of these are sanity checks of the tool; no paper's claim is measured here, so the study
// has no findings.

// %%
import * as lab from "../lib/mod.ts";
const report = await lab.setupNotebook();
// Cells that print end with `await lab.flushOutput()`: the Deno kernel sends console output
// asynchronously, and a cell ending right after printing can lose its last lines.

// %% [markdown]
// ## 1. Is the sample really TRL's format?
// A Hugging Face `trainer_state.json` is `json.dumps(dataclasses.asdict(TrainerState), indent=2,
// sort_keys=True)`. We list the `TrainerState` fields and the keys TRL's `DPOTrainer` logs, and
// compare them with the file.

// %%
const trlPath = "../data/runs/trl_sample/trainer_state.json";
const rawText = await Deno.readTextFile(trlPath);
const raw = JSON.parse(rawText) as Record<string, unknown> & {
  log_history: Record<string, unknown>[];
};
const trainerStateFields = [
  "best_global_step",
  "best_metric",
  "best_model_checkpoint",
  "epoch",
  "eval_steps",
  "global_step",
  "is_hyper_param_search",
  "is_local_process_zero",
  "is_world_process_zero",
  "log_history",
  "logging_steps",
  "max_steps",
  "num_input_tokens_seen",
  "num_train_epochs",
  "save_steps",
  "stateful_callbacks",
  "total_flos",
  "train_batch_size",
  "trial_name",
  "trial_params",
];
const dpoKeys = [
  "loss",
  "rewards/chosen",
  "rewards/rejected",
  "rewards/margins",
  "rewards/accuracies",
  "logps/chosen",
  "logps/rejected",
  "logits/chosen",
  "logits/rejected",
];
const fileKeys = Object.keys(raw);
const missingFields = trainerStateFields.filter((k) => !fileKeys.includes(k));
const extraFields = fileKeys.filter((k) => !trainerStateFields.includes(k));
const sortedLikeHf = JSON.stringify(fileKeys) === JSON.stringify([...fileKeys].sort());
const kindOf = (e: Record<string, unknown>) =>
  "train_runtime" in e
    ? "summary"
    : Object.keys(e).some((k) => k.startsWith("eval_"))
    ? "eval"
    : "train";
const rawTrain = raw.log_history.filter((e) => kindOf(e) === "train");
const rawEval = raw.log_history.filter((e) => kindOf(e) === "eval");
const rawSummary = raw.log_history.filter((e) => kindOf(e) === "summary");
const trainMissingDpo = rawTrain.filter((e) => dpoKeys.some((k) => !(k in e))).length;
const evalMissingDpo = rawEval.filter((e) => dpoKeys.some((k) => !(`eval_${k}` in e))).length;
console.log(`TrainerState fields missing: ${missingFields.length ? missingFields : "none"}`);
console.log(`fields not in TrainerState: ${extraFields.length ? extraFields : "none"}`);
console.log(`top-level keys sorted as json.dumps(sort_keys=True) writes them: ${sortedLikeHf}`);
console.log(
  `log_history: ${raw.log_history.length} entries = ${rawTrain.length} train + ` +
    `${rawEval.length} eval + ${rawSummary.length} summary`,
);
console.log(
  `train entries lacking a DPO metric: ${trainMissingDpo}; eval entries lacking one: ${evalMissingDpo}`,
);
const trlFormatOk = missingFields.length === 0 && extraFields.length === 0 && sortedLikeHf &&
  trainMissingDpo === 0 && evalMissingDpo === 0 && rawSummary.length === 1;
console.log(trlFormatOk ? "the sample has TRL's layout" : "the sample differs from TRL's layout");
await lab.flushOutput();

// %% [markdown]
// ## 2. Read it with the run reader
// `readRun` accepts a run directory of ours, a `trainer_state.json`, or a Hugging Face output
// directory holding one.

// %%
const trl = await lab.readRun(trlPath);
console.log(lab.wrapText(
  `source: ${trl.source}; ${trl.steps.length} steps, ${trl.evals.length} evals, summary keys: ` +
    Object.keys(trl.summary).join(", "),
));
lab.printTable(
  trl.steps.slice(0, 3).map((s) => ({
    step: s.step,
    lr: s.lr,
    loss: s.loss?.toFixed(4),
    margin: s["rewards/margins"]?.toFixed(4),
    accuracy: s["rewards/accuracies"],
  })),
);
await lab.flushOutput();

// %%
await lab.show(lab.rewardCurves(trl.steps, { title: "TRL sample (synthetic): training records" }));
await lab.show(
  lab.rewardCurves(trl.evals, { title: "TRL sample (synthetic): evaluation records" }),
);

// %% [markdown]
// ## 3. A short run of ours
// DPO (β = 0.1) with RMSProp on the unconstrained-features toy model: 16 prompts, 8 named
// single-token answers, each prompt preferring one answer over another; batch 4. The run
// directory is written under `out/runs/` and read back with the same `readRun`.

// %%
const tokens = ["Yes", "No", "Never", "Sure", "Maybe", "Perhaps", "Certainly", "Absolutely"];
const nPrompts = 16;
const toy = lab.createUnconstrainedFeatures({ tokens, prompts: nPrompts, dim: 8, seed: 1 });
const prompt = Array.from({ length: nPrompts }, (_, i) => i);
// Odd prompts: No over Never; even prompts: Yes over Sure.
const chosen = prompt.map((i) => toy.tokenId(i % 2 ? "No" : "Yes"));
const rejected = prompt.map((i) => toy.tokenId(i % 2 ? "Never" : "Sure"));
const ourDir = "../out/runs/09_toy_dpo";
const ourSteps = lab.bySmoke(60, 20);
const result = await lab.train({
  policy: toy,
  data: lab.toyData({ prompt, chosen, rejected }),
  objective: lab.dpo({ beta: 0.1 }),
  optimizer: { name: "rmsprop" },
  lr: 1e-2,
  batchSize: 4,
  maxSteps: ourSteps,
  seed: 0,
  outDir: ourDir,
  progress: false,
});
const ours = await lab.readRun(ourDir);
console.log(
  `our run: ${ours.source}, ${ours.steps.length} step records, status ${ours.status?.state}, ` +
    `${result.summary.train_runtime?.toFixed(1)} s`,
);
toy.dispose();
await lab.flushOutput();

// %%
await lab.show(lab.rewardCurves(ours.steps, { title: "dpo-lab toy run: training records" }));

// %% [markdown]
// ## 4. Both runs on the same axes
// Each panel is one metric, one colour per run. The TRL run logged every 5 steps, ours every
// step. The reward scales differ (TRL's sample mimics summed log-probs of long responses, ours are
// single tokens); the shapes are what compare.

// %%
await lab.show(lab.runComparison(
  [
    { name: "TRL sample (synthetic)", records: trl.steps },
    { name: "dpo-lab toy", records: ours.steps },
  ],
  {
    keys: ["loss", "rewards/margins", "rewards/accuracies", "rewards/chosen"],
    title: "TRL trainer_state.json next to a dpo-lab run",
  },
));

// %% [markdown]
// ## 5. A checkpoint series, after the fact
// A TRL run leaves `checkpoint-N/` folders (Hugging Face model + `trainer_state.json`), not
// per-pair rows. `lab analyse-checkpoints --run DIR --data FILE` re-scores every checkpoint on a
// preference file and writes the rows our live trackers write (`mass.jsonl`: summed log-probs of
// chosen, rejected and probe responses per pair; `displacement.jsonl`; `ches.jsonl`), so the
// live-run plots below read them unchanged. No TRL run with checkpoints ships here, so we make
// one in TRL's layout: DPO on the shipped tiny GPT-2 (`data/models/tiny`), 16 pairs of
// `simple_pairs`, with `lab.trlLayoutCallback` saving `checkpoint-N/` every `every` steps —
// and, in the same run, the live probability-mass tracker on the same pairs at the same steps.
//
// **Expected.** The log-probs the tool computes from the saved checkpoints equal the ones the
// live tracker measured at those steps (float32 forward passes of the same weights; we require
// |difference| < 10⁻³ nats), and the displacement rows plot as the live ones do.

// %%
const tinyDir = "../data/models/tiny";
const tinyTok = await lab.loadTokenizer(tinyDir);
const seriesPairsFile = "../out/runs/09_series_pairs.jsonl";
const allLines = (await Deno.readTextFile("../data/datasets/simple_pairs/pairs.jsonl"))
  .split("\n").filter((l) => l.trim() !== "");
const nSeries = lab.bySmoke(16, 4);
await Deno.mkdir("../out/runs", { recursive: true });
await Deno.writeTextFile(seriesPairsFile, allLines.slice(0, nSeries).join("\n") + "\n");
const seriesRows = (await lab.loadPreferenceFile(seriesPairsFile)).rows;
const seriesPairs = lab.tokenizePairs(seriesRows, tinyTok, { maxLength: 64 }).pairs;
const tiny = await lab.loadCausalLM(tinyDir);
const every = lab.bySmoke(4, 1);
const seriesSteps = lab.bySmoke(16, 2);
const trlLikeDir = "../out/runs/09_trl_layout";
await Deno.remove(trlLikeDir, { recursive: true }).catch(() => {});
const seriesData = lab.preferenceData(seriesPairs, { padId: tinyTok.padId });
await lab.train({
  policy: lab.lmScorer(tiny),
  data: seriesData,
  objective: lab.dpo({ beta: 0.1 }),
  optimizer: { name: "adamw", weightDecay: 0 },
  lr: 5e-4,
  batchSize: lab.bySmoke(4, 2),
  maxSteps: seriesSteps,
  seed: 0,
  outDir: "../out/runs/09_series_live",
  progress: false,
  callbacks: [
    lab.probabilityMassTracker({
      positions: seriesPairs.map((_, i) => i),
      every,
    }),
    lab.trlLayoutCallback({ dir: trlLikeDir, model: tiny, every, tokenizerFrom: tinyDir }),
  ],
});
tiny.dispose();
const seriesOut = `${trlLikeDir}/analysis`;
// The command-line tool itself, as a researcher would run it on a TRL output folder.
const analysed = await new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "../tools/cli.ts",
    "analyse-checkpoints",
    "--run",
    trlLikeDir,
    "--data",
    seriesPairsFile,
    "--out",
    seriesOut,
    "--force",
  ],
  stdout: "inherit",
  stderr: "piped",
}).output();
if (!analysed.success) {
  throw new Error(`lab analyse-checkpoints failed:\n${new TextDecoder().decode(analysed.stderr)}`);
}
type SeriesMass = { step: number; prompt: number; label: string; logp: number };
const liveMass = await lab.readJsonl<SeriesMass>("../out/runs/09_series_live/mass.jsonl");
const afterMass = await lab.readJsonl<SeriesMass>(`${seriesOut}/mass.jsonl`);
let seriesCompared = 0, seriesMaxDiff = 0;
for (const r of afterMass) {
  const l = liveMass.find((x) => x.step === r.step && x.prompt === r.prompt && x.label === r.label);
  if (!l) continue;
  seriesCompared++;
  seriesMaxDiff = Math.max(seriesMaxDiff, Math.abs(l.logp - r.logp));
}
const seriesOk = seriesCompared > 0 && seriesMaxDiff < 1e-3;
console.log(
  `checkpoints: ${[...new Set(afterMass.map((r) => r.step))].join(", ")}; ${seriesCompared} ` +
    `log-probs compared with the live tracker's, largest difference ${
      seriesMaxDiff.toExponential(2)
    } nats`,
);
await lab.flushOutput();

// %% [markdown]
// The same run's step records carry TRL's whole metric set (`entropy`, `mean_token_accuracy`,
// `logits/*`, `grad_norm`, `learning_rate`, `num_tokens`), drawn next to the TRL sample's.

// %%
const seriesLive = await lab.readRun("../out/runs/09_series_live");
await lab.show(lab.trlMetricCurves([
  { name: "tiny GPT-2 (ours)", records: seriesLive.steps.filter((r) => r.step > 0) },
  { name: "TRL sample (synthetic)", records: trl.steps },
]));

// %%
const seriesDisp = await lab.readJsonl(`${seriesOut}/displacement.jsonl`);
await lab.show(lab.pairTrajectories(seriesDisp, {
  valueKey: "change",
  yTitle: "ln π_t(y+) − ln π_first(y+) (nats)",
  title: "Chosen log-prob of every pair across the checkpoints (analyse-checkpoints)",
}));

// %% [markdown]
// ## Measured
// Every raw `log_history` entry is compared, number by number, with the record the reader made
// of it (same position in its list, keys mapped as the reader documents). The TRL run is also
// written as a run directory of ours (`lab.writeRun`) and read back, to check the round trip.

// %%
type Rec = Record<string, unknown>;
const mapKey = (kind: string, k: string) =>
  kind === "eval" ? k.replace(/^eval_/, "") : k === "learning_rate" ? "lr" : k;
let compared = 0;
const mismatches: string[] = [];
const lists: Record<string, Rec[]> = {
  train: trl.steps as Rec[],
  eval: trl.evals as Rec[],
  summary: [trl.summary],
};
const seen: Record<string, number> = { train: 0, eval: 0, summary: 0 };
raw.log_history.forEach((entry, i) => {
  const kind = kindOf(entry);
  const rec = lists[kind][seen[kind]++];
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== "number") continue;
    const key = kind === "summary" ? k : mapKey(kind, k);
    compared++;
    if (rec?.[key] !== v) mismatches.push(`log_history[${i}].${k}: ${v} -> ${rec?.[key]}`);
  }
});
const countsOk = trl.steps.length === rawTrain.length && trl.evals.length === rawEval.length &&
  Object.keys(trl.summary).length > 0 &&
  trl.steps.length + trl.evals.length + 1 === raw.log_history.length;

const roundDir = "../out/runs/09_trl_imported";
await lab.writeRun(trl, roundDir);
const again = await lab.readRun(roundDir);
const roundTripOk = JSON.stringify(again.steps) === JSON.stringify(trl.steps) &&
  JSON.stringify(again.evals) === JSON.stringify(trl.evals);

const last = (recs: readonly Rec[], k: string) =>
  recs.filter((r) => typeof r[k] === "number").at(-1)?.[k] as number;
const first = (recs: readonly Rec[], k: string) =>
  recs.find((r) => typeof r[k] === "number")?.[k] as number;
const summaryRow = (name: string, recs: readonly Rec[]) => ({
  run: name,
  "first margin": first(recs, "rewards/margins").toFixed(3),
  "final margin": last(recs, "rewards/margins").toFixed(3),
  "final accuracy": last(recs, "rewards/accuracies").toFixed(3),
  "final loss": last(recs, "loss").toFixed(4),
});
lab.printTable([
  summaryRow("TRL sample (synthetic)", trl.steps as Rec[]),
  summaryRow("TRL sample, last eval", trl.evals as Rec[]),
  summaryRow(`dpo-lab toy (${ourSteps} steps)`, ours.steps as Rec[]),
]);
const dpoShape = (recs: readonly Rec[]) =>
  last(recs, "rewards/margins") > first(recs, "rewards/margins") &&
  last(recs, "rewards/accuracies") > 0.5;
const shapes = { trl: dpoShape(trl.steps as Rec[]), ours: dpoShape(ours.steps as Rec[]) };

console.log(`backend: ${report.name}`);
console.log(`\nTRL format check: ${trlFormatOk ? "passed" : "FAILED"}`);
console.log(lab.wrapText(
  `import: ${raw.log_history.length} log_history entries -> ${trl.steps.length} steps + ` +
    `${trl.evals.length} evals + 1 summary (${countsOk ? "counts match" : "COUNTS DIFFER"}); ` +
    `${compared} numbers compared, ${mismatches.length} differ`,
));
for (const m of mismatches.slice(0, 10)) console.log(`  ${m}`);
console.log(`round trip through a run directory of ours: ${roundTripOk ? "identical" : "DIFFERS"}`);
console.log(
  `margin grows and final accuracy > 0.5: TRL sample ${shapes.trl}, ours ${shapes.ours}`,
);
console.log(lab.wrapText(
  `checkpoint series: ${seriesCompared} log-probs from the checkpoints vs the live tracker, ` +
    `largest difference ${seriesMaxDiff.toExponential(2)} nats (${
      seriesOk ? "< 1e-3" : "TOO LARGE"
    })`,
));
// Everything here checks the tool (import, plotting, our own demo run) against what it should
// do: sanity checks only. No paper's claim is measured, so the study has no findings.
const table = lab.studyTable();
table.sanity({
  what: "TRL import keeps every entry with equal numbers, and round-trips",
  expected: "format check passes, counts match, 0 numbers differ, round trip identical",
  measured: `format ${trlFormatOk ? "ok" : "FAILED"}, counts ${countsOk ? "match" : "DIFFER"}, ` +
    `${mismatches.length} of ${compared} differ, round trip ${
      roundTripOk ? "identical" : "DIFFERS"
    }`,
  pass: trlFormatOk && countsOk && mismatches.length === 0 && roundTripOk,
});
table.sanity({
  what: "the synthetic TRL sample has DPO's shape (it was made to)",
  expected: "margin grows, final accuracy > 0.5",
  measured: String(shapes.trl),
  pass: shapes.trl,
});
table.sanity({
  what:
    "lab analyse-checkpoints reproduces the live tracker's log-probs from the saved checkpoints",
  expected: "|difference| < 1e-3 nats",
  measured: `${seriesCompared} compared, largest ${seriesMaxDiff.toExponential(2)} nats`,
  pass: seriesOk,
});
table.sanity({
  what: "our DPO toy run (the demo's own run) has DPO's shape",
  expected: "margin grows, final accuracy > 0.5",
  measured:
    `margin ${first(ours.steps as Rec[], "rewards/margins").toFixed(3)} -> ${
      last(ours.steps as Rec[], "rewards/margins").toFixed(3)
    }, final accuracy ${last(ours.steps as Rec[], "rewards/accuracies").toFixed(3)}` +
    (lab.isSmoke() ? ` (smoke mode: our run has only ${ourSteps} steps)` : ""),
  pass: shapes.ours,
});
console.log("\nNo findings: this notebook checks a tool and its demo run, not a paper's claim.");
await table.print();
