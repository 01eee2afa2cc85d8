/**
 * `lab train` on a causal LM (`model.dir`): the model and tokenizer loaded from the folder, paired
 * or unpaired (KTO-style) data tokenized and checked against the model's context, the mass
 * tracker's probe responses, and the trained model saved to `<out>/model`.
 *
 * @module
 */
import { collateProbes } from "../../lib/data/mod.ts";
import { loadPreferenceFile, loadUnpairedFile } from "../../lib/data/mod.ts";
import { probeRowsFromPairs } from "../../lib/data/mod.ts";
import { tokenizePairs, tokenizeProbes, tokenizeUnpaired } from "../../lib/data/mod.ts";
import { loadTokenizer } from "../../lib/data/mod.ts";
import type { KtoBatch, PreferenceBatch, PreferenceRow } from "../../lib/data/mod.ts";
import { loadCausalLM, saveCausalLM } from "../../lib/models/mod.ts";
import type { CausalLM } from "../../lib/models/mod.ts";
import type { MassTrackerConfig, TrainCallback, TrainResult } from "../../lib/train/mod.ts";
import { preferenceData, train, unpairedData } from "../../lib/train/mod.ts";
import { lmScorer, lmUnpairedScorer, probeSet } from "../../lib/scoring/mod.ts";
import { isParallelScorer, parallelLMScorer } from "../../lib/scoring/mod.ts";
import { registerRunFile } from "../../lib/train/internal.ts";
import { rowLengths } from "../../lib/data/mod.ts";
import { probabilityMassTracker } from "../../lib/analysis/mod.ts";
import type { PreferenceScorer, TrainData } from "../../lib/core/mod.ts";
import {
  modelContext,
  refuseInvalidRows,
  refuseOverLong,
  reportTokenizeSkips,
} from "./train_guard.ts";
import {
  extraCallbacks,
  type RunContext,
  splitForEval,
  trackedPositions,
} from "./train_context.ts";

type Tokenizer = Awaited<ReturnType<typeof loadTokenizer>>;

/** A loaded causal LM run: the folder, its tokenizer and the policy model. */
interface LoadedLM {
  run: RunContext;
  dir: string;
  file: string;
  tokenizer: Tokenizer;
  policyModel: CausalLM;
}

/**
 * Train the causal LM in `modelDir` (relative to `run.opts.baseDir`) as `run` configures it;
 * the models are disposed afterwards, and the trained one saved unless the config says not to.
 *
 * @example
 * ```ts ignore
 * const run = await runContext(config, {});
 * const result = await runCausalLM(run, config.model.dir);
 * ```
 */
export async function runCausalLM(run: RunContext, modelDir: string): Promise<TrainResult> {
  const { cfg } = run;
  const dir = run.resolve(modelDir);
  const tokenizer = await loadTokenizer(dir);
  const policyModel = await loadCausalLM(dir);
  const models: { ref?: CausalLM; disposePolicy?: () => void } = {};
  try {
    const file = run.resolve((cfg.data as { file: string }).file);
    const lm: LoadedLM = { run, dir, file, tokenizer, policyModel };
    return (cfg.data as { unpaired?: boolean }).unpaired
      ? await trainUnpaired(lm, models)
      : await trainPaired(lm, models);
  } finally {
    models.disposePolicy?.();
    policyModel.dispose();
    models.ref?.dispose();
  }
}

async function trainUnpaired(
  lm: LoadedLM,
  models: { ref?: CausalLM },
): Promise<TrainResult> {
  const { run, dir, file, tokenizer } = lm;
  const { cfg, opts, log } = run;
  if (cfg.trackers?.some((t) => t.name === "mass")) {
    throw new TypeError(`field 'trackers': the mass tracker needs paired data`);
  }
  const loadedRows = await loadUnpairedFile(file);
  refuseInvalidRows(file, loadedRows.errors, opts.skipInvalid ?? false, log);
  const tokU = tokenizeUnpaired(loadedRows.rows, tokenizer, cfg.tokenize ?? {});
  const { examples } = tokU;
  reportTokenizeSkips(file, tokU.skippedRows, log, opts.skipInvalid);
  const ctxU = await modelContext(dir);
  if (ctxU !== undefined) refuseOverLong(file, rowLengths(examples), ctxU);
  if (examples.length === 0) {
    throw new RangeError(`${file}: no example left after tokenization`);
  }
  const { train: trainData, evaluation } = splitForEval(
    run,
    unpairedData(examples, { padId: tokenizer.padId }),
  );
  if (cfg.reference?.kind === "model") models.ref = await loadCausalLM(dir);
  const result = await train({
    ...run.common,
    policy: lmUnpairedScorer(lm.policyModel) as PreferenceScorer<KtoBatch, unknown>,
    callbacks: extraCallbacks(run),
    data: trainData,
    evalData: evaluation,
    reference: models.ref
      ? {
        kind: "model",
        scorer: lmUnpairedScorer(models.ref) as PreferenceScorer<KtoBatch, unknown>,
      }
      : cfg.reference?.kind === "precompute"
      ? { kind: "precompute", cacheDir: cfg.reference.cacheDir }
      : undefined,
  });
  await saveTrained(lm, result);
  return result;
}

async function trainPaired(
  lm: LoadedLM,
  models: { ref?: CausalLM; disposePolicy?: () => void },
): Promise<TrainResult> {
  const { run, dir, file, tokenizer } = lm;
  const { cfg, opts, log, objective, needsTokens } = run;
  const loaded = await loadPreferenceFile(file);
  refuseInvalidRows(file, loaded.errors, opts.skipInvalid ?? false, log);
  const tok = tokenizePairs(loaded.rows, tokenizer, cfg.tokenize ?? {});
  reportTokenizeSkips(file, tok.skippedRows, log, opts.skipInvalid);
  const context = await modelContext(dir);
  if (context !== undefined) refuseOverLong(file, rowLengths(tok.pairs), context);
  if (tok.pairs.length === 0) throw new RangeError(`${file}: no pair left after tokenization`);
  const data = preferenceData(tok.pairs, { padId: tokenizer.padId });
  const { train: trainData, evaluation } = splitForEval(run, data);
  const policy = cfg.threads === 2
    ? await parallelLMScorer(lm.policyModel, { tokens: needsTokens })
    : lmScorer(lm.policyModel, { tokens: needsTokens });
  models.disposePolicy = isParallelScorer(policy) ? () => policy.dispose() : undefined;
  const callbacks: TrainCallback<PreferenceBatch>[] = extraCallbacks(run);
  for (const t of cfg.trackers ?? []) {
    if (t.name === "mass") callbacks.push(lmMassTracker(lm, t, loaded.rows, trainData));
  }
  // Per-token reference log-probs (SGDPO, LD-DPO with a reference) come from a frozen model:
  // the precomputed cache holds sequence sums only.
  const tokenRef = needsTokens && objective.needsReference;
  if (cfg.reference?.kind === "model" || tokenRef) models.ref = await loadCausalLM(dir);
  const result = await train({
    ...run.common,
    policy: policy as PreferenceScorer<PreferenceBatch, unknown>,
    data: trainData,
    evalData: evaluation,
    reference: models.ref
      ? { kind: "model", scorer: lmScorer(models.ref, { tokens: tokenRef, stats: false }) }
      : cfg.reference?.kind === "precompute"
      ? { kind: "precompute", cacheDir: cfg.reference.cacheDir }
      : undefined,
    callbacks,
  });
  await saveTrained(lm, result);
  return result;
}

/** The mass tracker of `t`, with probe responses from the file when the config names any. */
function lmMassTracker(
  lm: LoadedLM,
  t: MassTrackerConfig,
  rows: PreferenceRow[],
  trainData: TrainData<PreferenceBatch>,
): TrainCallback<PreferenceBatch> {
  const { cfg, seed } = lm.run;
  const positions = trackedPositions(t, trainData.size);
  let probes;
  if (t.probeFields?.length || t.otherAnswers) {
    // Other answers are drawn from the whole file; probes are kept for the tracked pairs.
    const wanted = new Set(positions.map((p) => trainData.pairIndex!(p)));
    const probeRows = probeRowsFromPairs(rows, {
      ownPair: false,
      fields: t.probeFields ?? [],
      otherAnswers: t.otherAnswers ?? 0,
      seed,
    }).filter((r) => wanted.has(r.index) && r.responses.length > 0);
    if (probeRows.length === 0) {
      throw new TypeError(
        `${lm.file}: no tracked pair has a probe response (fields ${t.probeFields?.join(", ")})`,
      );
    }
    const { probes: tp } = tokenizeProbes(probeRows, lm.tokenizer, cfg.tokenize ?? {});
    probes = probeSet(collateProbes(tp, lm.tokenizer.padId));
  }
  return probabilityMassTracker({ every: t.every, positions, probes });
}

/** Save the trained policy to `<out>/model` unless the config says not to or the run stopped. */
async function saveTrained(lm: LoadedLM, result: TrainResult): Promise<void> {
  const outDir = lm.run.common.outDir;
  if (lm.run.cfg.saveModel !== false && !result.stopped) {
    registerRunFile(outDir, "model");
    await saveCausalLM(lm.policyModel, `${outDir}/model`, { tokenizerFrom: lm.dir });
  }
}
