/**
 * Internal entry of `lib/train`, for `tools/` only: run-folder ownership, checkpoint folder names and fault injection,
 * which the CLI needs and a notebook does not. Not public API: `lib/mod.ts` and
 * `lib/train/mod.ts` never re-export these names (tests/api_surface_test.ts checks it), and they
 * may change without notice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { faultCallbacks } from "./internal.ts";
 * // Without DPO_LAB_KILL_AT in the environment, fault injection adds no callbacks.
 * assert.deepEqual(faultCallbacks(), []);
 * ```
 *
 * @module
 */
export { checkpointName } from "./checkpoint.ts";
export { faultCallbacks } from "./fault.ts";
export { registerRunFile, RUN_MARKER } from "./run_dir.ts";
