/**
 * Issue 12, "nothing lost, nothing silent": each case a tester found (a run deleting files it did
 * not write, rows dropped without a word, resumes trusting changed inputs, outputs overwritten,
 * over-long rows, non-finite numbers as null, unparsed NaN, signals) through the commands a user
 * runs. Each of these failed on the code before the fix.
 */
import assert from "node:assert/strict";
import { snapshot, TOY_TRAIN_PAIRS as TOY_PAIRS, toyTrainConfig, useCpu } from "../helpers.ts";
import { importTrlCommand, trainCommand } from "../../tools/commands/train.ts";
import { parseTrainerState, readJsonl, readRun } from "../../lib/train/records.ts";
import { chesCommand } from "../../tools/commands/ches.ts";
import { dataCommand } from "../../tools/commands/data.ts";
import { objectivesCommand } from "../../tools/commands/objectives.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { saveCausalLM } from "../../lib/models/checkpoint.ts";

await useCpu();

const root = new URL("../../", import.meta.url).pathname;
const SAMPLE = `${root}data/runs/trl_sample/trainer_state.json`;
const TOKENIZER = `${root}tests/fixtures/data/tiny_tokenizer`;

/** Run `fn` with console.log/error captured; returns its result and the printed text. */
async function captured<T>(
  fn: () => Promise<T>,
): Promise<{ value?: T; error?: Error; out: string }> {
  const lines: string[] = [];
  const [log, err] = [console.log, console.error];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { value: await fn(), out: lines.join("\n") };
  } catch (e) {
    return { error: e as Error, out: lines.join("\n") };
  } finally {
    [console.log, console.error] = [log, err];
  }
}

async function toyConfig(dir: string, patch: Record<string, unknown> = {}): Promise<string> {
  const cfg = toyTrainConfig(`${dir}/run`, patch);
  const path = `${dir}/cfg-${crypto.randomUUID().slice(0, 6)}.json`;
  await Deno.writeTextFile(path, JSON.stringify(cfg));
  return path;
}

const ROWS = [
  { prompt: "Is it cold?", chosen: " Yes it is.", rejected: " No." },
  { prompt: "Where did he go?", chosen: " To the market.", rejected: " Home." },
  { prompt: "Who is there?", chosen: " A friend.", rejected: " Nobody at all." },
  { prompt: "What is it?", chosen: " A cat.", rejected: " A dog." },
];
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + "\n").join("");

/** A tiny GPT-2 (context 48) with the test tokenizer, its data and a config writer. */
/** `lab train --config cfg --quiet` in a child process, its stderr piped. */
function spawnTrain(cfg: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}tools/cli.ts`, "train", "--config", cfg, "--quiet"],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/**
 * Runs `lab train --config cfg` in a child process and sends it SIGINT 300 ms after `ready()`
 * first holds (a throw counts as not yet; at most two minutes): its exit code, stderr and how
 * long it took to stop after the signal.
 */
async function interruptedTrain(
  cfg: string,
  ready: () => boolean,
): Promise<{ code: number; err: string; stopMs: number }> {
  const child = spawnTrain(cfg);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      if (ready()) break;
    } catch { /* not yet */ }
  }
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  child.kill("SIGINT");
  const out = await child.output();
  return { code: out.code, err: new TextDecoder().decode(out.stderr), stopMs: Date.now() - t0 };
}

async function lmSetup() {
  const dir = await Deno.makeTempDir();
  const model = createGPT2(
    { vocab_size: 300, n_positions: 48, n_embd: 16, n_layer: 1, n_head: 2 },
    { seed: 0 },
  );
  await saveCausalLM(model, `${dir}/model`, { tokenizerFrom: TOKENIZER });
  model.dispose();
  await Deno.writeTextFile(`${dir}/pairs.jsonl`, jsonl(ROWS));
  const config = async (patch: Record<string, unknown> = {}) => {
    const path = `${dir}/lm-${crypto.randomUUID().slice(0, 6)}.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        model: { dir: `${dir}/model` },
        data: { file: `${dir}/pairs.jsonl` },
        objective: { name: "dpo", params: { beta: 0.1 } },
        optimizer: { name: "sgd" },
        lr: 0.1,
        batchSize: 2,
        steps: 4,
        out: `${dir}/run`,
        checkpointEvery: 2,
        saveModel: false,
        backend: "cpu",
        ...patch,
      }),
    );
    return path;
  };
  return { dir, config };
}

Deno.test("case 1: a run refuses a folder of the user's files and changes none of them", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/pairs.jsonl`, jsonl(TOY_PAIRS));
  await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
  const before = snapshot(dir);
  const cfg = await toyConfig(await Deno.makeTempDir(), {
    out: dir,
    data: { file: `${dir}/pairs.jsonl` },
  });
  const r = await captured(() => trainCommand(["--config", cfg, "--quiet"]));
  assert.match(String(r.error?.message), /not empty and not a dpo-lab run folder/);
  assert.deepEqual(snapshot(dir), before);
  assert.equal(Deno.readTextFileSync(`${dir}/pairs.jsonl`), jsonl(TOY_PAIRS));
});

Deno.test("case 1: --resume with no checkpoint is an error, not a fresh start over the user's files", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/run`);
  await Deno.writeTextFile(`${dir}/run/mine.jsonl`, '{"a":1}\n');
  const cfg = await toyConfig(dir);
  const r = await captured(() => trainCommand(["--config", cfg, "--quiet", "--resume"]));
  assert.match(String(r.error?.message), /cannot resume|nothing to resume|no complete checkpoint/);
  assert.deepEqual(snapshot(`${dir}/run`), { "mine.jsonl": '{"a":1}\n' });
  // A run of ours without a complete checkpoint: also an error.
  const cfg2 = await toyConfig(dir, { out: `${dir}/run2`, checkpointEvery: 0 });
  await captured(() => trainCommand(["--config", cfg2, "--quiet"]));
  await Deno.remove(`${dir}/run2/checkpoints`, { recursive: true });
  const r2 = await captured(() => trainCommand(["--config", cfg2, "--quiet", "--resume"]));
  assert.match(String(r2.error?.message), /no complete checkpoint to resume from/);
});

Deno.test("case 1: a finished run is replaced only with --overwrite, which removes only its own files", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = await toyConfig(dir);
  assert.equal((await captured(() => trainCommand(["--config", cfg, "--quiet"]))).value, 0);
  await Deno.writeTextFile(`${dir}/run/analysis.jsonl`, '{"mine":1}\n');
  const r = await captured(() => trainCommand(["--config", cfg, "--quiet", "--steps", "3"]));
  assert.match(String(r.error?.message), /holds a previous run \(completed, step 6\).*--overwrite/);
  assert.equal((await readRun(`${dir}/run`)).steps.at(-1)?.step, 6); // untouched
  const r2 = await captured(() =>
    trainCommand(["--config", cfg, "--quiet", "--steps", "3", "--overwrite"])
  );
  assert.equal(r2.value, 0, String(r2.error?.message));
  assert.equal((await readRun(`${dir}/run`)).steps.at(-1)?.step, 3);
  assert.equal(Deno.readTextFileSync(`${dir}/run/analysis.jsonl`), '{"mine":1}\n');
  assert.deepEqual(
    [...Deno.readDirSync(`${dir}/run/checkpoints`)].map((e) => e.name).sort(),
    ["step-000002", "step-000003"],
  );
});

Deno.test("case 2: lab train refuses invalid rows (file:line:field) unless --skip-invalid, which lists them", async () => {
  const { dir, config } = await lmSetup();
  const lines = ROWS.map((r) => JSON.stringify(r));
  lines[2] = JSON.stringify({ prompt: "x", chosen: 3, rejected: " y" });
  await Deno.writeTextFile(`${dir}/bad.jsonl`, lines.join("\n") + "\n");
  const cfg = await config({ data: { file: `${dir}/bad.jsonl` }, steps: 1, checkpointEvery: 0 });
  const r = await captured(() => trainCommand(["--config", cfg, "--quiet"]));
  assert.match(String(r.error?.message), /bad\.jsonl:3: field 'chosen'.*--skip-invalid/s);
  await assert.rejects(Deno.stat(`${dir}/run`), Deno.errors.NotFound); // stopped before writing
  const ok = await captured(() => trainCommand(["--config", cfg, "--quiet", "--skip-invalid"]));
  assert.equal(ok.value, 0, String(ok.error?.message));
  assert.match(ok.out, /skipped 1 invalid row of .*bad\.jsonl/);
  assert.match(ok.out, /skipped: .*bad\.jsonl:3: field 'chosen'/);
});

Deno.test("case 3: resume stops when the data changed; a half-written checkpoint is set aside with a note", async () => {
  const { dir, config } = await lmSetup();
  const cfg = await config();
  assert.equal((await captured(() => trainCommand(["--config", cfg, "--quiet"]))).value, 0);
  // Same size, chosen and rejected swapped.
  await Deno.remove(`${dir}/run/checkpoints/step-000004`, { recursive: true });
  const original = Deno.readTextFileSync(`${dir}/pairs.jsonl`);
  const swapped = ROWS.map((r) => ({ ...r, chosen: r.rejected, rejected: r.chosen }));
  await Deno.writeTextFile(`${dir}/pairs.jsonl`, jsonl(swapped));
  const r = await captured(() => trainCommand(["--config", cfg, "--quiet", "--resume"]));
  assert.match(String(r.error?.message), /the data file changed since the checkpoint/);
  await Deno.writeTextFile(`${dir}/pairs.jsonl`, original);
  // A kill mid-save leaves step-000004.tmp-*: ignored with a note, resumed from step 2.
  await Deno.mkdir(`${dir}/run/checkpoints/step-000004.tmp-0badc0de`);
  await Deno.writeTextFile(
    `${dir}/run/checkpoints/step-000004.tmp-0badc0de/weights.safetensors`,
    "x",
  );
  const ok = await captured(() => trainCommand(["--config", cfg, "--quiet", "--resume"]));
  assert.equal(ok.value, 0, String(ok.error?.message));
  assert.match(ok.out, /ignoring .*step-000004\.tmp-0badc0de: an incomplete checkpoint/);
  assert.deepEqual((await readJsonl(`${dir}/run/steps.jsonl`)).map((s) => s.step), [1, 2, 3, 4]);
  // Only temporary checkpoints: an error, never a silent restart from step 0.
  for (const e of [...Deno.readDirSync(`${dir}/run/checkpoints`)]) {
    await Deno.rename(`${dir}/run/checkpoints/${e.name}`, `${dir}/run/checkpoints/${e.name}.tmp-1`);
  }
  const none = await captured(() => trainCommand(["--config", cfg, "--quiet", "--resume"]));
  assert.match(String(none.error?.message), /no complete checkpoint to resume from/);
  assert.deepEqual((await readJsonl(`${dir}/run/steps.jsonl`)).map((s) => s.step), [1, 2, 3, 4]);
});

Deno.test("case 4: lab ches --out refuses an existing file without --force and creates missing folders", async () => {
  const { dir } = await lmSetup();
  await Deno.writeTextFile(`${dir}/ches.jsonl`, "precious\n");
  const args = ["--model", `${dir}/model`, "--data", `${dir}/pairs.jsonl`, "--backend", "cpu"];
  const r = await captured(() => chesCommand([...args, "--out", `${dir}/ches.jsonl`]));
  assert.match(String(r.error?.message), /ches\.jsonl: exists; pass --force/);
  assert.equal(Deno.readTextFileSync(`${dir}/ches.jsonl`), "precious\n");
  const f = await captured(() => chesCommand([...args, "--out", `${dir}/ches.jsonl`, "--force"]));
  assert.equal(f.value, 0, String(f.error?.message));
  assert.equal((await readJsonl(`${dir}/ches.jsonl`)).length, 4);
  const deep = `${dir}/new/sub/ches.jsonl`;
  const d = await captured(() => chesCommand([...args, "--out", deep]));
  assert.equal(d.value, 0, String(d.error?.message));
  assert.equal((await readJsonl(deep)).length, 4);
  assert.deepEqual([...Deno.readDirSync(`${dir}/new/sub`)].map((e) => e.name), ["ches.jsonl"]);
});

Deno.test("case 4: import-trl into an existing run is refused; --force replaces it without leftovers", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = await toyConfig(dir);
  await captured(() => trainCommand(["--config", cfg, "--quiet"]));
  const r = await captured(() => importTrlCommand([SAMPLE, "--out", `${dir}/run`]));
  assert.match(String(r.error?.message), /holds a previous run.*pass --force/);
  assert.equal((await readRun(`${dir}/run`)).steps.at(-1)?.step, 6);
  const f = await captured(() => importTrlCommand([SAMPLE, "--out", `${dir}/run`, "--force"]));
  assert.equal(f.value, 0, String(f.error?.message));
  const names = [...Deno.readDirSync(`${dir}/run`)].map((e) => e.name).sort();
  assert.ok(!names.includes("checkpoints") && !names.includes("status.json"), names.join());
  assert.equal((await readRun(`${dir}/run`)).steps.length, 12);
  // A folder of other files: refused, untouched.
  await Deno.mkdir(`${dir}/mine`);
  await Deno.writeTextFile(`${dir}/mine/a.txt`, "a");
  const m = await captured(() => importTrlCommand([SAMPLE, "--out", `${dir}/mine`, "--force"]));
  assert.match(String(m.error?.message), /not a dpo-lab run folder/);
  assert.deepEqual(snapshot(`${dir}/mine`), { "a.txt": "a" });
});

Deno.test("case 5: over-long rows are counted by data check and stop training before it starts", async () => {
  const { dir, config } = await lmSetup();
  const long = { prompt: "word ".repeat(60), chosen: " yes", rejected: " no" };
  await Deno.writeTextFile(`${dir}/long.jsonl`, jsonl([...ROWS, long]));
  const c = await captured(() =>
    dataCommand(["check", `${dir}/long.jsonl`, "--tokenizer", `${dir}/model`])
  );
  assert.match(c.out, /1 longer than the model's context \(48 tokens\)/);
  assert.match(c.out, /too long: .*long\.jsonl:5: \d+ tokens > the model's context 48/);
  const cfg = await config({ data: { file: `${dir}/long.jsonl` } });
  const r = await captured(() => trainCommand(["--config", cfg, "--quiet"]));
  assert.match(
    String(r.error?.message),
    /long\.jsonl:5: \d+ tokens .*context of 48.*tokenize.*maxLength/,
  );
  await assert.rejects(Deno.stat(`${dir}/run`), Deno.errors.NotFound);
});

Deno.test("case 6: objectives eval reports a non-finite loss or weight as an error naming the row", async () => {
  const dir = await Deno.makeTempDir();
  const row = { ref_chosen: 0, ref_rejected: 0, chosen_length: 1, rejected_length: 1 };
  await Deno.writeTextFile(
    `${dir}/rows.json`,
    JSON.stringify([
      { ...row, policy_chosen: -1, policy_rejected: -2 },
      { ...row, policy_chosen: -1e30, policy_rejected: 1e30 },
    ]),
  );
  const r = await captured(() =>
    objectivesCommand(["eval", "--objective", "ipo", "--input", `${dir}/rows.json`])
  );
  assert.equal(r.value, 1);
  assert.match(r.out, /row\[1\].*non-finite loss/);
  assert.doesNotMatch(r.out, /null/);
});

Deno.test("case 6: NaN and Infinity in a trainer_state.json are read; a syntax error names its line", () => {
  const run = parseTrainerState(
    '{"log_history": [\n {"step": 1, "loss": NaN, "grad_norm": Infinity},\n' +
      ' {"step": 2, "loss": 0.5, "grad_norm": -Infinity}\n]}',
    "state.json",
  );
  assert.ok(Number.isNaN(run.steps[0].loss));
  assert.equal(run.steps[0].grad_norm, Infinity);
  assert.equal(run.steps[1].grad_norm, -Infinity);
  assert.throws(
    () => parseTrainerState('{"log_history": [\n {"step": 1},\n {"step": }\n]}', "state.json"),
    /state\.json: not JSON at line 3, column 11/,
  );
});

Deno.test("case 7: a KTO file names the --unpaired flag; an unknown objective names the config file", async () => {
  const kto = await captured(() =>
    dataCommand(["check", `${root}tests/fixtures/data/unpaired.jsonl`])
  );
  assert.match(`${kto.error?.message}\n${kto.out}`, /lab data check --unpaired/);
  const dir = await Deno.makeTempDir();
  const cfg = await toyConfig(dir, { objective: { name: "dpoo" } });
  const r = await captured(() => trainCommand(["--config", cfg, "--quiet"]));
  assert.ok(r.error?.message.startsWith(`${cfg}: field 'objective'`), String(r.error?.message));
});

Deno.test("case 7: SIGINT ends a run cleanly: status says interrupted at step N, checkpoint written, exit 130", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = await toyConfig(dir, { steps: 100000, checkpointEvery: 0, keepCheckpoints: 1 });
  const child = spawnTrain(cfg);
  // Wait until some steps are recorded, then interrupt.
  const deadline = Date.now() + 60_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    let n = 0;
    try {
      n = Deno.readTextFileSync(`${dir}/run/steps.jsonl`).split("\n").length - 1;
    } catch { /* not yet */ }
    if (n >= 5 || Date.now() > deadline) break;
  }
  child.kill("SIGINT");
  const out = await child.output();
  assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
  const status = JSON.parse(Deno.readTextFileSync(`${dir}/run/status.json`));
  assert.equal(status.state, "interrupted");
  assert.match(status.message, new RegExp(`interrupted at step ${status.step} by SIGINT`));
  const steps = await readJsonl(`${dir}/run/steps.jsonl`);
  assert.equal(steps.at(-1)?.step, status.step);
  assert.ok(Deno.statSync(`${dir}/run/checkpoints/step-${String(status.step).padStart(6, "0")}`));
});

Deno.test("case 7: SIGINT during the reference precompute stops it at once: status interrupted at step 0, exit 130", async () => {
  const { dir, config } = await lmSetup();
  // Enough pairs that the precompute runs for seconds (4000 forward passes of 2 pairs).
  const many = Array.from({ length: 2000 }, () => ROWS).flat();
  await Deno.writeTextFile(`${dir}/many.jsonl`, jsonl(many));
  const cfg = await config({ data: { file: `${dir}/many.jsonl` }, steps: 2 });
  // The run folder is claimed (its marker written) just before the precompute starts.
  const { code, err, stopMs } = await interruptedTrain(
    cfg,
    () => Deno.statSync(`${dir}/run/.dpo-lab-run.json`).isFile,
  );
  assert.equal(code, 130, err);
  assert.ok(stopMs < 20_000, "stopped between precompute batches, not after them");
  assert.match(err, /interrupted by SIGINT before the first step/);
  const status = JSON.parse(Deno.readTextFileSync(`${dir}/run/status.json`));
  assert.equal(status.state, "interrupted");
  assert.equal(status.step, 0);
  assert.match(status.message, /no checkpoint yet: rerun with --overwrite/);
});

Deno.test("case 5: a row tokenization would drop is refused (file:line, the settings) unless --skip-invalid", async () => {
  const { dir, config } = await lmSetup();
  const long = { prompt: "word ".repeat(30), chosen: " yes", rejected: " no" };
  await Deno.writeTextFile(`${dir}/long.jsonl`, jsonl([...ROWS, long]));
  const cfg = await config({ data: { file: `${dir}/long.jsonl` }, tokenize: { maxLength: 16 } });
  const r = await captured(() => trainCommand(["--config", cfg, "--quiet"]));
  assert.match(String(r.error?.message), /long\.jsonl:5: .*maxLength 16/);
  assert.match(String(r.error?.message), /tokenize\.maxPromptLength.*--skip-invalid/s);
  await assert.rejects(Deno.stat(`${dir}/run`), Deno.errors.NotFound);
  const s = await captured(() => trainCommand(["--config", cfg, "--quiet", "--skip-invalid"]));
  assert.equal(s.value, 0, String(s.error));
  assert.match(s.out, /lab train: skipped .*long\.jsonl:5: /);
});

Deno.test("data check: a duplicated pair is named with the line it repeats (a warning; the row is kept)", async () => {
  const dir = await Deno.makeTempDir();
  // Line 4 repeats line 2 with a different id: same prompt and responses.
  const rows = [ROWS[0], { ...ROWS[1], id: "a" }, ROWS[2], { ...ROWS[1], id: "b" }];
  await Deno.writeTextFile(`${dir}/dup.jsonl`, jsonl(rows));
  const c = await captured(() => dataCommand(["check", `${dir}/dup.jsonl`]));
  assert.equal(c.value, 0);
  assert.match(c.out, /warning: .*dup\.jsonl:4: duplicate of line 2/);
  assert.match(c.out, /4 valid rows .* 1 warnings/);
});

Deno.test("analyse-checkpoints --force never deletes a folder of the user's files", async () => {
  const { dir, config } = await lmSetup();
  assert.equal(await trainCommand(["--config", await config(), "--quiet"]), 0);
  await Deno.mkdir(`${dir}/mine`);
  await Deno.writeTextFile(`${dir}/mine/thesis.tex`, "three years of work");
  await Deno.writeTextFile(`${dir}/mine/steps.jsonl`, '{"step": 1}\n');
  const before = snapshot(`${dir}/mine`);
  const { analyseCheckpointsCommand } = await import(
    "../../tools/commands/analyse_checkpoints.ts"
  );
  const args = ["--run", `${dir}/run`, "--data", `${dir}/pairs.jsonl`, "--backend", "cpu"];
  const r = await captured(() =>
    analyseCheckpointsCommand([...args, "--out", `${dir}/mine`, "--force"])
  );
  assert.match(String(r.error?.message), /mine: holds files .* \(thesis\.tex\)/);
  assert.deepEqual(snapshot(`${dir}/mine`), before);
  // An earlier analysis of ours is replaced with --force.
  assert.equal(await analyseCheckpointsCommand([...args, "--out", `${dir}/an`]), 0);
  assert.equal(await analyseCheckpointsCommand([...args, "--out", `${dir}/an`, "--force"]), 0);
});

Deno.test("case 7: SIGINT during an evaluation stops it at once; no checkpoint skips that evaluation", async () => {
  const { dir, config } = await lmSetup();
  const many = Array.from({ length: 2000 }, () => ROWS).flat();
  await Deno.writeTextFile(`${dir}/many.jsonl`, jsonl(many));
  // A long evaluation at step 2 (7,200 pairs, policy and reference model), checkpoints every step.
  const cfg = await config({
    data: { file: `${dir}/many.jsonl` },
    steps: 3,
    checkpointEvery: 1,
    reference: { kind: "model" },
    eval: { fraction: 0.9, every: 2 },
  });
  const { code, err, stopMs } = await interruptedTrain(
    cfg,
    () => /"step":2,/.test(Deno.readTextFileSync(`${dir}/run/steps.jsonl`)),
  );
  assert.equal(code, 130, err);
  assert.ok(stopMs < 20_000, "stopped between evaluation batches");
  assert.match(err, /evaluation at step 2 cut short/);
  const status = JSON.parse(Deno.readTextFileSync(`${dir}/run/status.json`));
  assert.deepEqual([status.state, status.step], ["interrupted", 2]);
  assert.match(status.message, /--resume repeats the steps since the last complete checkpoint/);
  assert.deepEqual(
    [...Deno.readDirSync(`${dir}/run/checkpoints`)].map((e) => e.name),
    ["step-000001"],
  );
  assert.equal(Deno.readTextFileSync(`${dir}/run/evals.jsonl`), "");
});
