/**
 * Process environment fixes applied before any command runs (see `lib/runtime_env.ts`).
 *
 * @module
 */
export { ensureRuntimeDir } from "../lib/runtime_env.ts";
