import assert from "node:assert/strict";
import {
  parseTrainerState,
  readJsonl,
  readRun,
  RunWriter,
  writeRun,
} from "../../lib/train/records.ts";

const SAMPLE = new URL("../../data/runs/trl_sample/trainer_state.json", import.meta.url).pathname;

Deno.test("records: the TRL sample trainer_state.json maps into train, eval and summary records", async () => {
  const run = await readRun(SAMPLE);
  assert.equal(run.source, "trl");
  // 60 steps, logging every 5, eval every 20: 12 train entries, 3 eval entries, 1 summary.
  assert.equal(run.steps.length, 12);
  assert.equal(run.evals.length, 3);
  assert.deepEqual(run.steps.map((s) => s.step), [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
  assert.deepEqual(run.evals.map((s) => s.step), [20, 40, 60]);
  // Values read straight from the file's text for the first entries.
  const first = run.steps[0];
  assert.equal(first["rewards/chosen"], 0.010507502168534761);
  assert.equal(first["rewards/margins"], 0.1476182453049457);
  assert.equal(first.lr, 4.166666666666666e-07);
  assert.equal(first.learning_rate, 4.166666666666666e-07); // TRL's name is kept next to lr
  assert.equal(first.epoch, 0.08333333333333333);
  assert.ok(typeof first.grad_norm === "number" && typeof first.loss === "number");
  const ev = run.evals[2];
  assert.equal(ev["rewards/chosen"], -0.35021010955866394);
  assert.equal(ev["rewards/margins"], 0.9011351772863582);
  assert.equal(ev.runtime, 4.2085);
  assert.equal(ev["eval_rewards/chosen"], undefined);
  assert.equal(run.summary.train_runtime, 412.5177);
  assert.equal(run.summary.train_loss, 0.5615263669424826);
  assert.equal(run.config.global_step, 60);
  assert.equal(run.config.log_history, undefined);
  // Every train entry has TRL's DPO keys.
  for (const s of run.steps) {
    for (const k of ["loss", "rewards/accuracies", "logps/chosen", "logps/rejected"]) {
      assert.equal(typeof s[k], "number", `step ${s.step} ${k}`);
    }
  }
});

Deno.test("records: a Hugging Face output dir is read from its latest checkpoint; import round-trips", async () => {
  const out = await Deno.makeTempDir();
  await Deno.mkdir(`${out}/checkpoint-20`);
  await Deno.mkdir(`${out}/checkpoint-60`);
  await Deno.writeTextFile(
    `${out}/checkpoint-20/trainer_state.json`,
    JSON.stringify({ log_history: [{ step: 20, loss: 1 }] }),
  );
  await Deno.copyFile(SAMPLE, `${out}/checkpoint-60/trainer_state.json`);
  const run = await readRun(out);
  assert.equal(run.steps.length, 12);

  const dir = await Deno.makeTempDir();
  await writeRun(run, dir);
  const back = await readRun(dir);
  assert.equal(back.source, "dpo-lab");
  assert.deepEqual(back.steps, run.steps);
  assert.deepEqual(back.evals, run.evals);
  assert.deepEqual(back.summary, run.summary);
  assert.equal((back.config.trainer_state as Record<string, unknown>).max_steps, 60);
});

Deno.test("records: bad trainer states are rejected with the path and entry named", () => {
  assert.throws(() => parseTrainerState("{", "x.json"), /x\.json: not JSON/);
  assert.throws(() => parseTrainerState("{}", "x.json"), /x\.json: no log_history/);
  assert.throws(
    () => parseTrainerState(JSON.stringify({ log_history: [{ step: 1 }, { loss: 2 }] }), "y.json"),
    /y\.json: log_history\[1\]\.step/,
  );
});

Deno.test("records: RunWriter appends flushed lines; resume drops lines after the checkpoint step", async () => {
  const dir = await Deno.makeTempDir();
  const w = await RunWriter.create(dir, { config: { a: 1 } });
  for (let s = 1; s <= 5; s++) w.appendStep({ step: s, loss: s === 3 ? NaN : 1 / s });
  w.appendRows("examples", 5, [{ pair: 0 }, { pair: 1 }]);
  w.appendRows("examples", 2, [{ pair: 2 }]);
  assert.throws(() => w.appendRows("../x", 1, [{}]), /bad row file name/);
  const lines = await readJsonl(`${dir}/steps.jsonl`);
  assert.equal(lines.length, 5);
  assert.equal(lines[2].loss, null); // NaN is written as null
  await RunWriter.create(dir, { config: {}, resumeStep: 3 });
  assert.deepEqual((await readJsonl(`${dir}/steps.jsonl`)).map((l) => l.step), [1, 2, 3]);
  assert.deepEqual((await readJsonl(`${dir}/examples.jsonl`)).map((l) => l.pair), [2]);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/config.json`)), { a: 1 });
  // A fresh start clears old records.
  await RunWriter.create(dir, { config: { b: 2 } });
  assert.equal((await Deno.readTextFile(`${dir}/steps.jsonl`)).length, 0);
  await assert.rejects(Deno.stat(`${dir}/examples.jsonl`), Deno.errors.NotFound);
});

Deno.test("records: readJsonl ignores a torn last line but reports a bad middle line", async () => {
  const path = await Deno.makeTempFile();
  await Deno.writeTextFile(path, '{"step":1}\n{"step":2}\n{"step":3, "lo');
  assert.equal((await readJsonl(path)).length, 2);
  await Deno.writeTextFile(path, '{"step":1}\n{"step":2\n{"step":3}\n');
  await assert.rejects(readJsonl(path), (e) => e instanceof SyntaxError && /:2: /.test(e.message));
});
