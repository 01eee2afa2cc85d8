/**
 * Adam with explicit, saveable state, so a pretraining run can stop and resume exactly.
 * (tfjs's own `tf.train.adam` keeps its moments private to the optimizer object and fixes the
 * learning rate at construction; pretraining needs a per-step schedule and a checkpoint.)
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Options of {@link Adam}. */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1): `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
 * `p -= lr * mhat / (sqrt(vhat) + eps)` with bias-corrected `mhat = m / (1-b1^t)`,
 * `vhat = v / (1-b2^t)`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Adam } from "./adam.ts";
 * await tf.setBackend("cpu");
 * const w = tf.variable(tf.scalar(1));
 * const opt = new Adam(new Map([["w", w]]));
 * opt.apply(new Map([["w", tf.scalar(0.5)]]), 0.1);
 * console.log(w.dataSync()[0]); // 0.9 (the first Adam step moves by lr)
 * ```
 */
export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Updates applied so far. */
  t = 0;
  readonly #params: ReadonlyMap<string, tf.Variable>;
  readonly #m = new Map<string, tf.Variable>();
  readonly #v = new Map<string, tf.Variable>();

  constructor(params: ReadonlyMap<string, tf.Variable>, opts: AdamOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
    this.#params = params;
    for (const [name, p] of params) {
      this.#m.set(name, tf.variable(tf.zerosLike(p), false));
      this.#v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /** Apply one update from gradients keyed like the parameters (missing ones are skipped). */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t, c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      for (const [name, p] of this.#params) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.#m.get(name)!, v = this.#v.get(name)!;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const step = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        p.assign(tf.sub(p, tf.mul(step, lr)));
      }
    });
  }

  /** The moments as named tensors (`m/<name>`, `v/<name>`), for a checkpoint. */
  state(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, m] of this.#m) out.set(`m/${name}`, m);
    for (const [name, v] of this.#v) out.set(`v/${name}`, v);
    return out;
  }

  /** Restore moments saved by {@link Adam.state} and the step count. */
  load(state: ReadonlyMap<string, { shape: number[]; values: Float32Array }>, t: number): void {
    for (const [prefix, table] of [["m", this.#m], ["v", this.#v]] as const) {
      for (const [name, variable] of table) {
        const s = state.get(`${prefix}/${name}`);
        if (!s) throw new RangeError(`optimizer state has no tensor '${prefix}/${name}'`);
        if (s.shape.join(",") !== variable.shape.join(",")) {
          throw new RangeError(
            `optimizer tensor '${prefix}/${name}' has shape [${s.shape}], expected [${variable.shape}]`,
          );
        }
        tf.tidy(() => variable.assign(tf.tensor(s.values, variable.shape)));
      }
    }
    this.t = t;
  }

  /** Free the moment tensors. */
  dispose(): void {
    for (const x of [...this.#m.values(), ...this.#v.values()]) x.dispose();
  }
}
