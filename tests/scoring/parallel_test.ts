import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import "../../lib/kernels/gradients.ts";
import { assertClose, smallLMs, useCpu } from "../helpers.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { lmScorer } from "../../lib/scoring/lm.ts";
import { parallelLMScorer } from "../../lib/scoring/parallel.ts";
import { pairSlice } from "../../lib/scoring/parallel_shared.ts";
import type { PairScores, SequenceScores, TokenScores } from "../../lib/core/scores.ts";
import type { PreferenceBatch } from "../../lib/data/types.ts";
import { collate } from "../../lib/data/collate.ts";
import { train } from "../../lib/train/trainer.ts";
import { preferenceData } from "../../lib/train/train_data.ts";
import { dpo } from "../../lib/objectives/trl.ts";
import { createObjective } from "../../lib/objectives/registry.ts";

await useCpu();

// Three pairs of different lengths (padding in the batch), split 2 + 1 across the threads.
const PAIRS = [
  { index: 0, promptIds: [3, 9, 1], chosenIds: [4, 4, 2, 10], rejectedIds: [7] },
  { index: 1, promptIds: [5], chosenIds: [1, 2], rejectedIds: [8, 8, 8, 8, 6] },
  { index: 2, promptIds: [2, 2, 2, 2], chosenIds: [0], rejectedIds: [11, 3] },
];
const REF = [[-9, -4, -3], [-2, -12, -5]];

// A batch-coupled DPO-like loss (centred by the batch mean) plus a token-level term, so the
// gradient of every pair depends on the other thread's pairs and on per-token scores.
function lossOf(s: PairScores): tf.Scalar {
  const h = tf.sub(
    tf.sub(s.policyChosen, tf.tensor1d(REF[0])),
    tf.sub(s.policyRejected, tf.tensor1d(REF[1])),
  );
  const centred = tf.sub(h, tf.mean(h));
  const tok = s.tokens as TokenScores;
  const tokenTerm = tf.mean(tf.square(tf.mul(tok.policyChosen, tok.chosenMask)));
  return tf.add(tf.mean(tf.softplus(tf.mul(centred, -0.5))), tf.mul(tokenTerm, 0.01)) as tf.Scalar;
}

Deno.test("parallelLMScorer: value and gradients equal the single-thread ones (GPT-2, Llama)", async () => {
  const models = smallLMs(5);
  const batch = collate(PAIRS, 0) as PreferenceBatch;
  for (const model of models) {
    const single = lmScorer(model, { tokens: true });
    const want = tf.variableGrads(() => lossOf(single.scores(batch)));
    const par = await parallelLMScorer(model, { tokens: true });
    try {
      assert.equal(par.threads, 2);
      const before = tf.memory().numTensors;
      const got = await par.valueAndGrads(batch, lossOf);
      assertClose(got.value.dataSync()[0], want.value.dataSync()[0], {
        rtol: 1e-5,
        msg: model.kind,
      });
      for (const v of model.variables()) {
        assertClose(got.grads[v.name].dataSync(), want.grads[v.name].dataSync(), {
          rtol: 1e-4,
          atol: 1e-6,
          msg: `${model.kind} ${v.name}`,
        });
      }
      tf.dispose([got.value, ...Object.values(got.grads)]);
      assert.equal(tf.memory().numTensors, before, "no tensors left behind");
      // After an update on this thread, the worker sees the new weights.
      model.variables()[0].assign(tf.mul(model.variables()[0], 1.5));
      const again = tf.variableGrads(() => lossOf(single.scores(batch)));
      const got2 = await par.valueAndGrads(batch, lossOf);
      assertClose(got2.value.dataSync()[0], again.value.dataSync()[0], { rtol: 1e-5 });
    } finally {
      par.dispose();
      model.dispose();
    }
  }
});

Deno.test("pairSlice: pairs [1, 3) keep their chosen and rejected rows and lengths", () => {
  const batch = collate(PAIRS, 0) as PreferenceBatch;
  const s = pairSlice(batch, 1, 3);
  const t = batch.length;
  assert.equal(s.size, 2);
  assert.deepEqual(s.pairIndex, [1, 2]);
  // Rows: chosen 1, chosen 2, rejected 1, rejected 2 of the original batch.
  const row = (b: PreferenceBatch, r: number) =>
    Array.from(b.inputIds.subarray(r * t, (r + 1) * t));
  assert.deepEqual([0, 1, 2, 3].map((r) => row(s, r)), [1, 2, 4, 5].map((r) => row(batch, r)));
  assert.deepEqual(s.completionLength, [2, 1, 5, 2]);
  assert.deepEqual(s.promptLength, [1, 4, 1, 4]);
});

Deno.test("train() with a parallel scorer: the same run as on one thread (DPO, accumulation)", async () => {
  const config = { vocab_size: 12, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2 };
  const pairs = Array.from({ length: 10 }, (_, i) => ({
    index: i,
    promptIds: [1 + (i % 5), 2],
    chosenIds: [3 + (i % 7), 4, 5].slice(0, 1 + (i % 3)),
    rejectedIds: [6 + (i % 4), 7],
  }));
  const run = async (parallel: boolean) => {
    const model = createGPT2(config, { seed: 11 });
    const policy = parallel ? await parallelLMScorer(model) : lmScorer(model);
    try {
      const r = await train({
        policy,
        data: preferenceData(pairs, { padId: 0 }),
        objective: dpo({ beta: 0.5 }),
        optimizer: { name: "adamw" },
        lr: 0.01,
        batchSize: 3,
        gradAccum: 2,
        maxSteps: 3,
        progress: false,
        examplesEvery: false,
      });
      return r.records.map((x) => x.loss!);
    } finally {
      if (parallel) (policy as unknown as { dispose(): void }).dispose();
      model.dispose();
    }
  };
  const one = await run(false), two = await run(true);
  assert.equal(one.length, 3);
  // Different from step to step (the weights move), equal between the two runs.
  assert.ok(Math.abs(one[2] - one[0]) > 1e-3);
  assertClose(two, one, { rtol: 1e-4 });
});

Deno.test("parallelLMScorer: an error in the worker's half is reported, and the scorer still works", async () => {
  const [model] = smallLMs(7);
  const par = await parallelLMScorer(model, { tokens: true });
  try {
    const batch = collate(PAIRS, 0) as PreferenceBatch;
    const bad = { ...batch, inputIds: batch.inputIds.slice() };
    // Token 99 (vocabulary of 12) in the last pair's chosen row: the worker's half.
    bad.inputIds[2 * batch.length + 1] = 99;
    await assert.rejects(
      () => par.valueAndGrads(bad, lossOf),
      (e: Error) => /parallel worker: .*token id 99 outside \[0, 12\)/.test(e.message),
    );
    // And in this thread's half (the first pair): the worker is released, not left waiting.
    const bad2 = { ...batch, inputIds: batch.inputIds.slice() };
    bad2.inputIds[1] = 99;
    await assert.rejects(
      () => par.valueAndGrads(bad2, lossOf),
      (e: Error) => /token id 99 outside \[0, 12\)/.test(e.message),
    );
    const before = tf.memory().numTensors;
    const ok = await par.valueAndGrads(batch, lossOf);
    assert.ok(Number.isFinite(ok.value.dataSync()[0]));
    tf.dispose([ok.value, ...Object.values(ok.grads)]);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    par.dispose();
    model.dispose();
  }
});

// Token-level objectives read the masks and lengths through comparisons (Less, Greater), which
// have no gradient: the worker's masks must not reach the tape as functions of the weights.
Deno.test("parallelLMScorer: token-level objectives (sgdpo, ld_dpo) get the single-thread gradients", async () => {
  const [model] = smallLMs(9);
  const [refModel] = smallLMs(13);
  const batch = collate(PAIRS, 0) as PreferenceBatch;
  const ref = tf.tidy(() =>
    lmScorer(refModel, { tokens: true }).scores(batch) as unknown as tf.TensorContainerObject
  ) as unknown as PairScores;
  const refTok = ref.tokens as TokenScores;
  // The trainer's join of policy and reference scores, on every pair of the batch.
  const lossWith = (name: string) => {
    const objective = createObjective(name, name === "sgdpo" ? { seed: 4 } : {});
    return (s: PairScores): tf.Scalar => {
      const tok = s.tokens as TokenScores;
      const input: SequenceScores = {
        policyChosen: s.policyChosen,
        policyRejected: s.policyRejected,
        refChosen: ref.policyChosen,
        refRejected: ref.policyRejected,
        chosenLength: s.chosenLength,
        rejectedLength: s.rejectedLength,
        tokens: { ...tok, refChosen: refTok.policyChosen, refRejected: refTok.policyRejected },
      };
      return tf.mean(objective.loss(input).losses) as tf.Scalar;
    };
  };
  const single = lmScorer(model, { tokens: true });
  const par = await parallelLMScorer(model, { tokens: true });
  try {
    for (const name of ["sgdpo", "ld_dpo"]) {
      // Fresh objectives on both sides: sgdpo's first call draws the same pilot sets.
      const want = tf.variableGrads(() => lossWith(name)(single.scores(batch)));
      const got = await par.valueAndGrads(batch, lossWith(name));
      assertClose(got.value.dataSync()[0], want.value.dataSync()[0], { rtol: 1e-5, msg: name });
      for (const v of model.variables()) {
        const g = got.grads[v.name].dataSync(), w = want.grads[v.name].dataSync();
        let diff = 0, norm = 0;
        for (let i = 0; i < w.length; i++) {
          diff += (g[i] - w[i]) ** 2;
          norm += w[i] ** 2;
        }
        assert.ok(norm > 0, `${name} ${v.name}: a zero gradient checks nothing`);
        assert.ok(
          Math.sqrt(diff / norm) < 1e-5,
          `${name} ${v.name}: relative gradient error ${Math.sqrt(diff / norm)}`,
        );
      }
      tf.dispose([
        got.value,
        want.value,
        ...Object.values(got.grads),
        ...Object.values(want.grads),
      ]);
    }
  } finally {
    par.dispose();
    tf.dispose(ref as unknown as tf.TensorContainerObject);
    model.dispose();
    refModel.dispose();
  }
});

Deno.test("train() with a parallel scorer: sgdpo and ld_dpo runs equal the single-thread ones", async () => {
  const config = { vocab_size: 12, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2 };
  const pairs = Array.from({ length: 6 }, (_, i) => ({
    index: i,
    promptIds: [1 + (i % 5), 2],
    chosenIds: [3 + (i % 7), 4, 5, 9].slice(0, 2 + (i % 3)),
    rejectedIds: [6 + (i % 4), 7, 10].slice(0, 1 + (i % 3)),
  }));
  const run = async (name: string, parallel: boolean) => {
    const model = createGPT2(config, { seed: 21 }), refModel = createGPT2(config, { seed: 21 });
    const policy = parallel
      ? await parallelLMScorer(model, { tokens: true })
      : lmScorer(model, { tokens: true });
    try {
      const r = await train({
        policy,
        reference: { kind: "model", scorer: lmScorer(refModel, { tokens: true, stats: false }) },
        data: preferenceData(pairs, { padId: 0 }),
        objective: createObjective(name, name === "sgdpo" ? { seed: 5 } : {}),
        optimizer: { name: "sgd" },
        lr: 0.5,
        batchSize: 3,
        maxSteps: 2,
        shuffle: false,
        progress: false,
        examplesEvery: false,
      });
      return {
        losses: r.records.filter((x) => x.loss !== undefined).map((x) => x.loss!),
        weights: model.variables().map((v) => Array.from(v.dataSync())),
      };
    } finally {
      if (parallel) (policy as unknown as { dispose(): void }).dispose();
      model.dispose();
      refModel.dispose();
    }
  };
  for (const name of ["sgdpo", "ld_dpo"]) {
    const one = await run(name, false), two = await run(name, true);
    assert.equal(one.losses.length, 2, name);
    // The second step's loss differs from the first (the weights moved), equal between runs.
    assert.ok(Math.abs(one.losses[1] - one.losses[0]) > 1e-4, name);
    assertClose(two.losses, one.losses, { rtol: 1e-5, msg: name });
    one.weights.forEach((w, i) =>
      assertClose(two.weights[i], w, { rtol: 1e-5, atol: 1e-6, msg: `${name} weights ${i}` })
    );
  }
});
