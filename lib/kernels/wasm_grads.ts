/**
 * Kernels the tfjs `wasm` backend lacks for training (registered on demand).
 *
 * @module
 */

/** Register the kernels `wasm` needs for a transformer training step; idempotent. */
export function registerWasmGradients(): void {
  // Filled in by the wasm-kernels work (issue #2 item 6).
}
