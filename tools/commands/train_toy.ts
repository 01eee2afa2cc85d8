/**
 * `lab train` on a toy model (`model.toy`): the model built from the config, pairs named by
 * prompt and token (inline or a JSONL file), and the mass tracker's toy probes.
 *
 * @module
 */
import { createLinearSoftmax, createUnconstrainedFeatures } from "../../lib/models/mod.ts";
import type { MassTrackerConfig, ReferenceOption, ToyModelConfig } from "../../lib/train/mod.ts";
import type { TrainCallback } from "../../lib/train/mod.ts";
import { toyData, train, type TrainOptions, type TrainResult } from "../../lib/train/mod.ts";
import { probabilityMassTracker } from "../../lib/analysis/mod.ts";
import type { PreferenceScorer, ToyBatch, ToyProbes, TrainData } from "../../lib/core/mod.ts";
import {
  extraCallbacks,
  type RunContext,
  splitForEval,
  trackedPositions,
} from "./train_context.ts";

type ToyModel = ReturnType<typeof buildToy>;
type ToyPair = { prompt: string | number; chosen: string | number; rejected: string | number };

/**
 * Train the toy model `spec` as `run` configures it; the models are disposed afterwards.
 *
 * @example
 * ```ts ignore
 * const run = await runContext(config, {});
 * const result = await runToy(run, config.model.toy);
 * ```
 */
export async function runToy(run: RunContext, spec: ToyModelConfig): Promise<TrainResult> {
  const { cfg, objective, seed } = run;
  if (run.needsTokens) {
    throw new TypeError(
      `field 'objective': ${objective.name} needs per-token scores; toy models have none`,
    );
  }
  const policy = buildToy(spec, seed);
  const reference = cfg.reference?.kind === "model" ? buildToy(spec, seed) : undefined;
  try {
    const rows = "pairs" in cfg.data
      ? cfg.data.pairs
      : await readToyPairs(run.resolve(cfg.data.file));
    const { train: trainData, evaluation } = splitForEval(run, toyPairData(policy, rows));
    const callbacks: TrainCallback<ToyBatch>[] = extraCallbacks(run);
    for (const t of cfg.trackers ?? []) {
      if (t.name === "mass") callbacks.push(toyMassTracker(t, policy, trainData));
    }
    const ref: ReferenceOption<ToyBatch> | undefined = reference
      ? { kind: "model", scorer: reference }
      : cfg.reference?.kind === "precompute"
      ? { kind: "precompute", cacheDir: cfg.reference.cacheDir }
      : undefined;
    const trainOpts: TrainOptions<ToyBatch> = {
      ...run.common,
      policy: policy as PreferenceScorer<ToyBatch, unknown>,
      data: trainData,
      evalData: evaluation,
      reference: ref,
      callbacks,
    };
    return await train(trainOpts);
  } finally {
    policy.dispose();
    reference?.dispose();
  }
}

function buildToy(spec: ToyModelConfig, seed: number) {
  const common = {
    tokens: spec.tokens,
    prompts: spec.prompts,
    dim: spec.dim,
    seed: spec.seed ?? seed,
  };
  return spec.kind === "unconstrained"
    ? createUnconstrainedFeatures(common)
    : createLinearSoftmax(common);
}

/** The pairs as ids of `policy`; a name it does not know is refused naming the pair and field. */
function toyPairData(policy: ToyModel, rows: ToyPair[]): TrainData<ToyBatch> {
  const where = (i: number, k: string) => `data pair ${i} field '${k}'`;
  const at = <T>(i: number, k: string, f: () => T) => {
    try {
      return f();
    } catch (e) {
      throw new RangeError(`${where(i, k)}: ${(e as Error).message}`);
    }
  };
  return toyData({
    prompt: rows.map((r, i) => at(i, "prompt", () => policy.promptId(r.prompt))),
    chosen: rows.map((r, i) => at(i, "chosen", () => policy.tokenId(r.chosen))),
    rejected: rows.map((r, i) => at(i, "rejected", () => policy.tokenId(r.rejected))),
  });
}

function toyMassTracker(
  t: MassTrackerConfig,
  policy: ToyModel,
  trainData: TrainData<ToyBatch>,
): TrainCallback<ToyBatch> {
  const probes = t.probes?.length
    ? {
      batch: {
        prompt: Int32Array.from(t.probes, (p) => policy.promptId(p.prompt)),
        token: Int32Array.from(t.probes, (p) => policy.tokenId(p.token)),
      },
      prompts: t.probes.map((p) => policy.promptId(p.prompt)),
      labels: t.probes.map((p) => p.label),
    }
    : undefined;
  return probabilityMassTracker<ToyBatch, ToyProbes>({
    every: t.every,
    positions: trackedPositions(t, trainData.size),
    probes,
  });
}

async function readToyPairs(path: string): Promise<ToyPair[]> {
  const text = await Deno.readTextFile(path);
  const rows: ToyPair[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new SyntaxError(`${path}:${i + 1}: ${(e as Error).message}`);
    }
    for (const k of ["prompt", "chosen", "rejected"]) {
      if (typeof r[k] !== "string" && typeof r[k] !== "number") {
        throw new TypeError(`${path}:${i + 1}: field '${k}' must be a token/prompt name or index`);
      }
    }
    rows.push(r as ToyPair);
  });
  if (rows.length === 0) throw new RangeError(`${path}: no pairs`);
  return rows;
}
