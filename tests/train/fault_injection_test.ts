/**
 * Fault injection: a small training is killed (SIGKILL, through `DPO_LAB_KILL_AT`, see
 * lib/train/fault.ts) at seeded random points — after an update before its record is written,
 * and halfway through writing a checkpoint — several times, resumed each time, and must end with
 * the same records and weights as an uninterrupted run, without changing any file outside its
 * run folder.
 */
import assert from "node:assert/strict";
import { useCpu } from "../helpers.ts";
import { trainCommand } from "../../tools/commands/train.ts";
import { readJsonl } from "../../lib/train/records.ts";
import { mulberry32 } from "../../lib/core/rng.ts";

await useCpu();

const root = new URL("../../", import.meta.url).pathname;

const PAIRS = [
  { prompt: "x0", chosen: "No", rejected: "Never" },
  { prompt: "x1", chosen: "Yes", rejected: "No" },
  { prompt: "x0", chosen: "Maybe", rejected: "No" },
  { prompt: "x1", chosen: "Yes", rejected: "Never" },
  { prompt: "x0", chosen: "No", rejected: "Yes" },
];

function config(dir: string, out: string): Record<string, unknown> {
  return {
    model: {
      toy: { kind: "unconstrained", tokens: ["Yes", "No", "Never", "Maybe"], prompts: 2, dim: 3 },
    },
    data: { file: `${dir}/pairs.jsonl` },
    objective: { name: "dpo", params: { beta: 0.1 } },
    optimizer: { name: "adamw", weightDecay: 0.01 },
    lr: 0.05,
    schedule: { kind: "cosine", warmupSteps: 2 },
    batchSize: 2,
    steps: 18,
    seed: 7,
    out,
    checkpointEvery: 3,
    keepCheckpoints: 2,
    eval: { fraction: 0.4, every: 6 },
    backend: "cpu",
  };
}

/** Files under `dir` (recursively) with their bytes as text, skipping `skip` (a sub-folder). */
function snapshot(dir: string, skip?: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of Deno.readDirSync(dir)) {
    const rel = `${prefix}${e.name}`;
    if (rel === skip) continue;
    if (e.isDirectory) Object.assign(out, snapshot(`${dir}/${e.name}`, skip, `${rel}/`));
    else out[rel] = Deno.readTextFileSync(`${dir}/${e.name}`);
  }
  return out;
}

const TIME_KEYS = new Set(["time_s", "step_time_s"]);
const SUMMARY_TIME = /runtime|per_second/;

async function records(run: string) {
  const strip = (rows: Record<string, unknown>[]) =>
    rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIME_KEYS.has(k))));
  const summary = JSON.parse(Deno.readTextFileSync(`${run}/summary.json`));
  return {
    steps: strip(await readJsonl(`${run}/steps.jsonl`)),
    evals: strip(await readJsonl(`${run}/evals.jsonl`)),
    examples: await readJsonl(`${run}/examples.jsonl`),
    summary: Object.fromEntries(Object.entries(summary).filter(([k]) => !SUMMARY_TIME.test(k))),
    weights: Deno.readFileSync(`${run}/checkpoints/step-000018/weights.safetensors`),
  };
}

async function cli(args: string[], killAt?: string): Promise<{ code: number; err: string }> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  if (killAt) env.DPO_LAB_KILL_AT = killAt;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}tools/cli.ts`, "train", ...args],
    cwd: root,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, err: new TextDecoder().decode(out.stderr) };
}

Deno.test("fault injection: killed during steps and checkpoint writes, resumed, equals an uninterrupted run", async () => {
  const sandbox = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${sandbox}/pairs.jsonl`,
    PAIRS.map((p) => JSON.stringify(p)).join("\n"),
  );
  await Deno.writeTextFile(`${sandbox}/notes.txt`, "not the run's");
  const cfg = `${sandbox}/run.json`;
  await Deno.writeTextFile(cfg, JSON.stringify(config(sandbox, `${sandbox}/run`)));
  const refDir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${refDir}/pairs.jsonl`,
    Deno.readTextFileSync(`${sandbox}/pairs.jsonl`),
  );
  const refCfg = `${refDir}/run.json`;
  await Deno.writeTextFile(refCfg, JSON.stringify(config(refDir, `${refDir}/run`)));
  const before = snapshot(sandbox, "run");

  // The uninterrupted run (in this process, same backend).
  assert.equal(await trainCommand(["--config", refCfg, "--quiet"]), 0);

  const uniform = mulberry32(12);
  const kills: string[] = [];
  for (let i = 0; i < 5; i++) {
    kills.push(
      i % 2 === 0
        ? `step:${1 + Math.floor(uniform() * 5)}`
        : `checkpoint:${1 + Math.floor(uniform() * 2)}`,
    );
  }
  let killed = 0;
  for (const point of [...kills, undefined]) {
    const hasCheckpoint = [...readDirOrEmpty(`${sandbox}/run/checkpoints`)].some((e) =>
      /^step-\d+$/.test(e)
    );
    const started = readDirOrEmpty(`${sandbox}/run`).length > 0;
    const mode = hasCheckpoint ? ["--resume"] : started ? ["--overwrite"] : [];
    const r = await cli(["--config", cfg, "--quiet", ...mode], point);
    if (point) {
      // A point past the end of what is left of the run is never reached: the run completes.
      if (r.code === 0) break;
      assert.equal(r.code, 137, `killed at ${point}: ${r.err}`);
      killed++;
    } else {
      assert.equal(r.code, 0, r.err);
    }
  }
  assert.ok(killed >= 3, `only ${killed} kills happened (${kills.join(", ")})`);
  const got = await records(`${sandbox}/run`);
  const want = await records(`${refDir}/run`);
  assert.deepEqual(got.steps, want.steps);
  assert.deepEqual(got.evals, want.evals);
  assert.deepEqual(got.examples, want.examples);
  assert.deepEqual(got.summary, want.summary);
  assert.deepEqual(got.weights, want.weights);
  assert.deepEqual(snapshot(sandbox, "run"), before, "a file outside the run folder changed");
  assert.deepEqual(
    readDirOrEmpty(`${sandbox}/run/checkpoints`).sort(),
    ["step-000015", "step-000018"],
    "no temporary checkpoint left behind",
  );
});

function readDirOrEmpty(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}
