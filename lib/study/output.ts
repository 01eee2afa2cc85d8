/**
 * Output flushing for notebook cells under the Deno kernel.
 *
 * @module
 */

/**
 * Wait so the Deno kernel sends what the cell printed before the cell reports it finished (it
 * sends console output asynchronously, and a cell ending right after printing can lose its last
 * lines). End every printing cell with `await lab.flushOutput()`.
 *
 * @example
 * ```ts
 * import { flushOutput } from "./output.ts";
 * console.log("done");
 * await flushOutput(10);
 * ```
 */
export function flushOutput(ms = 500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
