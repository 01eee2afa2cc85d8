import assert from "node:assert/strict";
import { assertClose, toyTrainConfig, useCpu } from "../helpers.ts";
import { parseTrainConfig } from "../../lib/train/config.ts";
import { importTrlCommand, runConfig, trainCommand } from "../../tools/commands/train.ts";
import { readJsonl, readRun } from "../../lib/train/records.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { loadCausalLM, saveCausalLM } from "../../lib/models/checkpoint.ts";

await useCpu();

const root = new URL("../../", import.meta.url).pathname;
const SAMPLE = `${root}data/runs/trl_sample/trainer_state.json`;
const TOKENIZER = `${root}tests/fixtures/data/tiny_tokenizer`;

function toyConfig(out: string): Record<string, unknown> {
  return toyTrainConfig(out, {
    trackers: [{ name: "mass", every: 2, probes: [{ prompt: "x0", token: "Yes", label: "yes" }] }],
  });
}

Deno.test("config: bad configs are rejected with the file and field named", () => {
  const ok = toyConfig("out/x");
  const bad = (patch: Record<string, unknown>, re: RegExp, Kind: ErrorConstructor = TypeError) =>
    assert.throws(
      () => parseTrainConfig({ ...ok, ...patch }, "run.json"),
      (e) => e instanceof Kind && re.test((e as Error).message),
      JSON.stringify(patch),
    );
  bad({ batchSize: 0 }, /^run\.json: field 'batchSize' must be >= 1, got 0$/, RangeError);
  bad({ threads: 3 }, /^run\.json: field 'threads' must be 1 or 2, got 3$/, RangeError);
  bad({ lerningRate: 1 }, /run\.json: field 'lerningRate' is not a known field/);
  bad(
    { optimizer: { name: "adam", beta1: 2 } },
    /field 'optimizer': optimizer\.beta1 must be/,
    RangeError,
  );
  bad({ optimizer: { name: "lion" } }, /field 'optimizer': optimizer\.name must be one of/);
  bad({ model: undefined }, /field 'model' is required/);
  bad({ model: { dir: "m" } }, /field 'data\.pairs' is for toy models/);
  bad({ steps: 5, epochs: 1 }, /field 'steps' and 'epochs' cannot both be set/);
  bad({ eval: { fraction: 1.5 } }, /field 'eval\.fraction' must be in \(0, 1\)/, RangeError);
  bad({ trackers: [{ name: "masss" }] }, /field 'trackers\[0\]\.name' must be "mass"/);
  bad(
    { trackers: [{ name: "mass", probeFields: ["x"] }] },
    /'trackers\[0\]\.probeFields' is for causal LMs/,
  );
  bad(
    { schedule: { kind: "cosine", warmupSteps: -2 } },
    /field 'schedule': schedule\.warmupSteps/,
    RangeError,
  );
  bad({ data: { pairs: [{ prompt: "x0", chosen: "No" }] } }, /field 'data\.pairs\[0\]\.rejected'/);
  bad({ backend: "cuda" }, /field 'backend' must be auto or one of/);
  const cfg = parseTrainConfig(ok, "run.json");
  assert.equal(cfg.optimizer.name, "rmsprop");
  assert.equal((cfg.optimizer as { alpha: number }).alpha, 0.99); // defaults filled in
});

Deno.test("lab train: a toy config runs to a run directory; step 1 loss is log 2 (policy = reference)", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/run.json`;
  await Deno.writeTextFile(path, JSON.stringify(toyConfig(`${dir}/run`)));
  assert.equal(await trainCommand(["--config", path, "--quiet"]), 0);
  const run = await readRun(`${dir}/run`);
  assert.deepEqual(run.steps.map((s) => s.step), [0, 1, 2, 3, 4, 5, 6]);
  assertClose(run.steps[1].loss!, Math.log(2), { rtol: 1e-6 });
  assert.equal(run.steps[1]["rewards/margins"], 0);
  assert.ok(run.steps[6]["rewards/margins"]! > 0, "DPO must open a margin");
  assert.equal(typeof run.steps[2]["mass/yes"], "number");
  assert.equal(run.steps[1]["mass/yes"], undefined); // every 2 steps
  assert.equal(run.status?.state, "completed");
  assert.equal((run.config.backend as { name: string }).name, "cpu");
  assert.equal((run.config.train as { objective: { name: string } }).objective.name, "dpo");
  const mass = await readJsonl(`${dir}/run/mass.jsonl`);
  assert.ok(mass.some((r) => r.label === "yes" && r.step === 0));
  // --steps overrides; --resume continues from the last checkpoint of the same settings.
  await assert.rejects(
    trainCommand(["--config", path, "--quiet", "--steps", "8", "--resume"]),
    /setting 'totalSteps' was 6, now 8/,
  );
  assert.equal(await trainCommand(["--config", path, "--quiet", "--resume"]), 0);
  assert.equal((await readRun(`${dir}/run`)).steps.length, 7);
  await assert.rejects(trainCommand(["--config", path, "--bogus"]), /unknown option --bogus/);
});

Deno.test("lab train: a causal LM config trains on two threads, tracks probe responses and saves the model", async () => {
  const dir = await Deno.makeTempDir();
  const model = createGPT2(
    { vocab_size: 300, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2 },
    {
      seed: 0,
    },
  );
  await saveCausalLM(model, `${dir}/model`, { tokenizerFrom: TOKENIZER });
  model.dispose();
  const rows = [
    { prompt: "Is it cold?", chosen: " Yes it is.", rejected: " No.", para: " It is cold." },
    {
      prompt: "Where did he go?",
      chosen: " To the market.",
      rejected: " Home.",
      para: " He went to market.",
    },
    {
      prompt: "Who is there?",
      chosen: " A friend.",
      rejected: " Nobody at all.",
      para: " My friend.",
    },
  ];
  await Deno.writeTextFile(`${dir}/pairs.jsonl`, rows.map((r) => JSON.stringify(r)).join("\n"));
  const config = parseTrainConfig({
    model: { dir: `${dir}/model` },
    data: { file: `${dir}/pairs.jsonl` },
    objective: { name: "dpo", params: { beta: 0.5 } },
    optimizer: { name: "adamw", weightDecay: 0 },
    lr: 0.01,
    batchSize: 2,
    steps: 2,
    out: `${dir}/run`,
    reference: { kind: "precompute", cacheDir: `${dir}/cache` },
    trackers: [{ name: "mass", pairs: 3, probeFields: ["para"], otherAnswers: 1 }],
    threads: 2,
  }, "lm.json");
  const result = await runConfig(config, { quiet: true });
  assert.equal(result.steps, 2);
  const steps = await readJsonl(`${dir}/run/steps.jsonl`);
  assert.deepEqual(steps.map((s) => s.step), [0, 1, 2]);
  assertClose(steps[1].loss as number, Math.log(2), { rtol: 1e-6 });
  assert.equal(typeof steps[2]["mass/para"], "number");
  assert.equal(typeof steps[2]["mass/other_0"], "number");
  const massRows = await readJsonl(`${dir}/run/mass.jsonl`);
  // At step 0: 3 tracked pairs x (chosen, rejected, para, other_0).
  assert.equal(massRows.filter((r) => r.step === 0).length, 3 * 4);
  assert.notEqual(steps[2]["mass/para_delta"], 0);
  assert.equal([...Deno.readDirSync(`${dir}/cache`)].length, 1);
  const saved = await loadCausalLM(`${dir}/run/model`);
  assert.equal(saved.vocabSize, 300);
  saved.dispose();
});

Deno.test("lab import-trl: converts the sample trainer_state.json into a run directory", async () => {
  const out = await Deno.makeTempDir();
  assert.equal(await importTrlCommand([SAMPLE, "--out", out]), 0);
  const run = await readRun(out);
  assert.equal(run.source, "dpo-lab");
  assert.equal(run.steps.length, 12);
  assert.equal(run.evals.length, 3);
  assert.equal(run.steps[0]["rewards/chosen"], 0.010507502168534761);
  assert.equal(run.summary.train_runtime, 412.5177);
  await assert.rejects(importTrlCommand([SAMPLE]), /usage: lab import-trl/);
});

Deno.test("lab train: unpaired KTO data trains a causal LM; step 1 loss is 1/2 (policy = reference, z0 = 0)", async () => {
  const dir = await Deno.makeTempDir();
  const model = createGPT2(
    { vocab_size: 300, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2 },
    {
      seed: 2,
    },
  );
  await saveCausalLM(model, `${dir}/model`, { tokenizerFrom: TOKENIZER });
  model.dispose();
  const config = parseTrainConfig({
    model: { dir: `${dir}/model` },
    data: { file: `${root}tests/fixtures/data/unpaired.jsonl`, unpaired: true },
    objective: { name: "kto", params: { beta: 0.1 } },
    optimizer: { name: "sgd" },
    lr: 0.1,
    batchSize: 4,
    steps: 2,
    out: `${dir}/run`,
    saveModel: false,
  }, "kto.json");
  await runConfig(config, { quiet: true });
  const steps = await readJsonl(`${dir}/run/steps.jsonl`);
  assert.deepEqual(steps.map((s) => s.step), [1, 2]);
  assertClose(steps[0].loss as number, 0.5, { rtol: 1e-6 });
  assert.equal(steps[0].kl, 0);
  assert.notEqual(steps[1].loss, 0.5);
  assert.throws(
    () => parseTrainConfig({ ...toyConfig("o"), data: { file: "x", unpaired: true } }, "k.json"),
    /field 'data\.unpaired' is for causal LMs/,
  );
});
