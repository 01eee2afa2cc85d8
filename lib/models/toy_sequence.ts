/**
 * Multi-token responses on the single-token toy models, with the per-token data token-level
 * objectives read (SGDPO, LD-DPO, WPO, TDPO).
 *
 * A response `y = (y_1, ..., y_n)` to prompt `x` is scored position by position: token `t` is
 * drawn from the toy model's distribution for a *context* `c(x, t)` (by default
 * `c = x·maxLength + t`, so the toy model needs `prompts × maxLength` contexts), independently of
 * earlier tokens: `ℓθ(y|x) = Σ_t log πθ(y_t | c(x, t))`. With `maxLength` 1 this is exactly the
 * single-token model. Each position is a softmax with its own hidden embedding (unconstrained
 * features) or input (linear softmax), so shared tokens of y_w and y_l at a position share a
 * log-prob, as shared sub-sequences do in a real LM.
 *
 * The reference is the model as it was when the scorer was built: its log-distributions over
 * every context are kept as a constant, so `scores()` can hand objectives the reference
 * per-token log-probs (SGDPO) and the per-position `KL(πref ‖ πθ)` (TDPO) besides the policy's
 * per-token log-probs, masks and `log Σ_v πθ(v)²` (WPO).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { PairScores, PreferenceScorer, TrainData } from "../core/scores.ts";

/**
 * What the scorer needs from a toy model: logits per context (the model's "prompts") and its
 * trainable variables. `createUnconstrainedFeatures` and `createLinearSoftmax` models fit.
 */
export interface ContextLogitsModel {
  readonly vocabSize: number;
  /** One name per context. */
  readonly prompts: readonly string[];
  /** Logits `[N, V]` of the given context ids (differentiable w.r.t. the variables). */
  logits(contexts: ArrayLike<number>): tf.Tensor2D;
  variables(): tf.Variable[];
  variableNames?(): string[];
}

/** Multi-token pairs: prompt id, chosen and rejected token sequences (at least one token each). */
export interface ToySequencePairs {
  prompt: ArrayLike<number>;
  chosen: readonly ArrayLike<number>[];
  rejected: readonly ArrayLike<number>[];
}

/** A batch of multi-token pairs. */
export interface ToySequenceBatch {
  prompt: Int32Array;
  chosen: Int32Array[];
  rejected: Int32Array[];
  /** Source pair index of each row. */
  pairIndex: number[];
}

/** Multi-token probes: the summed log-prob of `responses[i]` given `prompt[i]`. */
export interface ToySequenceProbes {
  prompt: Int32Array;
  responses: Int32Array[];
}

function checkIds(xs: ArrayLike<number>, what: string): Int32Array {
  const out = Int32Array.from(xs);
  out.forEach((v, i) => {
    if (!(v >= 0) || v !== Number(xs[i])) {
      throw new TypeError(`${what}[${i}] = ${xs[i]} is not a non-negative integer`);
    }
  });
  return out;
}

/**
 * Multi-token pairs as {@link TrainData} for {@link ToySequenceScorer}.
 *
 * @example
 * ```ts
 * import { toySequenceData } from "./toy_sequence.ts";
 * const data = toySequenceData({ prompt: [0, 1], chosen: [[1, 2], [3]], rejected: [[1, 4], [2, 2]] });
 * console.log(data.size, data.batch([1]).rejected[0]); // 2 Int32Array [2, 2]
 * ```
 */
export function toySequenceData(pairs: ToySequencePairs): TrainData<ToySequenceBatch> {
  const n = pairs.prompt.length;
  for (const k of ["chosen", "rejected"] as const) {
    if (pairs[k].length !== n) {
      throw new RangeError(`toySequenceData: ${k} has ${pairs[k].length} rows, prompt has ${n}`);
    }
  }
  const prompt = checkIds(pairs.prompt, "toySequenceData prompt");
  const rows = (k: "chosen" | "rejected") =>
    pairs[k].map((r, i) => {
      if (r.length === 0) throw new RangeError(`toySequenceData: ${k}[${i}] is empty`);
      return checkIds(r, `toySequenceData ${k}[${i}]`);
    });
  const chosen = rows("chosen"), rejected = rows("rejected");
  const check = (p: number) => {
    if (!Number.isInteger(p) || p < 0 || p >= n) {
      throw new RangeError(`position ${p} is outside the dataset (size ${n})`);
    }
    return p;
  };
  return {
    size: n,
    batch: (positions) => ({
      prompt: Int32Array.from(positions, (p) => prompt[check(p)]),
      chosen: positions.map((p) => chosen[p]),
      rejected: positions.map((p) => rejected[p]),
      pairIndex: [...positions],
    }),
    fingerprint() {
      const flat = [n, ...prompt];
      for (const side of [chosen, rejected]) for (const r of side) flat.push(r.length, ...r);
      return new Uint8Array(Int32Array.from(flat).buffer);
    },
  };
}

/** Options of {@link createToySequenceScorer}. */
export interface ToySequenceOptions {
  /** Longest response; positions `t ≥ maxLength` are refused. */
  maxLength: number;
  /**
   * Context id of position `t` of a response to prompt `x` (default `x·maxLength + t`). Must
   * be a valid context of the model.
   */
  context?: (prompt: number, position: number) => number;
}

/**
 * Padded `[B, T]` layout of one side of a batch, as one-hot selection matrices: row `j = i·T + k`
 * of `contexts` ([B·T, C]) picks the context of position k of row i, row j of `tokens` ([B·T, V])
 * its token; both are zero rows at padding.
 */
interface Layout {
  contexts: Float32Array;
  tokens: Float32Array;
  mask: Float32Array;
  lengths: Float32Array;
  t: number;
}

/** Per-context quantities, `[C, V]` or `[C, 1]`, from which every position is selected. */
interface ContextTables {
  logp: tf.Tensor2D;
  ref?: tf.Tensor2D;
  /** `log Σ_v πθ(v|c)²`. */
  logSumSquares?: tf.Tensor2D;
  /** `KL(πref(·|c) ‖ πθ(·|c))`. */
  kl?: tf.Tensor2D;
}

/**
 * A {@link PreferenceScorer} of multi-token responses over a single-token toy model. Build with
 * {@link createToySequenceScorer}; `dispose()` frees the reference snapshot (not the model).
 *
 * Every step scores all `C` contexts once and selects positions with one-hot matrix products,
 * so the backward pass is matrix products only (fast on the `cpu` backend for toy sizes).
 */
export class ToySequenceScorer implements PreferenceScorer<ToySequenceBatch, ToySequenceProbes> {
  readonly model: ContextLogitsModel;
  readonly maxLength: number;
  readonly #context: (prompt: number, position: number) => number;
  readonly #all: Int32Array;
  /** Reference log-distributions `[C, V]` of every context, from construction time. */
  readonly #refLogProbs: tf.Tensor2D;

  constructor(model: ContextLogitsModel, opts: ToySequenceOptions) {
    if (!Number.isInteger(opts.maxLength) || opts.maxLength < 1) {
      throw new RangeError(`maxLength must be a positive integer, got ${opts.maxLength}`);
    }
    this.model = model;
    this.maxLength = opts.maxLength;
    this.#context = opts.context ?? ((x, t) => x * opts.maxLength + t);
    this.#all = Int32Array.from({ length: model.prompts.length }, (_, i) => i);
    this.#refLogProbs = tf.tidy(() => tf.logSoftmax(model.logits(this.#all)) as tf.Tensor2D);
  }

  variables(): tf.Variable[] {
    return this.model.variables();
  }

  variableNames(): string[] {
    return this.model.variableNames?.() ?? this.model.variables().map((v) => v.name);
  }

  /** Context id of position `t` of a response to `prompt`, checked. */
  contextOf(prompt: number, t: number): number {
    if (t >= this.maxLength) {
      throw new RangeError(`response position ${t} is beyond maxLength ${this.maxLength}`);
    }
    const c = this.#context(prompt, t);
    if (!Number.isInteger(c) || c < 0 || c >= this.model.prompts.length) {
      throw new RangeError(
        `context of prompt ${prompt}, position ${t} is ${c}, outside the model's ${this.model.prompts.length} contexts`,
      );
    }
    return c;
  }

  #layout(prompt: Int32Array, rows: readonly Int32Array[]): Layout {
    const b = rows.length, v = this.model.vocabSize, nc = this.model.prompts.length;
    const t = Math.max(...rows.map((r) => r.length));
    const contexts = new Float32Array(b * t * nc), tokens = new Float32Array(b * t * v);
    const mask = new Float32Array(b * t), lengths = new Float32Array(b);
    rows.forEach((r, i) => {
      lengths[i] = r.length;
      for (let k = 0; k < r.length; k++) {
        const j = i * t + k;
        if (r[k] >= v) throw new RangeError(`token ${r[k]} is outside the vocabulary (${v})`);
        contexts[j * nc + this.contextOf(prompt[i], k)] = 1;
        tokens[j * v + r[k]] = 1;
        mask[j] = 1;
      }
    });
    return { contexts, tokens, mask, lengths, t };
  }

  /** The per-context tables of the current policy (differentiable) and the reference. */
  #tables(): Required<ContextTables> {
    const logp = tf.logSoftmax(this.model.logits(this.#all)) as tf.Tensor2D;
    const ref = this.#refLogProbs;
    return {
      logp,
      ref,
      logSumSquares: tf.logSumExp(tf.mul(logp, 2), 1, true) as tf.Tensor2D,
      kl: tf.sum(tf.mul(tf.exp(ref), tf.sub(ref, logp)), 1, true) as tf.Tensor2D,
    };
  }

  /** Per-token tensors of one side, all `[B, T]` and 0 where the mask is 0. */
  #side(l: Layout, b: number, tab: ContextTables) {
    const n = b * l.t, shape: [number, number] = [b, l.t];
    const sel = tf.tensor2d(l.contexts, [n, this.model.prompts.length]);
    const tok = tf.tensor2d(l.tokens, [n, this.model.vocabSize]);
    const pick = (table: tf.Tensor2D) =>
      tf.reshape(tf.sum(tf.mul(tf.matMul(sel, table), tok), 1), shape) as tf.Tensor2D;
    const perPosition = (table: tf.Tensor2D) =>
      tf.reshape(tf.matMul(sel, table), shape) as tf.Tensor2D;
    return {
      policy: pick(tab.logp),
      ref: tab.ref && pick(tab.ref),
      mask: tf.tensor2d(l.mask, shape),
      lss: tab.logSumSquares && perPosition(tab.logSumSquares),
      kl: tab.kl && perPosition(tab.kl),
    };
  }

  /**
   * Summed log-probs and per-token data of a batch. `tokens` follows `TokenScores` of
   * lib/objectives: policy/ref per-token log-probs, masks, WPO's log-sum-squares, TDPO's KL.
   */
  scores(batch: ToySequenceBatch): PairScores {
    return tf.tidy(() => {
      const b = batch.prompt.length;
      if (batch.chosen.length !== b || batch.rejected.length !== b) {
        throw new RangeError(`batch has ${b} prompts but ${batch.chosen.length} chosen rows`);
      }
      const lw = this.#layout(batch.prompt, batch.chosen);
      const ll = this.#layout(batch.prompt, batch.rejected);
      const tab = this.#tables();
      const w = this.#side(lw, b, tab), l = this.#side(ll, b, tab);
      return {
        policyChosen: tf.sum(w.policy, 1) as tf.Tensor1D,
        policyRejected: tf.sum(l.policy, 1) as tf.Tensor1D,
        chosenLength: tf.tensor1d(lw.lengths),
        rejectedLength: tf.tensor1d(ll.lengths),
        tokens: {
          policyChosen: w.policy,
          policyRejected: l.policy,
          refChosen: w.ref!,
          refRejected: l.ref!,
          chosenMask: w.mask,
          rejectedMask: l.mask,
          chosenLogSumSquares: w.lss!,
          rejectedLogSumSquares: l.lss!,
          klChosen: w.kl!,
          klRejected: l.kl!,
        },
      };
    }) as PairScores;
  }

  /** Summed log-prob of each probe response given its prompt, `[N]`. */
  logps(probes: ToySequenceProbes): tf.Tensor1D {
    return tf.tidy(() => {
      const l = this.#layout(probes.prompt, probes.responses);
      const logp = tf.logSoftmax(this.model.logits(this.#all)) as tf.Tensor2D;
      return tf.sum(this.#side(l, probes.responses.length, { logp }).policy, 1) as tf.Tensor1D;
    });
  }

  /**
   * A scorer of the reference snapshot (no variables), for the trainer's
   * `reference: { kind: "precompute", scorer }` when the policy has moved since this scorer
   * was built (the trainer otherwise takes the policy at the start of training as reference).
   */
  reference(): PreferenceScorer<ToySequenceBatch> {
    return {
      variables: () => [],
      scores: (batch) =>
        tf.tidy(() => {
          const tab = { logp: this.#refLogProbs };
          const side = (rows: readonly Int32Array[]) => {
            const l = this.#layout(batch.prompt, rows);
            return {
              sum: tf.sum(this.#side(l, rows.length, tab).policy, 1) as tf.Tensor1D,
              lengths: tf.tensor1d(l.lengths),
            };
          };
          const w = side(batch.chosen), l = side(batch.rejected);
          return {
            policyChosen: w.sum,
            policyRejected: l.sum,
            chosenLength: w.lengths,
            rejectedLength: l.lengths,
          };
        }),
    };
  }

  /** Frees the reference snapshot. The model is the caller's. */
  dispose(): void {
    this.#refLogProbs.dispose();
  }
}

/**
 * Score multi-token responses with a single-token toy model (one context per prompt and
 * position), for token-level objectives on toys. The reference is the model at this call.
 *
 * @example SGDPO on three-token responses of an unconstrained-features model
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "./toy.ts";
 * import { createToySequenceScorer, toySequenceData } from "./toy_sequence.ts";
 * const model = createUnconstrainedFeatures({ tokens: ["a", "b", "c"], prompts: 2 * 3, dim: 4 });
 * const scorer = createToySequenceScorer(model, { maxLength: 3 });
 * const data = toySequenceData({ prompt: [0, 1], chosen: [[0, 1, 2], [2]], rejected: [[0, 2, 2], [1, 1]] });
 * const s = scorer.scores(data.batch([0, 1]));
 * console.log(s.chosenLength.dataSync()); // Float32Array [3, 1]
 * scorer.dispose();
 * model.dispose();
 * ```
 */
export function createToySequenceScorer(
  model: ContextLogitsModel,
  opts: ToySequenceOptions,
): ToySequenceScorer {
  return new ToySequenceScorer(model, opts);
}
