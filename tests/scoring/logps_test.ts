import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import "../../lib/kernels/gradients.ts";
import { assertClose, assertGradsLeakNothing, smallLMs, useCpu } from "../helpers.ts";
import { causalLMScorer, sequenceLogps, tokenLogps } from "../../lib/scoring/logps.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import type { CausalLM, ForwardOptions } from "../../lib/models/types.ts";
import type { PreferenceBatch } from "../../lib/data/types.ts";

await useCpu();

const V = 5;
// Bigram logits table: row a = logits of the next token after token a.
const TABLE = [
  [0.5, -1, 2, 0, 0.3],
  [1, 1, -0.5, 0.2, -2],
  [0, 0.7, 0.1, -1.2, 1.5],
  [-0.3, 0.4, 0.9, 2.2, -0.1],
  [1.3, -0.6, 0, 0.5, 0.8],
];

/** A causal LM whose logits at position t depend only on token t (a bigram table). */
class Bigram implements CausalLM {
  readonly kind = "bigram";
  readonly config = {};
  readonly vocabSize = V;
  readonly hiddenSize = V;
  readonly table: tf.Variable;
  constructor(table: number[][]) {
    this.table = tf.variable(tf.tensor2d(table));
  }
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}) {
    const [n, t] = ids.shape;
    const logits = tf.reshape(tf.gather(this.table, tf.reshape(ids, [-1])), [
      n,
      t,
      V,
    ]) as tf.Tensor3D;
    return opts.hidden ? { logits, hidden: tf.clone(logits) } : { logits };
  }
  variables() {
    return [this.table];
  }
  namedVariables() {
    return new Map([["table", this.table]]);
  }
  dispose() {
    this.table.dispose();
  }
}

function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

interface Pair {
  prompt: number[];
  chosen: number[];
  rejected: number[];
}

/** Lay out pairs as a PreferenceBatch by hand: chosen rows, then rejected rows, right-padded. */
function makeBatch(pairs: Pair[], pad = 0, extra = 0): PreferenceBatch {
  const rows = [
    ...pairs.map((p) => [p.prompt, p.chosen]),
    ...pairs.map((p) => [p.prompt, p.rejected]),
  ];
  const T = Math.max(...rows.map(([a, b]) => a.length + b.length)) + extra;
  const inputIds = new Int32Array(rows.length * T).fill(pad);
  const attentionMask = new Float32Array(rows.length * T);
  const completionMask = new Float32Array(rows.length * T);
  rows.forEach(([prompt, completion], r) => {
    [...prompt, ...completion].forEach((id, t) => {
      inputIds[r * T + t] = id;
      attentionMask[r * T + t] = 1;
      if (t >= prompt.length) completionMask[r * T + t] = 1;
    });
  });
  return {
    size: pairs.length,
    length: T,
    inputIds,
    attentionMask,
    completionMask,
    pairIndex: pairs.map((_, i) => i),
    promptLength: rows.map(([p]) => p.length),
    completionLength: rows.map(([, c]) => c.length),
  };
}

const PAIRS: Pair[] = [
  { prompt: [1, 2], chosen: [3, 4, 0], rejected: [2] },
  { prompt: [4], chosen: [0], rejected: [1, 1, 3, 2] },
];

/** Hand computation: Σ over completion tokens of log softmax(TABLE[prev])[token]. */
function handLogp(prompt: number[], completion: number[], table = TABLE): number[] {
  const seq = [...prompt, ...completion];
  return completion.map((tok, k) => {
    const prev = seq[prompt.length + k - 1];
    return logSoftmax(table[prev])[tok];
  });
}

Deno.test("sequenceLogps: summed and per-token log-probs match a hand computation", () => {
  const model = new Bigram(TABLE);
  const batch = makeBatch(PAIRS);
  const s = sequenceLogps(model, batch);
  const T = batch.length;
  assert.deepEqual(s.policyChosen.shape, [2]);
  assert.deepEqual(s.tokens.policyChosen.shape, [2, T]);
  PAIRS.forEach((p, i) => {
    const c = handLogp(p.prompt, p.chosen), r = handLogp(p.prompt, p.rejected);
    assertClose(s.policyChosen.dataSync()[i], c.reduce((a, b) => a + b, 0), { msg: `chosen ${i}` });
    assertClose(s.policyRejected.dataSync()[i], r.reduce((a, b) => a + b, 0), {
      msg: `rejected ${i}`,
    });
    assert.equal(s.chosenLength.dataSync()[i], p.chosen.length);
    assert.equal(s.rejectedLength.dataSync()[i], p.rejected.length);
    // Per-token layout: token t of the row at position t, zeros on prompt and padding.
    const rowC = new Array(T).fill(0), rowR = new Array(T).fill(0);
    c.forEach((v, k) => (rowC[p.prompt.length + k] = v));
    r.forEach((v, k) => (rowR[p.prompt.length + k] = v));
    assertClose(s.tokens.policyChosen.arraySync()[i], rowC);
    assertClose(s.tokens.policyRejected.arraySync()[i], rowR);
    assert.deepEqual(
      s.tokens.chosenMask.arraySync()[i],
      rowC.map((_, t) => (t >= p.prompt.length && t < p.prompt.length + p.chosen.length ? 1 : 0)),
    );
  });
  model.dispose();
});

Deno.test("sequenceLogps: gradient w.r.t. the bigram table is e_y - softmax(row) per scored token", () => {
  const model = new Bigram(TABLE);
  const batch = makeBatch(PAIRS);
  const { grads } = tf.variableGrads(() => {
    const s = sequenceLogps(model, batch);
    return tf.sub(tf.sum(s.policyChosen), tf.mul(2, tf.sum(s.policyRejected)));
  });
  const expected = TABLE.map((row) => row.map(() => 0));
  const accumulate = (prompt: number[], completion: number[], weight: number) => {
    const seq = [...prompt, ...completion];
    completion.forEach((tok, k) => {
      const prev = seq[prompt.length + k - 1];
      const p = logSoftmax(TABLE[prev]).map(Math.exp);
      p.forEach((pv, v) => (expected[prev][v] += weight * ((v === tok ? 1 : 0) - pv)));
    });
  };
  for (const p of PAIRS) {
    accumulate(p.prompt, p.chosen, 1);
    accumulate(p.prompt, p.rejected, -2);
  }
  assertClose(grads[model.table.name].dataSync(), expected.flat(), { atol: 1e-5 });
  model.dispose();
});

Deno.test("sequenceLogps: batched results equal per-example results despite padding (GPT-2, Llama)", () => {
  const pairs: Pair[] = [
    { prompt: [3, 9, 1], chosen: [4, 4, 2, 10], rejected: [7] },
    { prompt: [5], chosen: [1, 2], rejected: [8, 8, 8, 8, 6] },
    { prompt: [2, 2, 2, 2], chosen: [0], rejected: [11, 3] },
  ];
  const models = smallLMs(1);
  for (const model of models) {
    const batched = sequenceLogps(model, makeBatch(pairs, 11, 2)); // pad with a real token id
    pairs.forEach((p, i) => {
      for (const [side, completion] of [["Chosen", p.chosen], ["Rejected", p.rejected]] as const) {
        const seq = [...p.prompt, ...completion];
        const single = tokenLogps(model, {
          length: seq.length,
          inputIds: Int32Array.from(seq),
          attentionMask: new Float32Array(seq.length).fill(1),
          completionMask: Float32Array.from(seq, (_, t) => (t >= p.prompt.length ? 1 : 0)),
        });
        assertClose(batched[`policy${side}`].dataSync()[i], single.summed.dataSync()[0], {
          atol: 1e-5,
          msg: `${model.kind} pair ${i} ${side}`,
        });
        const row = batched.tokens[`policy${side}`].arraySync()[i].slice(0, seq.length);
        assertClose(row, single.perToken.dataSync(), { atol: 1e-5 });
      }
    });
    model.dispose();
  }
});

Deno.test("tokenLogps: logits only at scored positions give the full-logits values and gradients (GPT-2, Llama)", () => {
  const models = smallLMs(3);
  // Two rows of 6: prompts of 2 and 3 tokens, the second row right-padded by one position.
  const ids = [3, 9, 1, 4, 4, 2, 5, 1, 2, 8, 8, 0];
  const completion = [0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0];
  const rows = {
    length: 6,
    inputIds: Int32Array.from(ids),
    attentionMask: Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]),
    completionMask: Float32Array.from(completion),
  };
  for (const model of models) {
    // Independently: every position's logits, log-softmax in float64, label read at t-1.
    const full = model.forward(tf.tensor2d(ids, [2, 6], "int32"), {
      attentionMask: tf.tensor2d(rows.attentionMask, [2, 6]),
    }).logits.arraySync();
    const expected = ids.map((id, q) => {
      const r = Math.floor(q / 6), t = q % 6;
      return t > 0 && completion[q] ? logSoftmax(full[r][t - 1])[id] : 0;
    });
    const lss = ids.map((_, q) => {
      const r = Math.floor(q / 6), t = q % 6;
      if (t === 0 || !completion[q]) return 0;
      return Math.log(logSoftmax(full[r][t - 1]).reduce((s, v) => s + Math.exp(2 * v), 0));
    });
    const out = tokenLogps(model, rows, { logSumSquares: true });
    assertClose(out.perToken.dataSync(), expected, { atol: 1e-5, msg: model.kind });
    assertClose(out.logSumSquares!.dataSync(), lss, { atol: 1e-5, msg: model.kind });
    // Gradients: against one-hot times log-softmax of the full logits, written out in tfjs.
    const labels = tf.oneHot(tf.tensor1d(ids.map((_, q) => ids[q + 1] ?? 0), "int32"), 12);
    const nextMask = tf.tensor2d(completion.map((_, q) => (q % 6 < 5 ? completion[q + 1] : 0)), [
      12,
      1,
    ]);
    const naive = tf.variableGrads(() => {
      const z = model.forward(tf.tensor2d(ids, [2, 6], "int32"), {
        attentionMask: tf.tensor2d(rows.attentionMask, [2, 6]),
      }).logits;
      const lp = tf.logSoftmax(tf.reshape(z, [12, 12]));
      return tf.sum(tf.mul(tf.mul(lp, tf.cast(labels, "float32")), nextMask)) as tf.Scalar;
    });
    const fast = tf.variableGrads(() => tf.sum(tokenLogps(model, rows).perToken) as tf.Scalar);
    assertClose(fast.value.dataSync()[0], naive.value.dataSync()[0], { atol: 1e-5 });
    for (const v of model.variables()) {
      assertClose(fast.grads[v.name].dataSync(), naive.grads[v.name].dataSync(), {
        atol: 1e-5,
        msg: `${model.kind} ${v.name}`,
      });
    }
    model.dispose();
  }
});

Deno.test("tokenLogps: WPO log-sum-squares and TDPO KL extras match hand values", () => {
  const model = new Bigram(TABLE);
  const refTable = TABLE.map((row, a) => row.map((v, b) => v * 0.5 + (a === b ? 1 : 0)));
  const ids = [2, 0, 4, 4];
  const rows = {
    length: 4,
    inputIds: Int32Array.from(ids),
    attentionMask: new Float32Array(4).fill(1),
    completionMask: Float32Array.from([0, 0, 1, 1]),
  };
  const refLogits = tf.tensor3d([ids.map((id) => refTable[id])]);
  const out = tokenLogps(model, rows, {
    logSumSquares: true,
    referenceLogits: refLogits,
    hidden: true,
  });
  const lss = [0, 0, 0, 0], kl = [0, 0, 0, 0];
  for (const t of [2, 3]) {
    const lp = logSoftmax(TABLE[ids[t - 1]]), lr = logSoftmax(refTable[ids[t - 1]]);
    lss[t] = Math.log(lp.reduce((s, v) => s + Math.exp(2 * v), 0));
    kl[t] = lr.reduce((s, v, k) => s + Math.exp(v) * (v - lp[k]), 0);
  }
  assertClose(out.logSumSquares!.dataSync(), lss);
  assertClose(out.kl!.dataSync(), kl);
  assert.deepEqual(out.hidden!.shape, [1, 4, V]);
  // The WPO weights are constants: no gradient reaches the table through them.
  const { grads } = tf.variableGrads(() =>
    tf.sum(tokenLogps(model, rows, { logSumSquares: true }).logSumSquares!) as tf.Scalar
  );
  assert.ok(grads[model.table.name].dataSync().every((v) => v === 0));
  model.dispose();
});

Deno.test("sequenceLogps: hidden states split into chosen and rejected halves", () => {
  const model = createGPT2({ vocab_size: 6, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 }, {
    seed: 0,
  });
  const batch = makeBatch([{ prompt: [1], chosen: [2, 3], rejected: [4] }, {
    prompt: [5, 5],
    chosen: [0],
    rejected: [1, 2],
  }]);
  const s = sequenceLogps(model, batch, { hidden: true });
  const ids = tf.tensor2d(batch.inputIds, [4, batch.length], "int32");
  const full = model.forward(ids, {
    hidden: true,
    attentionMask: tf.tensor2d(batch.attentionMask, [4, batch.length]),
  });
  const h = full.hidden!.arraySync();
  assert.deepEqual(s.hiddenChosen!.arraySync(), h.slice(0, 2));
  assert.deepEqual(s.hiddenRejected!.arraySync(), h.slice(2));
  model.dispose();
});

Deno.test("sequenceLogps: bad batches are rejected with the offending row and position", () => {
  const model = new Bigram(TABLE);
  const batch = makeBatch(PAIRS);
  batch.inputIds[batch.length + 1] = 7;
  assert.throws(
    () => sequenceLogps(model, batch),
    /row 1, position 1: token id 7 outside \[0, 5\)/,
  );
  const short = makeBatch(PAIRS);
  assert.throws(() => sequenceLogps(model, { ...short, size: 3 }), /size 3 needs 6/);
  assert.throws(
    () => sequenceLogps(model, { ...short, completionMask: new Float32Array(3) }),
    /completionMask has 3 entries/,
  );
  model.dispose();
});

Deno.test("causalLMScorer: scores and a training step leak no tensors", () => {
  const model = createGPT2({ vocab_size: 6, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 }, {
    seed: 0,
  });
  const scorer = causalLMScorer(model, { tokens: true });
  const batch = makeBatch([{ prompt: [1], chosen: [2, 3], rejected: [4] }]);
  assert.equal(scorer.variableNames!()[0], "transformer.wte.weight");
  assertGradsLeakNothing(() => {
    const s = scorer.scores(batch);
    return tf.mean(tf.softplus(tf.sub(s.policyRejected, s.policyChosen))) as tf.Scalar;
  }, scorer.variables());
  model.dispose();
});

Deno.test("sequenceLogps with token stats: entropy, mean logit, argmax hits and gradient by hand", () => {
  const model = new Bigram(TABLE);
  const batch = makeBatch(PAIRS);
  // Per pair: Σ over completion tokens of H(softmax(TABLE[prev])), of mean(TABLE[prev]), and of
  // [argmax TABLE[prev] = token]; float64, from the table alone.
  const sums = (prompt: number[], completion: number[]) => {
    const seq = [...prompt, ...completion];
    let h = 0, mean = 0, hit = 0;
    completion.forEach((tok, k) => {
      const z = TABLE[seq[prompt.length + k - 1]];
      const lp = logSoftmax(z);
      h -= lp.reduce((s, l) => s + Math.exp(l) * l, 0);
      mean += z.reduce((s, x) => s + x, 0) / z.length;
      hit += z.indexOf(Math.max(...z)) === tok ? 1 : 0;
    });
    return { h, mean, hit };
  };
  const { value, grads } = tf.variableGrads(() => {
    const s = sequenceLogps(model, batch, { stats: true });
    const st = s.tokenStats!;
    assertClose(
      st.entropyChosen.dataSync(),
      PAIRS.map((p) => sums(p.prompt, p.chosen).h),
      { rtol: 1e-5, msg: "entropy chosen" },
    );
    assertClose(
      st.entropyRejected.dataSync(),
      PAIRS.map((p) => sums(p.prompt, p.rejected).h),
      { rtol: 1e-5, msg: "entropy rejected" },
    );
    assertClose(
      st.logitRejected.dataSync(),
      PAIRS.map((p) => sums(p.prompt, p.rejected).mean),
      { rtol: 1e-5, atol: 1e-6, msg: "mean logit" },
    );
    assert.deepEqual(
      Array.from(st.correctChosen.dataSync()),
      PAIRS.map((p) => sums(p.prompt, p.chosen).hit),
    );
    return tf.sum(s.policyChosen);
  });
  const expected = TABLE.map((row) => row.map(() => 0));
  for (const p of PAIRS) {
    const seq = [...p.prompt, ...p.chosen];
    p.chosen.forEach((tok, k) => {
      const prev = seq[p.prompt.length + k - 1];
      logSoftmax(TABLE[prev]).map(Math.exp).forEach((pv, v) => {
        expected[prev][v] += (v === tok ? 1 : 0) - pv;
      });
    });
  }
  assertClose(
    value.dataSync(),
    [PAIRS.reduce((s, p) => s + handLogp(p.prompt, p.chosen).reduce((a, b) => a + b, 0), 0)],
    { rtol: 1e-5 },
  );
  // The statistics are constants: the gradient is the plain log-prob's.
  assertClose(grads[model.table.name].dataSync(), expected.flat(), { atol: 1e-5 });
  model.dispose();
});
