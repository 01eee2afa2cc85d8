/**
 * SGDPO through `lab train` on a causal LM (per-token policy and reference scores from the
 * model): a run resumed from an earlier checkpoint reproduces the uninterrupted run's records,
 * pilot draws included.
 */
import assert from "node:assert/strict";
import { useCpu } from "../helpers.ts";
import { parseTrainConfig } from "../../lib/train/config.ts";
import { runConfig } from "../../tools/commands/train.ts";
import { readJsonl } from "../../lib/train/records.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { saveCausalLM } from "../../lib/models/checkpoint.ts";

await useCpu();

const root = new URL("../../", import.meta.url).pathname;
const TOKENIZER = `${root}tests/fixtures/data/tiny_tokenizer`;

Deno.test("lab train sgdpo: resume from the step-2 checkpoint equals the uninterrupted run", async () => {
  const dir = await Deno.makeTempDir();
  const model = createGPT2(
    { vocab_size: 300, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2 },
    { seed: 0 },
  );
  await saveCausalLM(model, `${dir}/model`, { tokenizerFrom: TOKENIZER });
  model.dispose();
  const rows = [
    { prompt: "Is it cold?", chosen: " Yes it is very cold.", rejected: " No." },
    { prompt: "Where did he go?", chosen: " To the market.", rejected: " Home, I think." },
    { prompt: "Who is there?", chosen: " A friend.", rejected: " Nobody at all today." },
    { prompt: "What now?", chosen: " We wait.", rejected: " Run away fast." },
  ];
  await Deno.writeTextFile(`${dir}/pairs.jsonl`, rows.map((r) => JSON.stringify(r)).join("\n"));
  const config = (out: string, resume = false) =>
    parseTrainConfig({
      model: { dir: `${dir}/model` },
      data: { file: `${dir}/pairs.jsonl` },
      objective: { name: "sgdpo", params: { beta: 0.5, seed: 7 } },
      optimizer: { name: "adamw", weightDecay: 0 },
      lr: 0.02,
      batchSize: 4,
      steps: 4,
      out,
      checkpointEvery: 2,
      threads: 1,
      resume,
    }, "sgdpo.json");
  await runConfig(config(`${dir}/full`), { quiet: true });
  await runConfig(config(`${dir}/cut`), { quiet: true });
  // Interrupt after the fact: drop the last checkpoint and records, as a kill after step 2 would.
  await Deno.remove(`${dir}/cut/checkpoints/step-000004`, { recursive: true });
  const state = JSON.parse(
    await Deno.readTextFile(`${dir}/cut/checkpoints/step-000002/state.json`),
  );
  assert.equal(state.objective.calls, 2, "the draw counter is in the checkpoint");
  await runConfig(config(`${dir}/cut`, true), { quiet: true });
  const clean = (rs: Record<string, unknown>[]) =>
    rs.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.includes("time"))));
  const full = clean(await readJsonl(`${dir}/full/steps.jsonl`));
  const cut = clean(await readJsonl(`${dir}/cut/steps.jsonl`));
  assert.deepEqual(cut.map((r) => r.step), [1, 2, 3, 4]);
  assert.deepEqual(cut, full);
  assert.ok(full.every((r) => typeof r.pilotChosen === "number"));
});
