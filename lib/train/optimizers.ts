/**
 * Optimizers with explicit, serialisable state: SGD (momentum, Nesterov), Adam, AdamW (decoupled
 * weight decay) and RMSProp, following PyTorch's update rules and defaults so runs compare with
 * PyTorch/TRL ones. tfjs's own `tf.train.*` optimizers are not used: AdamW is missing, RMSProp
 * puts ε inside the square root, and Adam's bias-correction powers are accumulated in float32
 * in a way a restored optimizer does not reproduce — which would break exact resume. Here the
 * bias corrections are computed in float64 from the step count, and every slot is a plain f32
 * tensor saved bit-exactly in checkpoints.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedAdamUpdate } from "../kernels/cpu_adam.ts";

/** SGD: `p ← p − lr·g` with optional heavy-ball momentum (PyTorch `torch.optim.SGD`). */
export interface SgdSpec {
  name: "sgd";
  /** Momentum μ (default 0): `b ← μ·b + g`, step with `b` (or `g + μ·b` with Nesterov). */
  momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient, `g ← g + λ·p` (default 0). */
  weightDecay?: number;
}

/** Adam (`torch.optim.Adam`); `weightDecay` is the coupled L2 penalty `g ← g + λ·p`. */
export interface AdamSpec {
  name: "adam";
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8, added to `√v̂`. */
  eps?: number;
  /** Default 0. */
  weightDecay?: number;
}

/**
 * AdamW (Loshchilov & Hutter, arXiv 1711.05101; `torch.optim.AdamW`): decoupled weight decay
 * `p ← p·(1 − lr·λ)` before the Adam step.
 */
export interface AdamWSpec {
  name: "adamw";
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** λ, default 0.01 (PyTorch's default). */
  weightDecay?: number;
}

/**
 * RMSProp (`torch.optim.RMSprop`): `v ← α·v + (1−α)·g²`, `p ← p − lr·g/(√v + ε)`; the
 * likelihood-displacement experiments (Razin et al., arXiv 2410.08847) train with it.
 */
export interface RmsPropSpec {
  name: "rmsprop";
  /** Smoothing α, default 0.99. */
  alpha?: number;
  /** Default 1e-8, added to `√v` (outside the root, as PyTorch; tfjs puts it inside). */
  eps?: number;
  /** Momentum μ (default 0): `b ← μ·b + g/(√v + ε)`, `p ← p − lr·b`. */
  momentum?: number;
  /** Centered variant: divide by `√(v − ḡ²) + ε` with `ḡ` the running mean gradient. */
  centered?: boolean;
  /** Coupled L2 penalty (default 0). */
  weightDecay?: number;
}

/** Any optimizer specification. */
export type OptimizerSpec = SgdSpec | AdamSpec | AdamWSpec | RmsPropSpec;

/** The optimizer names {@link createOptimizer} accepts. */
export const OPTIMIZER_NAMES: readonly OptimizerSpec["name"][] = [
  "sgd",
  "adam",
  "adamw",
  "rmsprop",
];

/** One saved tensor: shape and f32 values. */
export interface SavedTensor {
  shape: number[];
  values: Float32Array;
}

/** Everything needed to continue an optimizer exactly. */
export interface OptimizerState {
  /** The resolved specification (every default filled in). */
  spec: Required<OptimizerSpec>;
  /** Updates applied so far. */
  steps: number;
  /** Slot tensors keyed `<variable index>/<slot>` (e.g. `0/m`, `3/v`). */
  slots: Map<string, SavedTensor>;
}

/**
 * An optimizer over a fixed list of variables. The learning rate is passed per update so a
 * schedule can drive it.
 */
export interface Optimizer {
  readonly spec: Required<OptimizerSpec>;
  /** Updates applied so far. */
  readonly steps: number;
  /** Apply one update; `grads[i]` is the gradient of `vars[i]`. Does not dispose `grads`. */
  apply(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void;
  /** A copy of the state (reads the slot tensors back). */
  state(): Promise<OptimizerState>;
  /** Restore a state saved by {@link Optimizer.state} for the same variable shapes. */
  load(state: OptimizerState, vars: readonly tf.Variable[]): void;
  /** Free the slot tensors. */
  dispose(): void;
}

/**
 * Fill in defaults and check every field of an optimizer specification.
 *
 * @example
 * ```ts
 * import { resolveOptimizerSpec } from "./optimizers.ts";
 * console.log(resolveOptimizerSpec({ name: "adamw" }).weightDecay); // 0.01
 * ```
 */
export function resolveOptimizerSpec<S extends OptimizerSpec>(
  spec: S,
): Required<Extract<OptimizerSpec, { name: S["name"] }>> {
  return resolveSpec(spec) as Required<Extract<OptimizerSpec, { name: S["name"] }>>;
}

function resolveSpec(spec: OptimizerSpec): Required<OptimizerSpec> {
  const where = "optimizer";
  if (!spec || typeof spec !== "object") throw new TypeError(`${where} must be an object`);
  const num = (k: string, v: unknown, dflt: number, ok: (x: number) => boolean, why: string) => {
    const x = v === undefined ? dflt : v;
    if (typeof x !== "number" || !Number.isFinite(x) || !ok(x)) {
      throw new RangeError(`${where}.${k} must be ${why}, got ${JSON.stringify(v)}`);
    }
    return x;
  };
  const nonNeg = (x: number) => x >= 0;
  const unit = (x: number) => x >= 0 && x < 1;
  const pos = (x: number) => x > 0;
  const bool = (k: string, v: unknown) => {
    if (v !== undefined && typeof v !== "boolean") {
      throw new TypeError(`${where}.${k} must be a boolean, got ${JSON.stringify(v)}`);
    }
    return v === true;
  };
  const known = (keys: string[]) => {
    for (const k of Object.keys(spec)) {
      if (k !== "name" && !keys.includes(k)) {
        throw new TypeError(`${where}.${k} is not a field of the ${spec.name} optimizer`);
      }
    }
  };
  const s = spec as unknown as Record<string, unknown>;
  switch (spec.name) {
    case "sgd": {
      known(["momentum", "nesterov", "weightDecay"]);
      const momentum = num("momentum", s.momentum, 0, unit, "in [0, 1)");
      const nesterov = bool("nesterov", s.nesterov);
      if (nesterov && momentum === 0) {
        throw new RangeError(`${where}.nesterov needs momentum > 0`);
      }
      const weightDecay = num("weightDecay", s.weightDecay, 0, nonNeg, "non-negative");
      return { name: "sgd", momentum, nesterov, weightDecay };
    }
    case "adam":
    case "adamw": {
      known(["beta1", "beta2", "eps", "weightDecay"]);
      return {
        name: spec.name,
        beta1: num("beta1", s.beta1, 0.9, unit, "in [0, 1)"),
        beta2: num("beta2", s.beta2, 0.999, unit, "in [0, 1)"),
        eps: num("eps", s.eps, 1e-8, pos, "positive"),
        weightDecay: num(
          "weightDecay",
          s.weightDecay,
          spec.name === "adamw" ? 0.01 : 0,
          nonNeg,
          "non-negative",
        ),
      };
    }
    case "rmsprop": {
      known(["alpha", "eps", "momentum", "centered", "weightDecay"]);
      return {
        name: "rmsprop",
        alpha: num("alpha", s.alpha, 0.99, unit, "in [0, 1)"),
        eps: num("eps", s.eps, 1e-8, pos, "positive"),
        momentum: num("momentum", s.momentum, 0, unit, "in [0, 1)"),
        centered: bool("centered", s.centered),
        weightDecay: num("weightDecay", s.weightDecay, 0, nonNeg, "non-negative"),
      };
    }
    default:
      throw new TypeError(
        `${where}.name must be one of ${OPTIMIZER_NAMES.join(", ")}, got ${
          JSON.stringify((spec as { name?: unknown }).name)
        }`,
      );
  }
}

/** Slot names each optimizer keeps per variable. */
function slotNames(spec: Required<OptimizerSpec>): string[] {
  switch (spec.name) {
    case "sgd":
      return spec.momentum > 0 ? ["momentum"] : [];
    case "adam":
    case "adamw":
      return ["m", "v"];
    case "rmsprop":
      return ["v", ...(spec.centered ? ["gavg"] : []), ...(spec.momentum > 0 ? ["momentum"] : [])];
  }
}

/**
 * Create an optimizer from its specification (see {@link OptimizerSpec} for the update rules).
 *
 * @example One SGD step by hand: p = 1, g = 2, lr = 0.1 gives 0.8
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createOptimizer } from "./optimizers.ts";
 * const p = tf.variable(tf.scalar(1));
 * const opt = createOptimizer({ name: "sgd" });
 * opt.apply([p], [tf.scalar(2)], 0.1);
 * console.log(p.dataSync()[0]); // 0.8
 * ```
 */
export function createOptimizer(spec: OptimizerSpec): Optimizer {
  return new SlotOptimizer(resolveOptimizerSpec(spec));
}

class SlotOptimizer implements Optimizer {
  readonly spec: Required<OptimizerSpec>;
  #steps = 0;
  // slots[i][name] for variable i, created lazily at the first update
  #slots: Map<string, tf.Variable>[] = [];
  readonly #names: string[];

  constructor(spec: Required<OptimizerSpec>) {
    this.spec = spec;
    this.#names = slotNames(spec);
  }

  get steps(): number {
    return this.#steps;
  }

  #ensureSlots(vars: readonly tf.Variable[]): void {
    if (this.#slots.length === 0) {
      // In a tidy: a variable shares its initial tensor's data, and that tensor, kept, would
      // hold the zeros alive after the first assign (twice the model's size for Adam).
      this.#slots = vars.map((v) =>
        new Map(this.#names.map((n) => [n, tf.tidy(() => tf.variable(tf.zerosLike(v), false))]))
      );
    }
    if (this.#slots.length !== vars.length) {
      throw new RangeError(
        `optimizer holds state for ${this.#slots.length} variables, got ${vars.length}`,
      );
    }
  }

  apply(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    if (grads.length !== vars.length) {
      throw new RangeError(`apply: ${vars.length} variables but ${grads.length} gradients`);
    }
    if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`apply: bad learning rate ${lr}`);
    this.#ensureSlots(vars);
    const t = this.#steps + 1;
    for (let i = 0; i < vars.length; i++) {
      if (!tf.util.arraysEqual(vars[i].shape, grads[i].shape)) {
        throw new RangeError(
          `apply: gradient ${i} has shape [${grads[i].shape}], variable ${vars[i].name} [${
            vars[i].shape
          }]`,
        );
      }
      tf.tidy(() => this.#update(vars[i], grads[i], this.#slots[i], lr, t));
    }
    this.#steps = t;
  }

  #update(p: tf.Variable, g0: tf.Tensor, slot: Map<string, tf.Variable>, lr: number, t: number) {
    const s = this.spec;
    let g = g0;
    switch (s.name) {
      case "sgd": {
        if (s.weightDecay > 0) g = tf.add(g, tf.mul(p, s.weightDecay));
        if (s.momentum > 0) {
          const b = slot.get("momentum")!;
          const nb = tf.add(tf.mul(b, s.momentum), g);
          b.assign(nb);
          g = s.nesterov ? tf.add(g, tf.mul(nb, s.momentum)) : nb;
        }
        p.assign(tf.sub(p, tf.mul(g, lr)));
        return;
      }
      case "adam":
      case "adamw": {
        if (this.#fusedAdam(p, g, slot, lr, t)) return;
        let q: tf.Tensor = p;
        if (s.name === "adamw") {
          if (s.weightDecay > 0) q = tf.mul(p, 1 - lr * s.weightDecay);
        } else if (s.weightDecay > 0) {
          g = tf.add(g, tf.mul(p, s.weightDecay));
        }
        const m = slot.get("m")!, v = slot.get("v")!;
        const nm = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
        const nv = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
        m.assign(nm);
        v.assign(nv);
        // Bias corrections in float64 from the step count, so a restored optimizer matches.
        const bc1 = 1 - Math.pow(s.beta1, t);
        const bc2 = 1 - Math.pow(s.beta2, t);
        const denom = tf.add(tf.div(tf.sqrt(nv), Math.sqrt(bc2)), s.eps);
        p.assign(tf.sub(q, tf.mul(tf.div(nm, denom), lr / bc1)));
        return;
      }
      case "rmsprop": {
        if (s.weightDecay > 0) g = tf.add(g, tf.mul(p, s.weightDecay));
        const v = slot.get("v")!;
        const nv = tf.add(tf.mul(v, s.alpha), tf.mul(tf.square(g), 1 - s.alpha));
        v.assign(nv);
        let avg: tf.Tensor;
        if (s.centered) {
          const ga = slot.get("gavg")!;
          const nga = tf.add(tf.mul(ga, s.alpha), tf.mul(g, 1 - s.alpha));
          ga.assign(nga);
          avg = tf.add(tf.sqrt(tf.sub(nv, tf.square(nga))), s.eps);
        } else {
          avg = tf.add(tf.sqrt(nv), s.eps);
        }
        let stepDir = tf.div(g, avg);
        if (s.momentum > 0) {
          const b = slot.get("momentum")!;
          const nb = tf.add(tf.mul(b, s.momentum), stepDir);
          b.assign(nb);
          stepDir = nb;
        }
        p.assign(tf.sub(p, tf.mul(stepDir, lr)));
        return;
      }
    }
  }

  /** The one-pass update of lib/kernels/cpu_adam.ts, where the backend registered it. */
  #fusedAdam(p: tf.Variable, g: tf.Tensor, slot: Map<string, tf.Variable>, lr: number, t: number) {
    const s = this.spec;
    if (s.name !== "adam" && s.name !== "adamw") return false;
    const m = slot.get("m")!, v = slot.get("v")!;
    const out = fusedAdamUpdate(p, g, m, v, {
      lr,
      beta1: s.beta1,
      beta2: s.beta2,
      eps: s.eps,
      decay: s.name === "adamw" ? 1 - lr * s.weightDecay : 1,
      l2: s.name === "adam" ? s.weightDecay : 0,
      bc1: 1 - Math.pow(s.beta1, t),
      bc2: 1 - Math.pow(s.beta2, t),
    });
    if (!out) return false;
    if (out === "in-place") return true;
    m.assign(out[1]);
    v.assign(out[2]);
    p.assign(out[0]);
    return true;
  }

  async state(): Promise<OptimizerState> {
    const slots = new Map<string, SavedTensor>();
    for (let i = 0; i < this.#slots.length; i++) {
      for (const [n, v] of this.#slots[i]) {
        slots.set(`${i}/${n}`, { shape: [...v.shape], values: (await v.data()) as Float32Array });
      }
    }
    return { spec: { ...this.spec }, steps: this.#steps, slots };
  }

  load(state: OptimizerState, vars: readonly tf.Variable[]): void {
    if (state.spec.name !== this.spec.name) {
      throw new TypeError(`optimizer state is for ${state.spec.name}, not ${this.spec.name}`);
    }
    if (!Number.isInteger(state.steps) || state.steps < 0) {
      throw new RangeError(`optimizer state has bad step count ${state.steps}`);
    }
    this.dispose();
    if (state.steps > 0) {
      this.#slots = vars.map((v, i) =>
        new Map(this.#names.map((n) => {
          const saved = state.slots.get(`${i}/${n}`);
          if (!saved) throw new RangeError(`optimizer state lacks slot '${i}/${n}'`);
          if (!tf.util.arraysEqual(saved.shape, v.shape)) {
            throw new RangeError(
              `optimizer slot '${i}/${n}' has shape [${saved.shape}], variable ${v.name} [${v.shape}]`,
            );
          }
          return [
            n,
            tf.tidy(() => tf.variable(tf.tensor(saved.values, saved.shape, "float32"), false)),
          ];
        }))
      );
    }
    this.#steps = state.steps;
  }

  dispose(): void {
    for (const m of this.#slots) for (const v of m.values()) v.dispose();
    this.#slots = [];
  }
}

function checkMaxNorm(maxNorm: number | undefined): void {
  if (maxNorm !== undefined && !(maxNorm > 0)) {
    throw new RangeError(`maxGradNorm must be positive, got ${maxNorm}`);
  }
}

/**
 * `Σ‖g_i‖²` of a list of gradients as a float32 scalar tensor, without reading it back (0 for an
 * empty list). The square root of its value is the global norm {@link clipByGlobalNorm} reports.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { gradSquaredNorm } from "./optimizers.ts";
 * const sq = gradSquaredNorm([tf.tensor1d([3]), tf.tensor1d([4])]);
 * console.log((await sq.data())[0]); // 25
 * ```
 */
export function gradSquaredNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  // A left-to-right chain of adds rather than tf.addN: tfjs-backend-webgpu 4.22 (seen on Mesa
  // llvmpipe) silently sums only the first four inputs of an addN. The order matches cpu's addN.
  return tf.tidy(() =>
    grads.length === 0
      ? tf.scalar(0)
      : grads.map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b))
  ) as tf.Scalar;
}

/** New tensors: the gradients scaled so that their global norm `norm` is at most `maxNorm`. */
function scaleToNorm(grads: readonly tf.Tensor[], norm: number, maxNorm?: number): tf.Tensor[] {
  // The factor is formed in float64 and applied once, as PyTorch's clip_grad_norm_ does.
  const scale = maxNorm !== undefined && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  return grads.map((g) => scale === 1 ? tf.clone(g) : tf.tidy(() => tf.mul(g, scale)));
}

/**
 * The global L2 norm of a list of gradients, `√Σ‖g_i‖²`, and the gradients scaled so that norm is
 * at most `maxNorm` (PyTorch's `clip_grad_norm_`: factor `maxNorm/(norm + 1e-6)` when the norm is
 * larger). Returns new tensors (the inputs are left alone) and the pre-clip norm.
 *
 * Reads the norm synchronously, which only the cpu and wasm backends allow; on webgpu use
 * {@link clipByGlobalNormAsync} (same numbers) or {@link clipByGlobalNormTensor} (no read).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { clipByGlobalNorm } from "./optimizers.ts";
 * const { norm, grads } = clipByGlobalNorm([tf.tensor1d([3]), tf.tensor1d([4])], 1);
 * console.log(norm, grads[0].dataSync()[0]); // 5, ~0.6
 * ```
 */
export function clipByGlobalNorm(
  grads: readonly tf.Tensor[],
  maxNorm?: number,
): { norm: number; grads: tf.Tensor[] } {
  checkMaxNorm(maxNorm);
  const sq = gradSquaredNorm(grads);
  const norm = Math.sqrt(sq.dataSync()[0]);
  sq.dispose();
  return { norm, grads: scaleToNorm(grads, norm, maxNorm) };
}

/**
 * {@link clipByGlobalNorm} on any backend: the squared norm is read back asynchronously (one
 * scalar), so the norm and the clipped gradients are bit-for-bit those of the synchronous
 * version. The trainer uses this: it needs the norm on the host anyway, to refuse a non-finite
 * step before applying it.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { clipByGlobalNormAsync } from "./optimizers.ts";
 * const { norm, grads } = await clipByGlobalNormAsync([tf.tensor1d([3]), tf.tensor1d([4])], 1);
 * console.log(norm, (await grads[1].data())[0]); // 5, ~0.8
 * ```
 */
export async function clipByGlobalNormAsync(
  grads: readonly tf.Tensor[],
  maxNorm?: number,
): Promise<{ norm: number; grads: tf.Tensor[] }> {
  checkMaxNorm(maxNorm);
  const sq = gradSquaredNorm(grads);
  let value: number;
  try {
    value = (await sq.data())[0];
  } finally {
    sq.dispose();
  }
  const norm = Math.sqrt(value);
  return { norm, grads: scaleToNorm(grads, norm, maxNorm) };
}

/**
 * Global-norm clipping with tensor ops only, for loops that must not wait on the device: the
 * norm comes back as a float32 scalar tensor (read it whenever convenient) and the factor
 * `maxNorm/(norm + 1e-6)` is applied where `norm > maxNorm`. Agrees with
 * {@link clipByGlobalNorm} to float32 rounding (the factor is formed in float32 here). The
 * caller disposes `norm` and `grads`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { clipByGlobalNormTensor } from "./optimizers.ts";
 * const { norm, grads } = clipByGlobalNormTensor([tf.tensor1d([3]), tf.tensor1d([4])], 1);
 * console.log((await norm.data())[0], (await grads[0].data())[0]); // 5, ~0.6
 * ```
 */
export function clipByGlobalNormTensor(
  grads: readonly tf.Tensor[],
  maxNorm?: number,
): { norm: tf.Scalar; grads: tf.Tensor[] } {
  checkMaxNorm(maxNorm);
  return tf.tidy(() => {
    const norm = tf.sqrt(gradSquaredNorm(grads)) as tf.Scalar;
    if (maxNorm === undefined) return { norm, grads: grads.map((g) => tf.clone(g)) };
    // NaN > maxNorm is false, so a non-finite norm leaves the gradients as they are (as above).
    const scale = tf.where(
      tf.greater(norm, maxNorm),
      tf.div(tf.scalar(maxNorm), tf.add(norm, 1e-6)),
      tf.scalar(1),
    );
    return { norm, grads: grads.map((g) => tf.mul(g, scale)) };
  });
}
