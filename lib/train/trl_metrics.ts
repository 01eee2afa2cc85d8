/**
 * The trainer's built-in `trl_metrics` callback: the two TRL record keys that need state across
 * steps or come from the schedule rather than from the pairs.
 *
 * - `learning_rate`: the learning rate the step's update used. Hugging Face `Trainer` logs
 *   `_get_learning_rate()` read after `optimizer.step()` and before `lr_scheduler.step()`
 *   ("get learning rate before update", transformers `trainer.py`), i.e. the same value as our
 *   `lr` (kept under both names so TRL plots and ours read the same key).
 * - `num_tokens`: TRL's running total of the attention-mask sum of every row the policy was run
 *   on during training (`DPOTrainer._compute_loss`: `self._total_train_tokens +=
 *   attention_mask.sum()`); prompt and completion tokens of chosen and rejected rows. Needs a
 *   scorer that reports `tokenStats` (the causal-LM and toy scorers do). The total is part of
 *   the checkpoint, so a resumed run continues it.
 *
 * `entropy`, `mean_token_accuracy` and `logits/*` are per-step values computed with the other
 * pair metrics (`metrics.ts`, `token_stats.ts`).
 *
 * @module
 */
import type { TrainCallback } from "./callbacks.ts";

/**
 * The `trl_metrics` callback (the trainer adds it to every run).
 *
 * @example
 * ```ts
 * import { trlMetricsCallback } from "./trl_metrics.ts";
 * const cb = trlMetricsCallback();
 * const pairs = { tokenStats: { inputTokens: [5, 7] } };
 * const step = (lr: number) => cb.onStepEnd!({ lr, pairs } as never);
 * console.log(step(0.1), step(0.05));
 * // { learning_rate: 0.1, num_tokens: 12 } { learning_rate: 0.05, num_tokens: 24 }
 * ```
 */
export function trlMetricsCallback(): TrainCallback {
  let total = 0;
  return {
    name: "trl_metrics",
    onStepEnd(ctx) {
      const out: Record<string, number> = { learning_rate: ctx.lr };
      const tokens = ctx.pairs.tokenStats?.inputTokens;
      if (tokens) {
        for (const x of tokens) total += x;
        out.num_tokens = total;
      }
      return out;
    },
    saveState: () => ({ numTokens: total }),
    loadState(state) {
      const n = (state as { numTokens?: unknown })?.numTokens;
      if (typeof n !== "number") throw new TypeError(`trl_metrics state has no numTokens`);
      total = n;
    },
  };
}
