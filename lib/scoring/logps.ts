/**
 * Completion log-probabilities of token rows under a causal LM, TRL-style: one forward pass over
 * a `PreferenceBatch` (2B rows, chosen then rejected) gives per-token and summed completion
 * log-probs for both sides, optionally the final hidden states (CHES) and per-token extras for
 * token-level objectives.
 *
 * The log-prob of token t is `z_{t-1}[y_t] - logsumexp(z_{t-1})`. It is one fused custom-gradient
 * op on the [N*T, V] view of the logits: the forward reads the label's logit with a flat
 * `tf.gather` (no vocabulary-sized one-hot), keeps exp(z - max) and returns the closed-form
 * gradient `dy * (onehot(y) - softmax(z))`. Forward + backward on [512, 4096] logits, median of 5
 * (2 shared cores, busy): wasm 176 ms vs 1321 ms for gather minus `tf.logSumExp` (whose gradient
 * runs through max/sub/exp/sum separately) and 559 ms for one-hot times `tf.logSoftmax`;
 * webgpu on llvmpipe 437 / 1033 / 1426 ms. The one-hot appears only in the backward pass, where
 * the dense [N*T, V] gradient has to be written anyway. Log-probs are computed at every position
 * for the *next* token and then shifted right by one on the small [N, T] result, which avoids
 * copying the [N, T, V] logits to drop a position.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "../models/types.ts";
import type { PreferenceBatch } from "../data/types.ts";
import type { PairScores, PreferenceScorer, TokenScores } from "../core/scores.ts";
import type { TokenStats } from "../core/token_stats.ts";

/** N token rows of length T, row-major (a `PreferenceBatch` is one, with N = 2B). */
export interface TokenRows {
  /** Padded row length T. */
  length: number;
  inputIds: Int32Array;
  attentionMask: Float32Array;
  /** 1 where token t of a row is scored (a completion token, predicted from position t-1). */
  completionMask: Float32Array;
}

/** Options of {@link tokenLogps} and {@link sequenceLogps}. */
export interface LogpsOptions {
  /** Also return the final hidden states [N, T, d] (the state at t predicts token t+1). */
  hidden?: boolean;
  /**
   * Also return per-token `log Σ_v π(v|·)²` (WPO weights), as constants: no gradient flows
   * through them.
   */
  logSumSquares?: boolean;
  /**
   * Reference-model logits for the same rows, [N, T, V]: also return the per-token
   * `KL(π_ref(·|·) ‖ π_θ(·|·))` (TDPO), differentiable w.r.t. the policy. Costs a full
   * [N, T, V] log-softmax.
   */
  referenceLogits?: tf.Tensor3D;
  /** Also return per-row sums for TRL's token metrics (`token_stats.ts`). */
  stats?: boolean;
}

/** Per-row sums over scored tokens of {@link logitStats}, and each row's attention-mask sum. */
export interface RowStats {
  entropy: tf.Tensor1D;
  logitMean: tf.Tensor1D;
  correct: tf.Tensor1D;
  inputTokens: tf.Tensor1D;
}

/** What {@link tokenLogps} returns; every tensor has N rows. */
export interface TokenLogps {
  /** log π(token t | tokens < t) where scored, 0 elsewhere (t = 0 is never scored). [N, T] */
  perToken: tf.Tensor2D;
  /** The completion mask as a tensor. [N, T] */
  mask: tf.Tensor2D;
  /** Summed completion log-probs. [N] */
  summed: tf.Tensor1D;
  /** Completion token counts (mask sums). [N] */
  lengths: tf.Tensor1D;
  /** Final hidden states, when asked for. [N, T, d] */
  hidden?: tf.Tensor3D;
  /** Per-token log Σ_v π², when asked for (masked). [N, T] */
  logSumSquares?: tf.Tensor2D;
  /** Per-token KL(π_ref ‖ π_θ), when reference logits are given (masked). [N, T] */
  kl?: tf.Tensor2D;
  /** Per-row statistics for TRL's token metrics, when asked for. [N] each */
  stats?: RowStats;
}

/**
 * The ids and attention mask of token rows as tensors, e.g. to run a reference model on them.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { rowTensors } from "./logps.ts";
 * const t = rowTensors({ length: 2, inputIds: Int32Array.from([5, 6]),
 *   attentionMask: Float32Array.from([1, 1]), completionMask: Float32Array.from([0, 1]) });
 * console.log(t.ids.shape); // [1, 2]
 * ```
 */
export function rowTensors(rows: TokenRows): { ids: tf.Tensor2D; attentionMask: tf.Tensor2D } {
  const n = rowCount(rows);
  return {
    ids: tf.tensor2d(rows.inputIds, [n, rows.length], "int32"),
    attentionMask: tf.tensor2d(rows.attentionMask, [n, rows.length], "float32"),
  };
}

function rowCount(rows: TokenRows): number {
  const t = rows.length;
  const size = rows.inputIds.length;
  if (!Number.isInteger(t) || t < 1 || size % t !== 0) {
    throw new RangeError(`inputIds has ${size} entries, not a multiple of length ${t}`);
  }
  for (const f of ["attentionMask", "completionMask"] as const) {
    if (rows[f].length !== size) {
      throw new RangeError(`${f} has ${rows[f].length} entries, inputIds ${size}`);
    }
  }
  return size / t;
}

/** Zero gradient, identity value: for quantities objectives must treat as constants. */
const detach = tf.customGrad(
  ((x: tf.Tensor) => ({
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  })) as unknown as Parameters<typeof tf.customGrad>[0],
) as (x: tf.Tensor) => tf.Tensor;

/**
 * `log softmax(logits)[r, labels[r]]` for logits [R, V], as one fused op, in row 0 of the
 * result. With `stats`, rows 1-3 hold each row's predictive entropy, mean logit and whether the
 * argmax is the label (TRL's token metrics, `logitStats`), computed from the same exponentials:
 * `H = log Σe - Σ e·z / Σe` with z = logits - max and e = exp(z), so the [R, V] exponential runs
 * once instead of three times. Only row 0 carries a gradient (the statistics are constants).
 *
 * The backward pass is the closed form `dy * (onehot(label) - softmax)` in two passes over
 * [R, V]: `-e * dy / Σe` everywhere, then the label entries overwritten with
 * `dy * (1 - p_label)` (no one-hot tensor). Tensors the gradient needs go through `save` (tfjs
 * disposes captured intermediates before backprop).
 */
function labelLogProbsOp(stats: boolean) {
  return tf.customGrad(
    ((logits: tf.Tensor2D, labels: tf.Tensor1D, save: tf.GradSaveFunc) => {
      const [r, v] = logits.shape;
      const shifted = tf.sub(logits, tf.max(logits, 1, true));
      const e = tf.exp(shifted);
      const total = tf.sum(e, 1);
      const logTotal = tf.log(total);
      const flatIndex = tf.add(tf.mul(tf.range(0, r, 1, "int32"), tf.scalar(v, "int32")), labels);
      const logp = tf.sub(tf.gather(tf.reshape(shifted, [-1]), flatIndex), logTotal);
      save([e, total, logp, flatIndex]);
      const value = stats
        ? tf.stack([
          logp,
          tf.sub(logTotal, tf.div(tf.sum(tf.mul(e, shifted), 1), total)),
          tf.mean(logits, 1),
          tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, "int32")), "float32"),
        ])
        : tf.reshape(logp, [1, r]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [eSaved, totalSaved, logpSaved, indexSaved] = saved;
          const d = tf.reshape(tf.slice(dy, [0, 0], [1, r]), [r]);
          const scale = tf.reshape(tf.neg(tf.div(d, totalSaved)), [r, 1]);
          const atLabel = tf.mul(d, tf.sub(1, tf.exp(logpSaved)));
          const g = tf.tensorScatterUpdate(
            tf.reshape(tf.mul(eSaved, scale), [r * v]),
            tf.reshape(indexSaved, [r, 1]),
            atLabel,
          );
          return [tf.reshape(g, [r, v]), tf.zerosLike(labels)];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  ) as (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor2D;
}

const labelLogProbs = labelLogProbsOp(false);
const labelLogProbsWithStats = labelLogProbsOp(true);

/**
 * Per-token and summed completion log-probs of N token rows in one forward pass.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { tokenLogps } from "./logps.ts";
 * const model = createGPT2({ vocab_size: 10, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const out = tokenLogps(model, { length: 3, inputIds: Int32Array.from([1, 2, 3]),
 *   attentionMask: Float32Array.from([1, 1, 1]), completionMask: Float32Array.from([0, 1, 1]) });
 * console.log(out.summed.dataSync()[0]); // log p(2 | 1) + log p(3 | 1 2)
 * model.dispose();
 * ```
 */
export function tokenLogps(model: CausalLM, rows: TokenRows, opts: LogpsOptions = {}): TokenLogps {
  const n = rowCount(rows);
  const t = rows.length, v = model.vocabSize;
  if (n * t * v >= 2 ** 31) {
    throw new RangeError(`${n} rows x ${t} tokens x ${v} vocab exceeds int32 gather indices`);
  }
  // Flat position r*t+p predicts token p+1 of row r. Only positions whose next token is a
  // scored completion token get logits (the unembedding and the [M, V] log-softmax are most of
  // a small model's work; prompts and padding need neither). slot[r*t+q] is where token q's
  // log-prob lands in the [M] result, or m (a trailing zero) when q is not scored.
  const at: number[] = [], labels: number[] = [];
  const slot = new Int32Array(n * t);
  for (let r = 0; r < n; r++) {
    for (let p = 0; p < t; p++) {
      const id = rows.inputIds[r * t + p];
      if (!Number.isInteger(id) || id < 0 || id >= v) {
        throw new RangeError(`inputIds row ${r}, position ${p}: token id ${id} outside [0, ${v})`);
      }
      if (p > 0 && rows.completionMask[r * t + p] !== 0) {
        slot[r * t + p] = at.length;
        at.push(r * t + p - 1);
        labels.push(id);
      } else slot[r * t + p] = -1;
    }
  }
  const m = at.length;
  for (let i = 0; i < slot.length; i++) if (slot[i] < 0) slot[i] = m;
  const ref = opts.referenceLogits;
  if (ref && (ref.shape[0] !== n || ref.shape[1] !== t || ref.shape[2] !== v)) {
    throw new RangeError(`referenceLogits shape [${ref.shape}] != [${n}, ${t}, ${v}]`);
  }
  return tf.tidy((): tf.TensorContainerObject => {
    const { ids, attentionMask } = rowTensors(rows);
    const mask = tf.tensor2d(rows.completionMask, [n, t]);
    const atT = tf.tensor1d(at, "int32");
    const out = model.forward(ids, {
      attentionMask,
      hidden: opts.hidden,
      logitsAt: m > 0 ? atT : undefined,
    });
    // A model that ignores `logitsAt` returns every position's logits: pick the rows here.
    const picked = out.logits.shape[0] === 1 && out.logits.shape[1] === m;
    const flat = (picked
      ? tf.reshape(out.logits, [m, v])
      : tf.gather(tf.reshape(out.logits, [n * t, v]), atT)) as tf.Tensor2D;
    // [M] values at scored tokens -> [n, t], zeros elsewhere (position 0 is never scored).
    const spread = (x: tf.Tensor) =>
      tf.mul(
        tf.reshape(tf.gather(tf.concat([x, tf.zeros([1])]), tf.tensor1d(slot, "int32")), [n, t]),
        mask,
      );
    const scored = m > 0
      ? (opts.stats ? labelLogProbsWithStats : labelLogProbs)(flat, tf.tensor1d(labels, "int32"))
      : undefined;
    const row = (i: number) =>
      tf.reshape(tf.slice(scored!, [i, 0], [1, m]), [m]);
    const perToken = m > 0 ? spread(row(0)) : tf.zeros([n, t]);
    const result: tf.TensorContainerObject = {
      perToken,
      mask,
      summed: tf.sum(perToken, 1),
      lengths: tf.sum(mask, 1),
    };
    if (out.hidden) {
      result.hidden = out.hidden;
    }
    if (opts.logSumSquares) {
      result.logSumSquares = m > 0
        ? spread(detach(tf.sub(tf.logSumExp(tf.mul(flat, 2), 1), tf.mul(tf.logSumExp(flat, 1), 2))))
        : tf.zeros([n, t]);
    }
    if (opts.stats) {
      const rows = (i: number) => m > 0 ? tf.sum(spread(row(i + 1)), 1) : tf.zeros([n]);
      result.stats = {
        entropy: rows(0),
        logitMean: rows(1),
        correct: rows(2),
        inputTokens: tf.sum(attentionMask, 1),
      } as unknown as tf.TensorContainerObject;
    }
    if (ref) {
      if (m > 0) {
        const logRef = tf.logSoftmax(tf.gather(tf.reshape(ref, [n * t, v]), atT));
        const logPolicy = tf.logSoftmax(flat);
        result.kl = spread(tf.sum(tf.mul(tf.exp(logRef), tf.sub(logRef, logPolicy)), 1));
      } else result.kl = tf.zeros([n, t]);
    }
    return result;
  }) as unknown as TokenLogps;
}

/** What {@link sequenceLogps} returns: `SequenceScores`-shaped fields plus extras. */
export interface SequenceLogps {
  /** Summed completion log-probs of the chosen responses. [B] */
  policyChosen: tf.Tensor1D;
  /** Summed completion log-probs of the rejected responses. [B] */
  policyRejected: tf.Tensor1D;
  /** Completion token counts. [B] */
  chosenLength: tf.Tensor1D;
  rejectedLength: tf.Tensor1D;
  /** Per-token log-probs and masks, [B, T] each, in `TokenScores` layout. */
  tokens: TokenScores;
  /** Final hidden states of the chosen / rejected rows, when asked for. [B, T, d] */
  hiddenChosen?: tf.Tensor3D;
  hiddenRejected?: tf.Tensor3D;
  /** Per-pair sums for TRL's token metrics, when asked for. */
  tokenStats?: TokenStats;
}

/**
 * Completion log-probs of a `PreferenceBatch` (rows `[chosen_0..chosen_{B-1}, rejected_0..]`)
 * under a causal LM, in one forward pass. The result's `policyChosen`, `policyRejected`,
 * `chosenLength`, `rejectedLength` and `tokens` are the objectives' `SequenceScores` fields;
 * add `refChosen` / `refRejected` from a reference pass (run under `tf.tidy`, no tape).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { sequenceLogps } from "./logps.ts";
 * const model = createGPT2({ vocab_size: 10, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * // One pair: prompt [1], chosen [2, 3], rejected [4] (right-padded with 0).
 * const batch = {
 *   size: 1, length: 3, pairIndex: [0], promptLength: [1, 1], completionLength: [2, 1],
 *   inputIds: Int32Array.from([1, 2, 3, 1, 4, 0]),
 *   attentionMask: Float32Array.from([1, 1, 1, 1, 1, 0]),
 *   completionMask: Float32Array.from([0, 1, 1, 0, 1, 0]),
 * };
 * const s = sequenceLogps(model, batch);
 * console.log(s.policyChosen.dataSync(), s.chosenLength.dataSync()); // [..], [2]
 * model.dispose();
 * ```
 */
export function sequenceLogps(
  model: CausalLM,
  batch: PreferenceBatch,
  opts: LogpsOptions = {},
): SequenceLogps {
  const b = batch.size;
  if (rowCount(batch) !== 2 * b) {
    throw new RangeError(
      `batch holds ${rowCount(batch)} rows; a PreferenceBatch of size ${b} needs ${2 * b}`,
    );
  }
  return tf.tidy((): tf.TensorContainerObject => {
    const out = tokenLogps(model, batch, opts);
    const halves = <T extends tf.Tensor>(x: T) => tf.split(x, 2, 0) as [T, T];
    const [policyChosen, policyRejected] = halves(out.summed);
    const [chosenLength, rejectedLength] = halves(out.lengths);
    const [tokChosen, tokRejected] = halves(out.perToken);
    const [chosenMask, rejectedMask] = halves(out.mask);
    const tokens: tf.TensorContainerObject = {
      policyChosen: tokChosen,
      policyRejected: tokRejected,
      chosenMask,
      rejectedMask,
    };
    if (out.logSumSquares) {
      [tokens.chosenLogSumSquares, tokens.rejectedLogSumSquares] = halves(out.logSumSquares);
    }
    if (out.kl) [tokens.klChosen, tokens.klRejected] = halves(out.kl);
    const result: tf.TensorContainerObject = {
      policyChosen,
      policyRejected,
      chosenLength,
      rejectedLength,
      tokens,
    };
    if (out.hidden) [result.hiddenChosen, result.hiddenRejected] = halves(out.hidden);
    if (out.stats) result.tokenStats = pairStats(out.stats) as unknown as tf.TensorContainerObject;
    return result;
  }) as unknown as SequenceLogps;
}

/** Chosen/rejected halves of row statistics as per-pair {@link TokenStats}. */
function pairStats(rows: RowStats): TokenStats {
  const halves = (x: tf.Tensor1D) => tf.split(x, 2, 0) as [tf.Tensor1D, tf.Tensor1D];
  const [entropyChosen, entropyRejected] = halves(rows.entropy);
  const [logitChosen, logitRejected] = halves(rows.logitMean);
  const [correctChosen] = halves(rows.correct);
  const [inChosen, inRejected] = halves(rows.inputTokens);
  return {
    entropyChosen,
    entropyRejected,
    logitChosen,
    logitRejected,
    correctChosen,
    inputTokens: tf.add(inChosen, inRejected),
  };
}

/**
 * A trainer adapter for a causal LM over `PreferenceBatch`es: its variables (named by their
 * Hugging Face tensor names) and {@link sequenceLogps} as the pair scores, with per-token data
 * in `tokens` when `opts.tokens` is set (token-level objectives), and the sums behind TRL's token
 * metrics in `tokenStats` unless `opts.stats` is false; `measureScores` gives the four sums alone
 * (no per-token data, no statistics) for trackers.
 *
 * @example
 * ```ts ignore
 * const scorer = causalLMScorer(model, { tokens: false });
 * const scores = scorer.scores(batch);
 * ```
 */
export function causalLMScorer(
  model: CausalLM,
  opts: { tokens?: boolean; logSumSquares?: boolean; stats?: boolean } = {},
): PreferenceScorer<PreferenceBatch> {
  return {
    variables: () => model.variables(),
    variableNames: () => [...model.namedVariables().keys()],
    scores: (batch: PreferenceBatch): PairScores =>
      tf.tidy(() => {
        const s = sequenceLogps(model, batch, {
          logSumSquares: opts.logSumSquares,
          stats: opts.stats !== false,
        });
        const out: tf.TensorContainerObject = {
          policyChosen: s.policyChosen,
          policyRejected: s.policyRejected,
          chosenLength: s.chosenLength,
          rejectedLength: s.rejectedLength,
        };
        if (opts.tokens) out.tokens = s.tokens as unknown as tf.TensorContainerObject;
        if (s.tokenStats) out.tokenStats = s.tokenStats as unknown as tf.TensorContainerObject;
        return out;
      }) as unknown as PairScores,
    measureScores: (batch: PreferenceBatch): PairScores =>
      tf.tidy(() => {
        const s = sequenceLogps(model, batch, { stats: false });
        return {
          policyChosen: s.policyChosen,
          policyRejected: s.policyRejected,
          chosenLength: s.chosenLength,
          rejectedLength: s.rejectedLength,
        } as unknown as tf.TensorContainerObject;
      }) as unknown as PairScores,
  };
}
