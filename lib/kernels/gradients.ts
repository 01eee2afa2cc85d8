/**
 * Registers TensorFlow.js's gradient functions (side-effect module).
 *
 * `@tensorflow/tfjs-core`'s Node bundle, the one Deno loads, ships no gradients: they live in
 * `dist/register_all_gradients.js`, an ES module whose extensionless relative imports Deno's
 * npm resolver rejects. The `@tensorflow/tfjs` union bundle inlines them and registers them
 * into the same tfjs-core instance, so importing it once makes `tf.grads`, `tf.valueAndGrads`
 * and optimizers work on every backend.
 *
 * @example
 * ```ts
 * import "./gradients.ts";
 * import * as tf from "@tensorflow/tfjs-core";
 * const g = tf.grad((x: tf.Tensor) => tf.square(x))(tf.scalar(3));
 * console.log(g.dataSync()[0]); // 6
 * ```
 *
 * @module
 */
import "@tensorflow/tfjs";
