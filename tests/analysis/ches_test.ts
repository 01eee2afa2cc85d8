import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { chesFromSums, chesScores } from "../../lib/analysis/ches.ts";
import { lowestScores, percentileSubsets, rankByScore } from "../../lib/analysis/ches_select.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import type { CausalLM, ForwardOptions, ForwardOutput } from "../../lib/models/types.ts";
import type { TokenizedPair } from "../../lib/data/types.ts";

await useCpu();

const D = 3, VOCAB = 12, EOS = 11;
/** Token embeddings of the fake model: row id = [id, 1 - id/4, (id % 3) - 1]. */
const emb = (id: number) => [id, 1 - id / 4, (id % 3) - 1];

/** Hidden states of one unpadded row, by hand: h_t = emb(ids_t) + 0.5 h_{t-1}. */
function handHidden(ids: number[]): number[][] {
  const out: number[][] = [];
  ids.forEach((id, t) => {
    const e = emb(id);
    out.push(e.map((v, j) => v + (t > 0 ? 0.5 * out[t - 1][j] : 0)));
  });
  return out;
}

/** A causal "model" whose final hidden states are the recurrence above (causal, so padding
 * at the end never changes earlier states). Counts forward calls and rows. */
class FakeLM implements CausalLM {
  readonly kind = "fake";
  readonly config = {};
  readonly vocabSize = VOCAB;
  readonly hiddenSize = D;
  calls = 0;
  forward(ids: tf.Tensor2D, _opts?: ForwardOptions): ForwardOutput {
    this.calls++;
    const [n, t] = ids.shape;
    const flat = ids.dataSync();
    const h = new Float32Array(n * t * D);
    for (let r = 0; r < n; r++) {
      const rows = handHidden(Array.from(flat.subarray(r * t, (r + 1) * t)));
      rows.forEach((v, k) => h.set(v, (r * t + k) * D));
    }
    return { logits: tf.zeros([n, t, VOCAB]), hidden: tf.tensor3d(h, [n, t, D]) };
  }
  variables(): tf.Variable[] {
    return [];
  }
  namedVariables(): ReadonlyMap<string, tf.Variable> {
    return new Map();
  }
  dispose(): void {}
}

const add = (a: number[], b: number[]) => a.map((v, i) => v + b[i]);
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

Deno.test("CHES equals a float64 hand computation over the exact positions", async () => {
  // Prompt [3, 5, 7] (P = 3), chosen [2, 4, EOS] (3 tokens), rejected [9, EOS] (2 tokens).
  const pair: TokenizedPair = {
    index: 42,
    promptIds: [3, 5, 7],
    chosenIds: [2, 4, EOS],
    rejectedIds: [9, EOS],
  };
  const hc = handHidden([3, 5, 7, 2, 4, EOS]);
  const hr = handHidden([3, 5, 7, 9, EOS]);
  // States predicting the completion tokens: positions 2, 3, 4 (chosen) and 2, 3 (rejected).
  const sPlus = add(add(hc[2], hc[3]), hc[4]);
  const sMinus = add(hr[2], hr[3]);
  const ches = dot(sPlus, sMinus) - dot(sPlus, sPlus);
  const norm = dot(sPlus, sMinus) / (3 * 2) - dot(sPlus, sPlus) / 9;
  const model = new FakeLM();
  const [s] = await chesScores(model, [pair]);
  assert.equal(s.index, 42);
  assert.deepEqual([s.promptLength, s.chosenLength, s.rejectedLength], [3, 3, 2]);
  assertClose(s.ches, ches, { rtol: 1e-6, msg: "CHES" });
  assertClose(s.chesNormalized, norm, { rtol: 1e-6, msg: "normalised CHES" });
  assert.equal(s.score, s.ches);
  assert.equal(
    (await chesScores(model, [pair], { lengthNormalized: true }))[0].score,
    s.chesNormalized,
  );
  // Including the EOS state (position 5) or dropping the last prompt token would differ.
  const wrong = add(sPlus, hc[5]);
  assert.ok(Math.abs(dot(wrong, sMinus) - dot(wrong, wrong) - ches) > 1);
});

Deno.test("chesFromSums by hand", () => {
  // S+ = (1, 2), S- = (3, -1): <S+, S-> = 1, ||S+||^2 = 5.
  const c = chesFromSums([1, 2], [3, -1], { chosenLength: 2, rejectedLength: 4 });
  assertClose(c.ches, -4, { rtol: 1e-15 });
  assertClose(c.chesNormalized, 1 / 8 - 5 / 4, { rtol: 1e-15 });
  assert.throws(() => chesFromSums([1], [1], { chosenLength: 0, rejectedLength: 1 }), RangeError);
});

const pairs: TokenizedPair[] = [
  { index: 0, promptIds: [1, 2, 3], chosenIds: [4, 5, EOS], rejectedIds: [6, EOS] },
  { index: 1, promptIds: [7], chosenIds: [8, EOS], rejectedIds: [8, 9, 10, 4, EOS] },
  { index: 2, promptIds: [2, 2, 2, 2, 2, 2], chosenIds: [EOS], rejectedIds: [3, EOS] },
  { index: 3, promptIds: [5, 4], chosenIds: [1, 1, 1, 1, EOS], rejectedIds: [1, 1, EOS] },
  { index: 4, promptIds: [9, 8, 7, 6], chosenIds: [5, EOS], rejectedIds: [5, EOS] },
];

Deno.test("CHES batched on a GPT-2 equals per-pair and a hand sum of its hidden states", async () => {
  const model = createGPT2({
    vocab_size: VOCAB,
    n_positions: 16,
    n_embd: 16,
    n_layer: 2,
    n_head: 2,
  }, { seed: 3 });
  const batched = await chesScores(model, pairs, { batchSize: 3 });
  const unsorted = await chesScores(model, pairs, {
    batchSize: 5,
    sortByLength: false,
    padMultiple: 1,
  });
  const single = [];
  for (const p of pairs) single.push((await chesScores(model, [p]))[0]);
  // The model caches one attention mask per length; once warm, a pass must leave nothing.
  const before = tf.memory().numTensors;
  await chesScores(model, pairs, { batchSize: 3 });
  for (const p of pairs) await chesScores(model, [p]);
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
  assert.deepEqual(batched.map((s) => s.index), [0, 1, 2, 3, 4]);
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    // Hand: hidden states of the unpadded rows, summed in float64 from P-1 to P+n-2.
    const sum = (completion: number[]) => {
      const ids = [...p.promptIds, ...completion];
      const h = tf.tidy(() =>
        model.forward(tf.tensor2d([ids], [1, ids.length], "int32"), {
          hidden: true,
        }).hidden!
      );
      const v = h.arraySync()[0];
      h.dispose();
      const s = new Array(16).fill(0);
      for (let t = p.promptIds.length - 1; t <= p.promptIds.length + completion.length - 2; t++) {
        for (let j = 0; j < 16; j++) s[j] += v[t][j];
      }
      return s;
    };
    const sp = sum(p.chosenIds), sm = sum(p.rejectedIds);
    const np = p.chosenIds.length, nm = p.rejectedIds.length;
    const ches = dot(sp, sm) - dot(sp, sp);
    const norm = dot(sp, sm) / (np * nm) - dot(sp, sp) / (np * np);
    const tol = { rtol: 1e-4, atol: 1e-4 * dot(sp, sp) };
    assertClose(single[i].ches, ches, { ...tol, msg: `pair ${i} per-pair vs hand` });
    assertClose(batched[i].ches, single[i].ches, { ...tol, msg: `pair ${i} batched vs single` });
    assertClose(unsorted[i].ches, single[i].ches, { ...tol, msg: `pair ${i} unsorted` });
    assertClose(batched[i].chesNormalized, norm, {
      rtol: 1e-4,
      atol: 1e-4 * dot(sp, sp) / (np * np),
      msg: `pair ${i} normalised`,
    });
    assert.deepEqual([batched[i].chosenLength, batched[i].rejectedLength], [np, nm]);
  }
  // Identical responses (pair 4): <S+, S-> = ||S+||^2, so CHES is 0 up to rounding.
  assertClose(batched[4].ches, 0, { atol: 1e-5 * batched[4].chosenLength ** 2 * 16 });
  model.dispose();
});

Deno.test("CHES rejects pairs it cannot score, naming the pair", async () => {
  const model = new FakeLM();
  await assert.rejects(
    () => chesScores(model, [{ index: 9, promptIds: [], chosenIds: [1], rejectedIds: [2] }]),
    /pair 9: empty prompt/,
  );
  await assert.rejects(() => chesScores(model, pairs, { batchSize: 0 }), RangeError);
});

Deno.test("rankByScore, percentileSubsets and lowestScores by hand", () => {
  const scores = [0.5, -2, 3, 0.5, 1, -1, 2, 0];
  // ascending: -2 (1), -1 (5), 0 (7), 0.5 (0), 0.5 (3), 1 (4), 2 (6), 3 (2)
  assert.deepEqual(rankByScore(scores), [1, 5, 7, 0, 3, 4, 6, 2]);
  assert.deepEqual(rankByScore(scores, { descending: true }), [2, 6, 4, 0, 3, 7, 5, 1]);
  const subs = percentileSubsets(scores, { sampleSize: 3 });
  assert.deepEqual(subs.map((s) => s.percentile), [0, 25, 50, 75, 100]);
  // n = 8: centres round(q/100 * 7) = 0, 2, 4 (3.5 rounds up), 5, 7; windows start at
  // centre - 1, clamped to [0, 5]: 0, 1, 3, 4, 5.
  assert.deepEqual(subs[0].positions, [1, 5, 7]);
  assert.deepEqual(subs[1].positions, [5, 7, 0]);
  assert.deepEqual(subs[2].positions, [0, 3, 4]);
  assert.deepEqual(subs[3].positions, [3, 4, 6]);
  assert.deepEqual(subs[4].positions, [4, 6, 2]);
  assert.deepEqual(subs[4].range, [1, 3]);
  assert.throws(() => percentileSubsets(scores), /sampleSize 512 exceeds the 8/);
  // 25% of 8 = 2 lowest; 5% of 100 is exactly 5; 10% of 8 = 0.8 rounds up to 1.
  assert.deepEqual(lowestScores(scores, { percent: 25 }), [1, 5]);
  assert.equal(lowestScores(Array.from({ length: 100 }, (_, i) => i), { percent: 5 }).length, 5);
  assert.deepEqual(lowestScores(scores, { percent: 10 }), [1]);
  assert.throws(() => lowestScores(scores, { percent: 0 }), RangeError);
});
