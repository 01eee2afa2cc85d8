/**
 * train: the preference-training loop, its optimizers, run records, callbacks and trackers.
 *
 * @module
 */
export * from "./types.ts";
export * from "./callbacks.ts";
export * from "./train_data.ts";
