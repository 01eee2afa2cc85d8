/**
 * {@link runConfig}: run a validated `lab train` configuration, on a toy model or a causal LM.
 *
 * @module
 */
import type { TrainConfig, TrainResult } from "../../lib/train/mod.ts";
import { type RunConfigOptions, runContext } from "./train_context.ts";
import { runToy } from "./train_toy.ts";
import { runCausalLM } from "./train_lm.ts";

export type { RunConfigOptions } from "./train_context.ts";

/**
 * Run a validated configuration (see `config.ts`): builds the model, data, objective and
 * trackers, trains to `config.out`, and (causal LMs) saves the final model to `<out>/model`.
 *
 * @example
 * ```ts ignore
 * const result = await runConfig(parseTrainConfig(json, "run.json"), { steps: 10 });
 * console.log(result.summary.train_loss);
 * ```
 */
export async function runConfig(
  config: TrainConfig,
  opts: RunConfigOptions = {},
): Promise<TrainResult> {
  const run = await runContext(config, opts);
  const model = run.cfg.model;
  return "toy" in model ? await runToy(run, model.toy) : await runCausalLM(run, model.dir);
}
