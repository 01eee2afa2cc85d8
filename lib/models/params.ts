/**
 * Parameter counting.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

/**
 * Number of scalar parameters in a model's trainable variables.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "./gpt2.ts";
 * import { parameterCount } from "./params.ts";
 * const m = createGPT2({ vocab_size: 10, n_positions: 4, n_embd: 8, n_layer: 1, n_head: 2 });
 * console.log(parameterCount(m)); // 1000
 * m.dispose();
 * ```
 */
export function parameterCount(model: { variables(): tf.Variable[] }): number {
  return model.variables().reduce((s, v) => s + v.size, 0);
}
