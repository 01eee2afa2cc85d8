import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import "../../lib/kernels/gradients.ts";
import { assertClose, useCpu } from "../helpers.ts";
import { createLinearSoftmax, createUnconstrainedFeatures } from "../../lib/models/toy.ts";
import { parameterCount } from "../../lib/models/params.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { createLlama } from "../../lib/models/llama.ts";

await useCpu();

function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

const H = [[1, 0.5], [-0.5, 2]];
const W = [[1, 0], [0.9, 0.1], [0, 1], [-1, -1]];
const TOKENS = ["Yes", "No", "Never", "Maybe"];

Deno.test("toy/unconstrained: logits = W h_x and log-probs match a hand computation", async () => {
  const m = createUnconstrainedFeatures({
    tokens: TOKENS,
    prompts: ["p", "q"],
    dim: 2,
    hidden: H,
    unembedding: W,
  });
  // z(p) = W h_p = [1, 0.95, 0.5, -1.5]; z(q) = [-0.5, -0.25, 2, -1.5]
  assertClose(m.logits([0, 1]).arraySync().flat(), [1, 0.95, 0.5, -1.5, -0.5, -0.25, 2, -1.5]);
  const expected = logSoftmax([1, 0.95, 0.5, -1.5]);
  assertClose(m.logProbs("p").dataSync(), expected);
  assertClose(m.logProb("p", "Never"), expected[2]);
  const dist = m.distribution("p");
  assert.deepEqual(await m.distributionAsync("p"), dist);
  assertClose(await m.logProbAsync("q", "Yes"), logSoftmax([-0.5, -0.25, 2, -1.5])[0]);
  assertClose(dist.No, Math.exp(expected[1]));
  assertClose(Object.values(dist).reduce((a, b) => a + b, 0), 1);
  const s = m.scores({
    prompt: Int32Array.from([0, 1]),
    chosen: Int32Array.from([1, 0]),
    rejected: Int32Array.from([2, 3]),
    pairIndex: [0, 1],
  });
  const lq = logSoftmax([-0.5, -0.25, 2, -1.5]);
  assertClose(s.policyChosen.dataSync(), [expected[1], lq[0]]);
  assertClose(s.policyRejected.dataSync(), [expected[2], lq[3]]);
  assert.deepEqual([...s.chosenLength.dataSync(), ...s.rejectedLength.dataSync()], [1, 1, 1, 1]);
  assertClose(m.logps({ prompt: Int32Array.from([1]), token: Int32Array.from([2]) }).dataSync(), [
    lq[2],
  ]);
  assert.throws(() => m.logProb("p", "Sure"), /unknown token "Sure"/);
  assert.throws(() => m.logProbs(2), /prompt index 2 out of range/);
  m.dispose();
});

Deno.test("toy/unconstrained: gradient of log pi(y|x) is (e_y - p) h^T for W and W^T (e_y - p) for h", () => {
  const m = createUnconstrainedFeatures({
    tokens: TOKENS,
    prompts: 2,
    dim: 2,
    hidden: H,
    unembedding: W,
  });
  const p = logSoftmax([1, 0.95, 0.5, -1.5]).map(Math.exp);
  const y = 1;
  const { grads } = tf.variableGrads(() => tf.sum(m.tokenLogProbs([0], [y])), m.variables());
  const r = p.map((pk, k) => (k === y ? 1 : 0) - pk);
  const gW = r.flatMap((rk) => H[0].map((h) => rk * h));
  const gh = [0, 1].map((j) => r.reduce((s, rk, k) => s + rk * W[k][j], 0));
  assertClose(grads[m.unembedding.name].dataSync(), gW);
  assertClose(grads[m.hidden.name].dataSync(), [...gh, 0, 0]); // prompt x1 untouched
  m.dispose();
});

Deno.test("toy/linear: one gradient step on -log p(y-) squeezes as the closed form predicts", () => {
  // z = W^T x; a step W <- W - eta * grad(log p(y-)) = W + eta x (p - e_y-)^T (down-weights y-)
  // gives p'_k proportional to p_k exp(c (p_k - 1[k = y-])), c = eta * |x|^2.
  const x = [0.6, -0.8, 1.1];
  const m = createLinearSoftmax({
    tokens: ["a", "b", "c", "d", "e"],
    inputs: [x],
    seed: 3,
    weightStd: 1.5,
  });
  const before = Object.values(m.distribution(0));
  const yMinus = 2, eta = 0.7;
  const { grads } = tf.variableGrads(() => tf.sum(m.tokenLogProbs([0], [yMinus])), m.variables());
  m.weights.assign(tf.sub(m.weights, tf.mul(eta, grads[m.weights.name])));
  const after = Object.values(m.distribution(0));
  const c = eta * x.reduce((s, v) => s + v * v, 0);
  const unnorm = before.map((pk, k) => pk * Math.exp(c * (pk - (k === yMinus ? 1 : 0))));
  const z = unnorm.reduce((a, b) => a + b, 0);
  assertClose(after, unnorm.map((u) => u / z), { rtol: 1e-4 });
  assert.ok(after[yMinus] < before[yMinus]);
  m.dispose();
});

Deno.test("toy/linear: inputs are fixed, only W is trainable; seeded init reproduces", () => {
  const a = createLinearSoftmax({ tokens: ["a", "b"], dim: 3, prompts: ["u", "v"], seed: 5 });
  const b = createLinearSoftmax({ tokens: ["a", "b"], dim: 3, prompts: ["u", "v"], seed: 5 });
  assert.deepEqual(a.weights.dataSync(), b.weights.dataSync());
  assert.deepEqual(a.inputs.dataSync(), b.inputs.dataSync());
  assert.equal(a.variables().length, 1);
  assert.equal(parameterCount(a), 6);
  assert.throws(() => createLinearSoftmax({ tokens: ["a", "a"], dim: 2 }), /duplicate name "a"/);
  assert.throws(
    () => createLinearSoftmax({ tokens: ["a"], inputs: [[1, 2]], weights: [[1]] }),
    /weights must be 2 x 1/,
  );
  a.dispose();
  b.dispose();
});

Deno.test("parameterCount: counts GPT-2 and Llama parameters by formula", () => {
  const d = 16, v = 23, L = 2, inner = 64, pos = 16;
  const g = createGPT2({ vocab_size: v, n_positions: pos, n_embd: d, n_layer: L, n_head: 4 });
  const perBlock = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * inner + inner) +
    (inner * d + d);
  assert.equal(parameterCount(g), v * d + pos * d + L * perBlock + 2 * d);
  g.dispose();
  const l = createLlama({
    vocab_size: v,
    hidden_size: d,
    intermediate_size: 24,
    num_hidden_layers: L,
    num_attention_heads: 4,
    num_key_value_heads: 2,
  });
  const kv = 2 * 4; // kv heads * head_dim
  const block = d * d + 2 * kv * d + d * d + 3 * 24 * d + 2 * d;
  assert.equal(parameterCount(l), v * d + L * block + d + v * d);
  l.dispose();
});
