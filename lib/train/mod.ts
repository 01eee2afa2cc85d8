/**
 * train: the preference-training loop, its optimizers, run records, callbacks and trackers.
 *
 * @module
 */
export * from "./types.ts";
export * from "./callbacks.ts";
export * from "./train_data.ts";
export * from "./optimizers.ts";
export * from "./schedule.ts";
export * from "./metrics.ts";
export * from "./records.ts";
export * from "./checkpoint.ts";
export * from "./ref_cache.ts";
export * from "./trackers.ts";
export * from "./progress.ts";
export * from "./trainer.ts";
