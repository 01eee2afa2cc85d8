/**
 * Export a finished pretraining run: measure it (held-out loss next to the unigram baseline,
 * sampled continuations), then write the Hugging Face folder with its model card and log.
 *
 * @module
 */
import { saveCausalLM } from "../../lib/models/mod.ts";
import type { BackendReport } from "../../lib/backend.ts";
import { evalWindows } from "./data.ts";
import { evaluate, type PretrainResult, unigramBaseline } from "./train.ts";
import { generate } from "./sample.ts";
import { renderCard } from "./card.ts";
import type { PretrainReport } from "./report.ts";
import { STUDY_WORDS, TOKENIZER_BUILD_FILE } from "./tokenizer.ts";

/** Prompts whose continuations the model card shows. */
export const CARD_PROMPTS: readonly string[] = [
  "The jury said",
  "She looked at him and",
  '"Do you really think so?" he asked.',
  "In the morning, the",
  "The results of the experiment",
];

/** Options of {@link exportPretrained}. */
export interface ExportOptions {
  /** The run folder (`tokenizer/`, `log.jsonl`). */
  runDir: string;
  /** Where the Hugging Face folder is written. */
  modelDir: string;
  /** The backend the run used, for the card. */
  backend: BackendReport;
  /** The command that reproduces the run, for the card. */
  command?: string;
}

/**
 * Measure a finished run and write `modelDir`: `config.json`, `model.safetensors`,
 * `tokenizer.json`, `tokenizer_config.json`, `README.md` (the card), `pretrain_report.json`
 * and `pretrain_log.jsonl` (every 10th step, every evaluation).
 *
 * @example
 * ```ts ignore
 * const result = await pretrain({ steps: 800 }, "out/pretrain/run");
 * const report = await exportPretrained(result, {
 *   runDir: "out/pretrain/run",
 *   modelDir: "data/models/tiny",
 *   backend,
 * });
 * console.log(report.heldOut.perplexity, report.unigram.perplexity);
 * ```
 */
export async function exportPretrained(
  result: PretrainResult,
  opts: ExportOptions,
): Promise<PretrainReport> {
  const { runDir, modelDir } = opts;
  const { model, data, config } = result;
  const windows = evalWindows(data.heldOut, config.seqLen);
  const heldOut = await evaluate(model, windows);
  const unigram = unigramBaseline(data, windows);
  const sampling = { maxNewTokens: 40, temperature: 0.8, topK: 40, seed: config.seed };
  const samples = [];
  for (const prompt of CARD_PROMPTS) {
    const { text } = await generate(model, data.tokenizer, prompt, sampling);
    samples.push({ prompt, continuation: text });
  }
  await saveCausalLM(model, modelDir, {
    tokenizerFrom: `${runDir}/tokenizer`,
    extraConfig: { bos_token_id: data.tokenizer.eosId, eos_token_id: data.tokenizer.eosId },
  });
  const logLines = (await Deno.readTextFile(`${runDir}/log.jsonl`)).split("\n")
    .filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  const trainLines = logLines.filter((r) => "loss" in r);
  const kept = logLines.filter((r) =>
    "eval_loss" in r || r.step % 10 === 0 || r.step === 1 || r.step === result.step
  );
  await Deno.writeTextFile(
    `${modelDir}/pretrain_log.jsonl`,
    kept.map((r) => JSON.stringify(r) + "\n").join(""),
  );
  const parameters = [...model.namedVariables().values()].reduce((n, v) => n + v.size, 0);
  const studyWordIds: Record<string, number> = {};
  for (const w of STUDY_WORDS) {
    for (const form of [w, " " + w]) {
      const ids = data.tokenizer.encode(form);
      if (ids.length !== 1) throw new RangeError(`study word ${JSON.stringify(form)} is ${ids}`);
      studyWordIds[form] = ids[0];
    }
  }
  const b = opts.backend;
  const build = JSON.parse(await Deno.readTextFile(`${runDir}/tokenizer/${TOKENIZER_BUILD_FILE}`));
  const report: PretrainReport = {
    config,
    parameters,
    sizeBytes: (await Deno.stat(`${modelDir}/model.safetensors`)).size,
    steps: result.step,
    trainSeconds: Math.round(result.trainSeconds),
    tokensSeen: result.step * config.batchSize * config.seqLen,
    trainTokens: data.train.length,
    heldOutTokens: data.heldOut.length,
    heldOutDocs: data.heldOutDocs,
    heldOut,
    unigram,
    firstLoss: trainLines[0]?.loss ?? NaN,
    finalLoss: trainLines[trainLines.length - 1]?.loss ?? NaN,
    curve: lossCurve(logLines, Math.max(1, Math.round(result.step / 12))),
    tokenizer: {
      learnedMerges: build.learnedMerges,
      addedMerges: build.addedMerges.length,
      eosId: data.tokenizer.eosId,
    },
    command: opts.command ?? "",
    studyWordIds,
    backend: {
      name: b.name,
      adapter: b.adapter,
      hardware: b.hardware,
      softwareFallback: b.softwareFallback,
      host: b.host,
      versions: b.versions,
    },
    samples,
    sampling,
    exportedAt: new Date().toISOString(),
  };
  await Deno.writeTextFile(
    `${modelDir}/pretrain_report.json`,
    JSON.stringify(report, null, 2) + "\n",
  );
  await Deno.writeTextFile(`${modelDir}/README.md`, renderCard(report));
  return report;
}

/** Block means of the training loss (blocks of `every` steps) joined with evaluations. */
function lossCurve(
  lines: Record<string, number>[],
  every: number,
): { step: number; trainLoss: number; evalLoss?: number }[] {
  const out: { step: number; trainLoss: number; evalLoss?: number }[] = [];
  const evals = new Map(lines.filter((r) => "eval_loss" in r).map((r) => [r.step, r.eval_loss]));
  let sum = 0, n = 0;
  for (const r of lines) {
    if (!("loss" in r)) continue;
    sum += r.loss;
    n++;
    if (r.step % every === 0 || evals.has(r.step)) {
      out.push({ step: r.step, trainLoss: sum / n, evalLoss: evals.get(r.step) });
      sum = 0;
      n = 0;
    }
  }
  return out;
}
