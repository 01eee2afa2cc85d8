/**
 * Running statistics of stateful objectives, kept on the device.
 *
 * An objective's `loss()` is synchronous and runs inside a gradient tape, and
 * tfjs-backend-webgpu under Deno cannot read tensors synchronously; so statistics carried from
 * one call to the next (BCO's running mean, α-DPO's EMAs) stay tensors, updated with tensor ops,
 * and are never read back to JavaScript.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * A float32 scalar kept on the device across calls (a non-trainable `tf.Variable`, so tidy
 * scopes do not free it and optimizers do not train it), starting from `initial`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { DeviceScalar } from "./state.ts";
 * const mean = new DeviceScalar(0);
 * tf.tidy(() => mean.set(tf.add(mean.value(), 2)));
 * console.log((await mean.value().data())[0]); // 2
 * mean.reset();
 * console.log((await mean.value().data())[0]); // 0
 * ```
 */
export class DeviceScalar {
  #v: tf.Variable | undefined;
  readonly initial: number;

  constructor(initial = 0) {
    this.initial = initial;
  }

  /**
   * The current value as a new tensor (owned by the caller's tidy scope). A copy, so a later
   * {@link set} does not change tensors already used in a taped computation.
   */
  value(): tf.Scalar {
    return this.#v ? tf.clone(this.#v) as tf.Scalar : tf.scalar(this.initial);
  }

  /** Store a new value; pass a tensor computed from detached inputs (its gradient is not kept). */
  set(next: tf.Tensor): void {
    if (next.size !== 1) {
      throw new RangeError(`DeviceScalar.set: expected one value, got shape [${next.shape}]`);
    }
    const t = tf.tidy(() => tf.reshape(tf.cast(next, "float32"), []));
    if (this.#v) this.#v.assign(t);
    else this.#v = tf.variable(t, false);
    t.dispose();
  }

  /** The current value read back (`null` before the first {@link set}): for checkpoints. */
  async read(): Promise<number | null> {
    return this.#v ? (await this.#v.data())[0]! : null;
  }

  /** Restore a value {@link read} returned (`null`: back to `initial`). */
  load(v: number | null): void {
    if (v === null) this.reset();
    else tf.tidy(() => this.set(tf.scalar(v)));
  }

  /** Back to `initial`; frees the device memory. */
  reset(): void {
    this.#v?.dispose();
    this.#v = undefined;
  }
}
