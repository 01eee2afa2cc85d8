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
 * @example Two DPO steps of a tiny GPT-2, a checkpoint after each
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { dpo } from "../objectives/mod.ts";
 * import { causalLMScorer } from "../scoring/logps.ts";
 * import { preferenceData } from "./train_data.ts";
 * import { train } from "./trainer.ts";
 * import { trlLayoutCallback } from "./trl_layout.ts";
 * const model = createGPT2({ vocab_size: 10, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const dir = await Deno.makeTempDir();
 * await train({
 *   policy: causalLMScorer(model), objective: dpo({ beta: 0.1 }), optimizer: { name: "sgd" },
 *   data: preferenceData([{ index: 0, promptIds: [1], chosenIds: [2], rejectedIds: [3] }], { padId: 0 }),
 *   lr: 0.1, batchSize: 1, maxSteps: 2, progress: false,
 *   callbacks: [trlLayoutCallback({ dir, model, every: 1 })],
 * });
 * console.log([...Deno.readDirSync(dir)].map((e) => e.name).sort()); // ["checkpoint-1", "checkpoint-2"]
 * model.dispose();
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
