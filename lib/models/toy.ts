/**
 * Single-token softmax models for theory, with named tokens and prompts:
 *
 * - {@link UnconstrainedFeatures}: the "unconstrained features" model of the likelihood-
 *   displacement paper (Razin et al., arXiv 2410.08847, §4.5): a free hidden embedding h_x per
 *   prompt and a free unembedding W [V, d]; logits z = W h_x. Both are trained.
 * - {@link LinearSoftmax}: the linear softmax model of the squeezing-effect analysis (Ren &
 *   Sutherland, arXiv 2407.10490, §5.3): fixed inputs x per prompt, trained W [d, V];
 *   logits z = Wᵀ x.
 *
 * A response is one token, so its summed log-prob is log softmax(z)[y] and its length is 1.
 * Both models are {@link PreferenceScorer}s over {@link ToyBatch}, so the trainer trains them
 * with every objective.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { PairScores, PreferenceScorer, ToyBatch, ToyProbes } from "../core/scores.ts";
import { Rng } from "../core/rng.ts";
import { logitStats } from "../core/token_stats.ts";

/** A token or prompt, by name or index. */
export type TokenRef = string | number;

/** Same as {@link TokenRef} (kept for code that imported the earlier name). */
export type Ref = TokenRef;

/** Shared behaviour of the single-token models: names, distributions and scoring. */
abstract class SingleTokenModel implements PreferenceScorer<ToyBatch, ToyProbes> {
  /** Vocabulary, index = token id. */
  readonly tokens: readonly string[];
  /** Prompt names, index = prompt id. */
  readonly prompts: readonly string[];
  readonly #tokenIds: Map<string, number>;
  readonly #promptIds: Map<string, number>;

  protected constructor(tokens: readonly string[], prompts: readonly string[]) {
    this.tokens = Object.freeze([...tokens]);
    this.prompts = Object.freeze([...prompts]);
    this.#tokenIds = uniqueIndex(tokens, "tokens");
    this.#promptIds = uniqueIndex(prompts, "prompts");
  }

  /** Vocabulary size V. */
  get vocabSize(): number {
    return this.tokens.length;
  }

  /** Token id of a name (or a checked index). */
  tokenId(token: TokenRef): number {
    return resolve(token, this.#tokenIds, this.tokens.length, "token");
  }

  /** Prompt id of a name (or a checked index). */
  promptId(prompt: TokenRef): number {
    return resolve(prompt, this.#promptIds, this.prompts.length, "prompt");
  }

  /** Logits [P', V] of the given prompt ids (differentiable w.r.t. the variables). */
  abstract logits(prompts: ArrayLike<number>): tf.Tensor2D;

  abstract variables(): tf.Variable[];

  abstract variableNames(): string[];

  /** Full log-distribution log π(·|prompt), a [V] tensor (differentiable). */
  logProbs(prompt: TokenRef): tf.Tensor1D {
    const id = this.promptId(prompt);
    return tf.tidy(() => tf.reshape(tf.logSoftmax(this.logits([id])), [this.vocabSize]));
  }

  /**
   * π(·|prompt) as plain numbers keyed by token name. Reads synchronously, which the cpu and
   * wasm backends allow; on webgpu use {@link distributionAsync}.
   */
  distribution(prompt: TokenRef): Record<string, number> {
    const lp = this.logProbs(prompt);
    const values = lp.dataSync();
    lp.dispose();
    return Object.fromEntries(this.tokens.map((t, i) => [t, Math.exp(values[i])]));
  }

  /** {@link distribution} on any backend (reads asynchronously). */
  async distributionAsync(prompt: TokenRef): Promise<Record<string, number>> {
    const lp = this.logProbs(prompt);
    const values = await lp.data();
    lp.dispose();
    return Object.fromEntries(this.tokens.map((t, i) => [t, Math.exp(values[i])]));
  }

  /** log π(token|prompt) as a plain number (synchronous read: cpu/wasm; see {@link logProbAsync}). */
  logProb(prompt: TokenRef, token: TokenRef): number {
    const id = this.tokenId(token);
    const lp = this.logProbs(prompt);
    const v = lp.dataSync()[id];
    lp.dispose();
    return v;
  }

  /** {@link logProb} on any backend (reads asynchronously). */
  async logProbAsync(prompt: TokenRef, token: TokenRef): Promise<number> {
    const id = this.tokenId(token);
    const lp = this.logProbs(prompt);
    const v = (await lp.data())[id];
    lp.dispose();
    return v;
  }

  /** log π(token_i | prompt_i) for each row, [N] (differentiable). */
  tokenLogProbs(prompts: ArrayLike<number>, tokens: ArrayLike<number>): tf.Tensor1D {
    if (prompts.length !== tokens.length) {
      throw new RangeError(
        `prompts (${prompts.length}) and tokens (${tokens.length}) differ in length`,
      );
    }
    for (let i = 0; i < tokens.length; i++) this.tokenId(tokens[i]);
    return tf.tidy(() => {
      const v = this.vocabSize;
      const logp = tf.logSoftmax(this.logits(prompts));
      const flat = Int32Array.from(tokens, (t, i) => i * v + t);
      return tf.gather(tf.reshape(logp, [-1]), tf.tensor1d(flat, "int32")) as tf.Tensor1D;
    });
  }

  /** Per-pair scores of a batch of single-token pairs (lengths are 1). */
  scores(batch: ToyBatch): PairScores {
    return tf.tidy(() => {
      const n = batch.prompt.length;
      const both = this.tokenLogProbs(
        Int32Array.from([...batch.prompt, ...batch.prompt]),
        Int32Array.from([...batch.chosen, ...batch.rejected]),
      );
      const [policyChosen, policyRejected] = tf.split(both, 2) as tf.Tensor1D[];
      const ones = tf.ones([n]) as tf.Tensor1D;
      // TRL's token metrics: one answer token per row, predicted by the prompt's logits; a
      // row is two tokens (prompt and answer), so a pair feeds 4 to num_tokens.
      const z = this.logits(batch.prompt);
      const c = logitStats(z, tf.tensor1d(batch.chosen, "int32"));
      const tokenStats = {
        entropyChosen: c.entropy,
        entropyRejected: tf.clone(c.entropy),
        logitChosen: c.logitMean,
        logitRejected: tf.clone(c.logitMean),
        correctChosen: c.correct,
        inputTokens: tf.fill([n], 4),
      };
      return {
        policyChosen,
        policyRejected,
        chosenLength: ones,
        rejectedLength: tf.clone(ones),
        tokenStats,
      } as unknown as tf.TensorContainerObject;
    }) as unknown as PairScores;
  }

  /** log π(token_i | prompt_i) of probe rows. */
  logps(probes: ToyProbes): tf.Tensor1D {
    return this.tokenLogProbs(probes.prompt, probes.token);
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

function uniqueIndex(names: readonly string[], what: string): Map<string, number> {
  const m = new Map<string, number>();
  names.forEach((n, i) => {
    if (m.has(n)) throw new TypeError(`${what}: duplicate name "${n}"`);
    m.set(n, i);
  });
  if (m.size === 0) throw new RangeError(`${what}: at least one is needed`);
  return m;
}

function resolve(ref: TokenRef, ids: Map<string, number>, count: number, what: string): number {
  if (typeof ref === "string") {
    const id = ids.get(ref);
    if (id === undefined) throw new RangeError(`unknown ${what} "${ref}"`);
    return id;
  }
  if (!Number.isInteger(ref) || ref < 0 || ref >= count) {
    throw new RangeError(`${what} index ${ref} out of range [0, ${count})`);
  }
  return ref;
}

function names(spec: readonly string[] | number | undefined, prefix: string): string[] {
  if (spec === undefined) return [`${prefix}0`];
  if (typeof spec === "number") {
    if (!Number.isInteger(spec) || spec < 1) throw new RangeError(`${prefix}s: count must be >= 1`);
    return Array.from({ length: spec }, (_, i) => `${prefix}${i}`);
  }
  return [...spec];
}

/** Rows x cols of N(0, std²) draws, or the given matrix after a shape check. */
function matrix(
  given: number[][] | undefined,
  rows: number,
  cols: number,
  std: number,
  rng: Rng,
  what: string,
): Float32Array {
  const out = new Float32Array(rows * cols);
  if (given) {
    if (given.length !== rows || given.some((r) => r.length !== cols)) {
      throw new RangeError(`${what} must be ${rows} x ${cols}`);
    }
    given.forEach((r, i) => out.set(r, i * cols));
  } else {
    for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
  }
  return out;
}

let toyId = 0;

/** Options of {@link createUnconstrainedFeatures}. */
export interface UnconstrainedFeaturesOptions {
  /** Token names (the vocabulary). */
  tokens: readonly string[];
  /** Prompt names, or a count (named "x0", "x1", ...). Default: one prompt. */
  prompts?: readonly string[] | number;
  /** Embedding width d. */
  dim: number;
  seed?: number;
  /** Std of the initial hidden embeddings (default 1). */
  hiddenStd?: number;
  /** Std of the initial unembedding rows (default 1/sqrt(d), so logits start O(1)). */
  unembeddingStd?: number;
  /** Explicit initial hidden embeddings [P][d] (overrides the random draw). */
  hidden?: number[][];
  /** Explicit initial unembedding [V][d] (overrides the random draw). */
  unembedding?: number[][];
}

/**
 * The unconstrained-features model: logits(x) = W h_x with trainable h [P, d] and W [V, d].
 * Build with {@link createUnconstrainedFeatures}.
 */
export class UnconstrainedFeatures extends SingleTokenModel {
  /** Hidden embeddings h, one row per prompt [P, d]. */
  readonly hidden: tf.Variable;
  /** Unembedding W, one row per token [V, d]. */
  readonly unembedding: tf.Variable;
  readonly dim: number;

  constructor(opts: UnconstrainedFeaturesOptions) {
    super(opts.tokens, names(opts.prompts, "x"));
    if (!Number.isInteger(opts.dim) || opts.dim < 1) {
      throw new RangeError(`dim must be a positive integer, got ${opts.dim}`);
    }
    const d = this.dim = opts.dim;
    const rng = new Rng(opts.seed ?? 0);
    const p = this.prompts.length, v = this.tokens.length;
    const h = matrix(opts.hidden, p, d, opts.hiddenStd ?? 1, rng, "hidden");
    const w = matrix(
      opts.unembedding,
      v,
      d,
      opts.unembeddingStd ?? 1 / Math.sqrt(d),
      rng,
      "unembedding",
    );
    const id = toyId++;
    this.hidden = tf.variable(tf.tensor2d(h, [p, d]), true, `toy${id}/hidden`);
    this.unembedding = tf.variable(tf.tensor2d(w, [v, d]), true, `toy${id}/unembedding`);
  }

  logits(prompts: ArrayLike<number>): tf.Tensor2D {
    for (let i = 0; i < prompts.length; i++) this.promptId(prompts[i]);
    return tf.tidy(() => {
      const h = tf.gather(this.hidden, tf.tensor1d(Int32Array.from(prompts), "int32"));
      return tf.matMul(h, this.unembedding, false, true);
    });
  }

  variables(): tf.Variable[] {
    return [this.hidden, this.unembedding];
  }

  variableNames(): string[] {
    return ["hidden", "unembedding"];
  }
}

/**
 * Build an unconstrained-features model with named tokens and prompts.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "./toy.ts";
 * const m = createUnconstrainedFeatures({ tokens: ["Yes", "No", "Never"], dim: 4, seed: 0 });
 * console.log(m.distribution("x0")); // { Yes: ..., No: ..., Never: ... }
 * m.dispose();
 * ```
 */
export function createUnconstrainedFeatures(
  opts: UnconstrainedFeaturesOptions,
): UnconstrainedFeatures {
  return new UnconstrainedFeatures(opts);
}

/** Options of {@link createLinearSoftmax}. */
export interface LinearSoftmaxOptions {
  tokens: readonly string[];
  /** Prompt names, or a count. Default: one per row of `inputs`, else one. */
  prompts?: readonly string[] | number;
  /** Fixed input features x, one row per prompt [P][d]; default N(0, 1) draws. */
  inputs?: number[][];
  /** Feature width d (required when `inputs` is absent). */
  dim?: number;
  seed?: number;
  /** Explicit initial W [d][V]. */
  weights?: number[][];
  /** Std of the initial W entries (default 1/sqrt(d)). */
  weightStd?: number;
}

/**
 * The linear softmax model z = Wᵀ x with fixed inputs x [P, d] and trainable W [d, V].
 * Build with {@link createLinearSoftmax}.
 */
export class LinearSoftmax extends SingleTokenModel {
  /** Fixed inputs, one row per prompt [P, d] (not trained). */
  readonly inputs: tf.Tensor2D;
  /** W [d, V]. */
  readonly weights: tf.Variable;
  readonly dim: number;

  constructor(opts: LinearSoftmaxOptions) {
    const promptNames = opts.prompts ?? opts.inputs?.length;
    super(opts.tokens, names(promptNames, "x"));
    const d = opts.inputs?.[0]?.length ?? opts.dim;
    if (d === undefined || !Number.isInteger(d) || d < 1) {
      throw new RangeError(`dim must be a positive integer (or give inputs), got ${d}`);
    }
    this.dim = d;
    const rng = new Rng(opts.seed ?? 0);
    const p = this.prompts.length, v = this.tokens.length;
    const x = matrix(opts.inputs, p, d, 1, rng, "inputs");
    const w = matrix(opts.weights, d, v, opts.weightStd ?? 1 / Math.sqrt(d), rng, "weights");
    this.inputs = tf.tensor2d(x, [p, d]);
    this.weights = tf.variable(tf.tensor2d(w, [d, v]), true, `toy${toyId++}/weights`);
  }

  logits(prompts: ArrayLike<number>): tf.Tensor2D {
    for (let i = 0; i < prompts.length; i++) this.promptId(prompts[i]);
    return tf.tidy(() => {
      const x = tf.gather(this.inputs, tf.tensor1d(Int32Array.from(prompts), "int32"));
      return tf.matMul(x, this.weights);
    });
  }

  variables(): tf.Variable[] {
    return [this.weights];
  }

  variableNames(): string[] {
    return ["weights"];
  }

  override dispose(): void {
    super.dispose();
    this.inputs.dispose();
  }
}

/**
 * Build a linear softmax model z = Wᵀ x with named tokens.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createLinearSoftmax } from "./toy.ts";
 * const m = createLinearSoftmax({ tokens: ["a", "b", "c", "d"], inputs: [[1, 0], [0, 1]], seed: 1 });
 * console.log(m.logProb("x1", "c"));
 * m.dispose();
 * ```
 */
export function createLinearSoftmax(opts: LinearSoftmaxOptions): LinearSoftmax {
  return new LinearSoftmax(opts);
}
