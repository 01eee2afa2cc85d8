/**
 * Multi-token toy scorer: summed and per-token log-probs, reference snapshot, WPO and TDPO
 * per-token quantities against float64 values computed from the model's own distributions,
 * the single-token special case, errors, and a leak-free SGDPO training run.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import {
  createToySequenceScorer,
  createUnconstrainedFeatures,
  toySequenceData,
  type UnconstrainedFeatures,
} from "../../lib/models/mod.ts";
import { sgdpo } from "../../lib/objectives/mod.ts";
import { toyData, train } from "../../lib/train/mod.ts";
import type { TokenScores } from "../../lib/core/scores.ts";

await useCpu();

const TOKENS = ["a", "b", "c", "d"];
const T = 3;

function model(seed = 3): UnconstrainedFeatures {
  return createUnconstrainedFeatures({ tokens: TOKENS, prompts: 2 * T, dim: 3, seed });
}

/** π(·|context) as float64 numbers in token order. */
function dist(m: UnconstrainedFeatures, c: number): number[] {
  const d = m.distribution(c);
  return TOKENS.map((t) => d[t]);
}

const PAIRS = { prompt: [0, 1], chosen: [[0, 1, 2], [3]], rejected: [[0, 2], [1, 1, 1]] };

Deno.test("scores: summed, per-token and reference log-probs, masks and lengths", () => {
  const m = model();
  const p0 = Array.from({ length: 2 * T }, (_, c) => dist(m, c));
  const scorer = createToySequenceScorer(m, { maxLength: T });
  // Move the policy away from the reference snapshot.
  m.hidden.assign(tf.add(m.hidden, 0.7) as tf.Tensor2D);
  const p1 = Array.from({ length: 2 * T }, (_, c) => dist(m, c));
  const data = toySequenceData(PAIRS);
  const s = scorer.scores(data.batch([0, 1]));
  const tok = s.tokens as Required<TokenScores>;
  const perTok = (p: number[][], rows: number[][], x: number[]) =>
    rows.map((r, i) => [0, 1, 2].map((k) => k < r.length ? Math.log(p[x[i] * T + k][r[k]]) : 0));
  const polW = perTok(p1, PAIRS.chosen, PAIRS.prompt);
  const refL = perTok(p0, PAIRS.rejected, PAIRS.prompt);
  assertClose(tok.policyChosen.arraySync().flat(), polW.flat(), { atol: 1e-5 });
  assertClose(tok.refRejected.arraySync().flat(), refL.flat(), { atol: 1e-5 });
  assertClose(s.policyChosen.dataSync(), polW.map((r) => r.reduce((a, b) => a + b)), {
    atol: 1e-5,
  });
  assert.deepEqual(Array.from(s.chosenLength.dataSync()), [3, 1]);
  assert.deepEqual(Array.from(s.rejectedLength.dataSync()), [2, 3]);
  assert.deepEqual(tok.chosenMask.arraySync(), [[1, 1, 1], [1, 0, 0]]);
  // WPO: log Σ_v π(v)²; TDPO: KL(πref ‖ πθ) at each scored position.
  const c = PAIRS.prompt[1] * T + 2;
  const lss = Math.log(p1[c].reduce((a, q) => a + q * q, 0));
  const kl = p0[c].reduce((a, q, v) => a + q * (Math.log(q) - Math.log(p1[c][v])), 0);
  assertClose(tok.rejectedLogSumSquares.arraySync()[1][2], lss, { atol: 1e-5 });
  assertClose(tok.klRejected.arraySync()[1][2], kl, { atol: 1e-5 });
  assert.equal(tok.klChosen.arraySync()[1][1], 0, "masked positions are 0");
  // The reference scorer gives the snapshot's sums.
  const ref = scorer.reference().scores(data.batch([0, 1]));
  assertClose(ref.policyRejected.dataSync(), refL.map((r) => r.reduce((a, b) => a + b)), {
    atol: 1e-5,
  });
  tf.dispose(Object.values(ref) as tf.Tensor[]);
  // Probes.
  const lp = scorer.logps({ prompt: Int32Array.from([1]), responses: [Int32Array.from([2, 0])] });
  assertClose(lp.dataSync(), [Math.log(p1[T][2]) + Math.log(p1[T + 1][0])], { atol: 1e-5 });
  tf.dispose([lp, s.policyChosen, s.policyRejected, s.chosenLength, s.rejectedLength]);
  tf.dispose(Object.values(tok));
  scorer.dispose();
  m.dispose();
});

Deno.test("maxLength 1 reproduces the single-token model's scores", () => {
  const m = createUnconstrainedFeatures({ tokens: TOKENS, prompts: 2, dim: 3, seed: 5 });
  const scorer = createToySequenceScorer(m, { maxLength: 1 });
  const seq = scorer.scores(
    toySequenceData({ prompt: [0, 1], chosen: [[1], [2]], rejected: [[3], [0]] }).batch([0, 1]),
  );
  const one = m.scores(toyData({ prompt: [0, 1], chosen: [1, 2], rejected: [3, 0] }).batch([0, 1]));
  assertClose(seq.policyChosen.dataSync(), one.policyChosen.dataSync(), { atol: 1e-6 });
  assertClose(seq.policyRejected.dataSync(), one.policyRejected.dataSync(), { atol: 1e-6 });
  scorer.dispose();
  m.dispose();
});

Deno.test("errors name the bad position, context or row", () => {
  const m = model();
  const scorer = createToySequenceScorer(m, { maxLength: T });
  const long = toySequenceData({ prompt: [0], chosen: [[0, 0, 0, 0]], rejected: [[1]] });
  assert.throws(() => scorer.scores(long.batch([0])), /position 3 is beyond maxLength 3/);
  const far = toySequenceData({ prompt: [2], chosen: [[0]], rejected: [[1]] });
  assert.throws(() => scorer.scores(far.batch([0])), /outside the model's 6 contexts/);
  assert.throws(
    () => toySequenceData({ prompt: [0], chosen: [[]], rejected: [[1]] }),
    /chosen\[0\] is empty/,
  );
  assert.throws(() => createToySequenceScorer(m, { maxLength: 0 }), RangeError);
  scorer.dispose();
  m.dispose();
});

Deno.test("trains with SGDPO (token-level) and leaks no tensors", async () => {
  const m = model(7);
  const scorer = createToySequenceScorer(m, { maxLength: T });
  const opts = {
    policy: scorer,
    data: toySequenceData(PAIRS),
    objective: sgdpo({ beta: 0.5, r1: 0.5, r2: 0.5 }),
    optimizer: { name: "sgd" as const },
    lr: 0.5,
    batchSize: 2,
    progress: false as const,
  };
  await train({ ...opts, maxSteps: 2 });
  const before = tf.memory().numTensors;
  // The policy moved: take reference sums from the scorer's snapshot, as its tokens do.
  const r = await train({
    ...opts,
    maxSteps: 6,
    reference: { kind: "precompute", scorer: scorer.reference() },
  });
  assert.equal(tf.memory().numTensors, before, "tensor count is flat across runs");
  const first = r.records[0], last = r.records.at(-1)!;
  assert.ok(last["rewards/margins"]! > first["rewards/margins"]!, "the margin grows");
  assert.ok(Number.isFinite(last["kChosen"] as number), "SGDPO extras are logged");
  scorer.dispose();
  m.dispose();
});
