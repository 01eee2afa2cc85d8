/**
 * `lab analyse-checkpoints` on checkpoints the project writes in TRL's layout (`checkpoint-N/`
 * with `trainer_state.json`, made by `trlLayoutCallback` during a real training run here) and on
 * a dpo-lab run directory. Log-probs and CHES are recomputed independently from full-vocabulary
 * logits and hidden states in float64; displacement from those.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { handChes } from "./fixtures.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { loadCausalLM, saveCausalLM } from "../../lib/models/checkpoint.ts";
import type { CausalLM } from "../../lib/models/types.ts";
import { loadTokenizer } from "../../lib/data/tokenizer.ts";
import { loadPreferenceFile } from "../../lib/data/load.ts";
import { tokenizePairs } from "../../lib/data/tokenize.ts";
import type { TokenizedPair } from "../../lib/data/types.ts";
import { lmScorer } from "../../lib/scoring/lm.ts";
import { preferenceData } from "../../lib/train/train_data.ts";
import { train } from "../../lib/train/trainer.ts";
import { dpo } from "../../lib/objectives/mod.ts";
import { trlLayoutCallback } from "../../lib/train/trl_layout.ts";
import { readJsonl, readRun } from "../../lib/train/records.ts";
import { runConfig } from "../../tools/commands/train.ts";
import { parseTrainConfig } from "../../lib/train/config.ts";
import { analyseCheckpointsCommand } from "../../tools/commands/analyse_checkpoints.ts";
import { findCheckpoints } from "../../lib/analysis/checkpoint_series.ts";

await useCpu();

const root = new URL("../../", import.meta.url).pathname;
const TOKENIZER = `${root}tests/fixtures/data/tiny_tokenizer`;
const DATA = `${root}tests/fixtures/data/standard.jsonl`;

async function baseModel(dir: string): Promise<void> {
  const model = createGPT2(
    { vocab_size: 300, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2 },
    { seed: 7 },
  );
  await saveCausalLM(model, dir, { tokenizerFrom: TOKENIZER });
  model.dispose();
}

async function tokenized(): Promise<TokenizedPair[]> {
  const tok = await loadTokenizer(TOKENIZER);
  return tokenizePairs((await loadPreferenceFile(DATA)).rows, tok, { maxLength: 64 }).pairs;
}

/** Float64 summed completion log-prob of prompt ++ completion, from the full logits. */
function logpByHand(model: CausalLM, prompt: number[], completion: number[]): number {
  const ids = [...prompt, ...completion];
  const z = tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], "int32")).logits);
  const v = model.vocabSize, all = z.dataSync();
  z.dispose();
  let total = 0;
  for (let k = 0; k < completion.length; k++) {
    const row = Array.from(all.subarray((prompt.length + k - 1) * v, (prompt.length + k) * v));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    total += row[completion[k]] - lse;
  }
  return total;
}

Deno.test("analyse-checkpoints: TRL layout checkpoints, values recomputed by hand", async () => {
  const tmp = await Deno.makeTempDir();
  await baseModel(`${tmp}/base`);
  const pairs = await tokenized();
  const model = await loadCausalLM(`${tmp}/base`);
  const run = `${tmp}/trl_out`;
  try {
    await train({
      policy: lmScorer(model),
      data: preferenceData(pairs, { padId: 0 }),
      objective: dpo({ beta: 0.1 }),
      optimizer: { name: "adam" },
      lr: 0.01,
      batchSize: 2,
      maxSteps: 4,
      progress: false,
      callbacks: [
        trlLayoutCallback({ dir: run, model, every: 2, tokenizerFrom: TOKENIZER }),
      ],
    });
  } finally {
    model.dispose();
  }
  const state = JSON.parse(await Deno.readTextFile(`${run}/checkpoint-4/trainer_state.json`));
  assert.equal(state.global_step, 4);
  assert.deepEqual(state.log_history.map((e: { step: number }) => e.step), [1, 2, 3, 4]);
  assert.equal(typeof state.log_history[0].entropy, "number");

  const probes = `${tmp}/probes.jsonl`;
  await Deno.writeTextFile(
    probes,
    '{"pair": 0, "label": "para", "response": "Yes!", "good": true}\n' +
      '{"pair": 2, "label": "other", "response": "Blue."}\n',
  );
  const out = `${tmp}/analysis`;
  const args = ["--run", run, "--data", DATA, "--probes", probes, "--out", out, "--backend", "cpu"];
  assert.equal(await analyseCheckpointsCommand(args), 0);

  type MassRow = { step: number; prompt: number; label: string; logp: number };
  const mass = await readJsonl<MassRow>(`${out}/mass.jsonl`);
  const disp = await readJsonl<Record<string, number | boolean | string>>(
    `${out}/displacement.jsonl`,
  );
  const ches = await readJsonl<{ step: number; pair: number; ches: number }>(`${out}/ches.jsonl`);
  assert.deepEqual([...new Set(mass.map((r) => r.step))], [2, 4]);
  const byHand: Record<number, Map<number, number>> = {};
  for (const step of [2, 4]) {
    const m = await loadCausalLM(`${run}/checkpoint-${step}`);
    try {
      byHand[step] = new Map();
      for (const p of pairs) {
        const lc = logpByHand(m, p.promptIds, p.chosenIds);
        const lr = logpByHand(m, p.promptIds, p.rejectedIds);
        byHand[step].set(p.index, lc);
        const row = (label: string) =>
          mass.find((r) => r.step === step && r.prompt === p.index && r.label === label)!;
        assertClose(row("chosen").logp, lc, { rtol: 1e-4, atol: 1e-4 });
        assertClose(row("rejected").logp, lr, { rtol: 1e-4, atol: 1e-4 });
        const c = ches.find((r) => r.step === step && r.pair === p.index)!;
        assertClose(c.ches, handChes(m, p), { rtol: 1e-4, atol: 1e-3 });
      }
    } finally {
      m.dispose();
    }
  }
  // Displacement against the first checkpoint (step 2), from the hand log-probs.
  for (const p of pairs) {
    const d = disp.find((r) => r.step === 4 && r.pair === p.index)!;
    const change = byHand[4].get(p.index)! - byHand[2].get(p.index)!;
    assertClose(d.change as number, change, { rtol: 1e-3, atol: 1e-4 });
    assert.equal(d.displaced, (d.current as number) < (d.initial as number));
  }
  // The good probe labels pair 0's displacement; the probes' rows carry their labels.
  const d0 = disp.find((r) => r.step === 4 && r.pair === pairs[0].index)!;
  assert.ok(
    d0.displaced ? ["benign", "catastrophic"].includes(d0.kind as string) : d0.kind === "none",
  );
  assert.equal(mass.filter((r) => r.label === "para").length, 2);
  // The folder reads as a run; rewriting it needs --force.
  const back = await readRun(out);
  assert.deepEqual(back.steps.map((s) => s.step), [2, 4]);
  await assert.rejects(() => analyseCheckpointsCommand(args), /already exists \(use --force/);
  assert.equal(await analyseCheckpointsCommand([...args, "--force"]), 0);
  assert.deepEqual(await readJsonl(`${out}/mass.jsonl`), mass);
  const left = [...Deno.readDirSync(tmp)].map((e) => e.name).filter((n) => n.includes(".tmp-"));
  assert.deepEqual(left, []);
});

Deno.test("analyse-checkpoints: a dpo-lab run directory (base model = step 0, trainer checkpoints)", async () => {
  const tmp = await Deno.makeTempDir();
  await baseModel(`${tmp}/base`);
  const cfg = parseTrainConfig({
    model: { dir: `${tmp}/base` },
    data: { file: DATA },
    objective: { name: "dpo", params: { beta: 0.1 } },
    optimizer: { name: "adam" },
    lr: 0.01,
    batchSize: 2,
    steps: 3,
    checkpointEvery: 2,
    keepCheckpoints: 5,
    out: `${tmp}/run`,
  }, "run.json");
  await runConfig(cfg, { quiet: true });
  const series = await findCheckpoints(`${tmp}/run`);
  assert.equal(series.source, "dpo-lab");
  assert.deepEqual(series.checkpoints.map((c) => c.step), [0, 2, 3]);
  // Step 3's trainer checkpoint (weights applied to the base) equals the saved final model.
  const pairs = await tokenized();
  const a = await series.checkpoints[2].load(), b = await loadCausalLM(`${tmp}/run/model`);
  try {
    for (const p of pairs) {
      assertClose(
        logpByHand(a, p.promptIds, p.chosenIds),
        logpByHand(b, p.promptIds, p.chosenIds),
        { rtol: 0, atol: 1e-9 },
      );
    }
  } finally {
    a.dispose();
    b.dispose();
  }
  await assert.rejects(() => findCheckpoints(`${tmp}/base`), /no checkpoints/);
});

Deno.test("analyse-checkpoints: --help documents every option; bad arguments and probes are named", async () => {
  const { parseAnalyseArgs, parseProbeLines } = await import(
    "../../tools/commands/analyse_checkpoints.ts"
  );
  const printed: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => printed.push(xs.join(" "));
  try {
    assert.equal(await analyseCheckpointsCommand(["--help"]), 0);
  } finally {
    console.log = log;
  }
  const help = printed.join("\n");
  for (
    const flag of [
      "--run",
      "--data",
      "--probes",
      "--out",
      "--force",
      "--batch-size",
      "--max-length",
      "--tokenizer",
      "--backend",
    ]
  ) {
    assert.match(help, new RegExp(`\\n  ${flag} `), flag);
  }
  assert.throws(() => parseAnalyseArgs(["--data", "d"]), /--run is required/);
  assert.throws(
    () => parseAnalyseArgs(["--run", "r", "--data", "d", "--nope"]),
    /unknown argument '--nope'/,
  );
  assert.throws(
    () => parseAnalyseArgs(["--run", "r", "--data", "d", "--batch-size", "0"]),
    /--batch-size must be an integer >= 1, got '0'/,
  );
  assert.throws(
    () =>
      parseProbeLines('{"pair": 0, "label": "p", "response": "x"}\n{"pair": 5}\n', "p.jsonl", 3),
    /^RangeError: p\.jsonl:2: field 'pair' must be a row index in \[0, 3\)/,
  );
  assert.throws(
    () => parseProbeLines('{"pair": 0, "label": "chosen", "response": "x"}', "p.jsonl", 3),
    /p\.jsonl:1: field 'label' 'chosen' is reserved/,
  );
  assert.throws(
    () => parseProbeLines('{"pair": 0, "label": "a", "response": "x", "good": 1}', "p.jsonl", 3),
    /p\.jsonl:1: field 'good' must be true or false/,
  );
});
