/**
 * Save a run made here in the folder layout TRL's `DPOTrainer` (Hugging Face `Trainer`) writes:
 * `checkpoint-N/` subfolders, each a Hugging Face model folder (`config.json`,
 * `model.safetensors`, tokenizer files) with a `trainer_state.json` whose `log_history` has one
 * entry per step under TRL's metric names. It exists so the checkpoint-series tools
 * (`lab analyse-checkpoints`) can be tested and demonstrated on TRL's layout without TRL.
 * Optimizer, scheduler and RNG files of a real TRL checkpoint are not written (nothing here
 * reads them).
 *
 * @module
 */
import { saveCausalLM } from "../models/checkpoint.ts";
import type { CausalLM } from "../models/types.ts";
import type { TrainCallback } from "./callbacks.ts";

/** Options of {@link trlLayoutCallback}. */
export interface TrlLayoutOptions {
  /** The output folder (TRL's `output_dir`); created when missing. */
  dir: string;
  /** The model being trained (its weights are saved). */
  model: CausalLM;
  /** Steps between checkpoints (TRL's `save_steps`); the last step is always saved. */
  every: number;
  /** Copy the tokenizer files from this model folder into every checkpoint. */
  tokenizerFrom?: string;
}

/** TRL's per-step log keys, copied from the step metrics when present. */
const TRL_KEYS = [
  "loss",
  "grad_norm",
  "entropy",
  "mean_token_accuracy",
  "logits/chosen",
  "logits/rejected",
  "logps/chosen",
  "logps/rejected",
  "rewards/chosen",
  "rewards/rejected",
  "rewards/accuracies",
  "rewards/margins",
];

/**
 * A trainer callback writing `checkpoint-N/` folders with `trainer_state.json` (see the module
 * docs).
 *
 * @example
 * ```ts ignore
 * await train({ policy: lmScorer(model), ...opts,
 *   callbacks: [trlLayoutCallback({ dir: "out/trl_like", model, every: 5, tokenizerFrom: "data/models/tiny" })] });
 * // out/trl_like/checkpoint-5/, checkpoint-10/, ...
 * ```
 */
export function trlLayoutCallback(opts: TrlLayoutOptions): TrainCallback {
  if (!(Number.isInteger(opts.every) && opts.every >= 1)) {
    throw new RangeError(`trlLayoutCallback every must be an integer >= 1, got ${opts.every}`);
  }
  const history: Record<string, number>[] = [];
  let tokens = 0;
  return {
    name: "trl_layout",
    async onStepEnd(ctx) {
      for (const x of ctx.pairs.tokenStats?.inputTokens ?? []) tokens += x;
      const entry: Record<string, number> = { epoch: ctx.epoch, step: ctx.step };
      entry.learning_rate = ctx.lr;
      for (const k of TRL_KEYS) if (typeof ctx.metrics[k] === "number") entry[k] = ctx.metrics[k];
      if (ctx.pairs.tokenStats) entry.num_tokens = tokens;
      history.push(entry);
      if (ctx.step % opts.every !== 0 && ctx.step !== ctx.totalSteps) return;
      const dir = `${opts.dir}/checkpoint-${ctx.step}`;
      await saveCausalLM(opts.model, dir, { tokenizerFrom: opts.tokenizerFrom });
      const state = {
        epoch: ctx.epoch,
        global_step: ctx.step,
        log_history: history,
        max_steps: ctx.totalSteps,
        save_steps: opts.every,
      };
      await Deno.writeTextFile(`${dir}/trainer_state.json`, JSON.stringify(state, null, 2));
    },
  };
}
