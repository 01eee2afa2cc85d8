/**
 * TRL modifiers and batch-coupled TRL losses against float64: f-divergence scores,
 * reference-free mode, LD-DPO and WPO on per-token data, AOT's batch sort, BCO's running mean,
 * the pooled SFT term.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import {
  aot,
  aotUnpaired,
  bcoPair,
  dpo,
  gradientWeights,
  type SequenceScores,
  sft,
} from "../../lib/objectives/mod.ts";
import { centralDiff, f32, logsig, MODERATE, type Row, scoresOf, sig, sp } from "./_reference.ts";

await useCpu();

const ROWS = MODERATE.map(f32);
const TOL = { rtol: 1e-5, atol: 1e-6 };

function dispose(s: SequenceScores) {
  const t = s.tokens;
  tf.dispose([
    ...(Object.values({ ...s, tokens: undefined, kl: undefined, present: undefined })
      .filter((v) => v instanceof tf.Tensor) as tf.Tensor[]),
    ...(t ? Object.values(t).filter((v) => v instanceof tf.Tensor) as tf.Tensor[] : []),
  ]);
}

Deno.test("f-divergence scores: loss values against float64", () => {
  const cases: [string, number, (u: number) => number][] = [
    ["reverse_kl", 0.5, (u) => u],
    ["forward_kl", 0.5, (u) => -Math.exp(-u)],
    ["js_divergence", 0.5, (u) => logsig(u)],
    ["alpha_divergence", 0.3, (u) => Math.exp((0.3 - 1) * u) / (0.3 - 1)],
    ["alpha_divergence", 1.0, (u) => u],
  ];
  const small: Row[] = [
    { pc: -10.5, pr: -12.25, rc: -11, rr: -11.5, lc: 5, lr: 6 },
    { pc: -3.0, pr: -9.5, rc: -5.5, rr: -7.0, lc: 2, lr: 8 },
  ].map(f32);
  for (const [f, a, s] of cases) {
    const sc = scoresOf(small);
    const out = dpo({ beta: 0.7, fDivergence: f as "js_divergence", fAlpha: a }).loss(sc);
    const got = out.losses.dataSync();
    small.forEach((r, i) => {
      const want = sp(-0.7 * (s(r.pc - r.rc) - s(r.pr - r.rr)));
      assertClose(got[i], want, { ...TOL, msg: `${f}(${a}) row ${i}` });
    });
    dispose(sc);
  }
});

Deno.test("f-divergence exponents are capped at 80: huge log-ratios stay finite", () => {
  const sc = scoresOf([{ pc: -200, pr: -1, rc: -1, rr: -1, lc: 1, lr: 1 }]);
  const g = gradientWeights(dpo({ fDivergence: "forward_kl" }), sc);
  for (const v of [g.losses[0], g.gW[0], g.gL[0]]) assert.ok(Number.isFinite(v), `${v}`);
  dispose(sc);
});

Deno.test("reference-free mode reads no reference and equals DPO with ℓref = 0", () => {
  const s = scoresOf(ROWS);
  const free = { ...s, refChosen: undefined, refRejected: undefined };
  const got = dpo({ beta: 0.2, referenceFree: true }).loss(free).losses.dataSync();
  ROWS.forEach((r, i) => assertClose(got[i], sp(-0.2 * (r.pc - r.pr)), TOL));
  assert.throws(
    () => dpo().loss(free),
    (e) => e instanceof TypeError && /refChosen/.test(String(e)),
  );
  dispose(s);
});

/** Per-token data for two pairs: a 2-token prompt offset, different lengths per side. */
function tokenCase() {
  const pol = {
    w: [[0, 0, -1.2, -0.4, -2.0, -0.3], [0, 0, -0.9, -1.1, 0, 0]],
    l: [[0, 0, -0.5, -1.5, 0, 0, 0], [0, 0, -2.2, -0.6, -0.8, -1.7, -0.2]],
  };
  const ref = {
    w: [[0, 0, -1.0, -0.6, -1.5, -0.5], [0, 0, -1.0, -1.0, 0, 0]],
    l: [[0, 0, -0.7, -1.2, 0, 0, 0], [0, 0, -2.0, -0.9, -0.5, -1.2, -0.4]],
  };
  const mask = {
    w: pol.w.map((r) => r.map((_, j) => (j >= 2 && r[j] !== 0 ? 1 : 0))),
    l: pol.l.map((r) => r.map((_, j) => (j >= 2 && r[j] !== 0 ? 1 : 0))),
  };
  const lss = {
    w: [[0, 0, -0.8, -0.7, -0.9, -0.6], [0, 0, -1.1, -0.5, 0, 0]],
    l: [[0, 0, -0.4, -0.9, 0, 0, 0], [0, 0, -1.3, -0.7, -0.6, -0.9, -1.0]],
  };
  const sum = (m: number[][]) => m.map((r) => r.reduce((a, b) => a + b, 0));
  const count = (m: number[][]) => m.map((r) => r.reduce((a, b) => a + b, 0));
  const scores: SequenceScores = {
    policyChosen: tf.tensor1d(sum(pol.w)),
    policyRejected: tf.tensor1d(sum(pol.l)),
    refChosen: tf.tensor1d(sum(ref.w)),
    refRejected: tf.tensor1d(sum(ref.l)),
    chosenLength: tf.tensor1d(count(mask.w)),
    rejectedLength: tf.tensor1d(count(mask.l)),
    tokens: {
      policyChosen: tf.tensor2d(pol.w),
      policyRejected: tf.tensor2d(pol.l),
      refChosen: tf.tensor2d(ref.w),
      refRejected: tf.tensor2d(ref.l),
      chosenMask: tf.tensor2d(mask.w),
      rejectedMask: tf.tensor2d(mask.l),
      chosenLogSumSquares: tf.tensor2d(lss.w),
      rejectedLogSumSquares: tf.tensor2d(lss.l),
    },
  };
  return { pol, ref, mask, lss, scores };
}

Deno.test("LD-DPO: tail tokens beyond min(|y_w|,|y_l|) weighted by α, policy and reference", () => {
  const { pol, ref, mask, scores } = tokenCase();
  const alpha = 0.3, beta = 0.5;
  // Completion ranks: the k-th completion token (1-based) is shared when k <= min(n_w, n_l).
  const ld = (lp: number[], m: number[], lpShared: number) => {
    let k = 0, total = 0;
    lp.forEach((v, j) => {
      if (!m[j]) return;
      k++;
      total += (k <= lpShared ? 1 : alpha) * v;
    });
    return total;
  };
  const g = gradientWeights(dpo({ beta, ldAlpha: alpha }), scores);
  for (let i = 0; i < 2; i++) {
    const nW = mask.w[i].reduce((a: number, b) => a + b, 0);
    const nL = mask.l[i].reduce((a: number, b) => a + b, 0);
    const lp = Math.min(nW, nL);
    const uW = ld(pol.w[i], mask.w[i], lp) - ld(ref.w[i], mask.w[i], lp);
    const uL = ld(pol.l[i], mask.l[i], lp) - ld(ref.l[i], mask.l[i], lp);
    assertClose(g.losses[i], sp(-beta * (uW - uL)), { ...TOL, msg: `loss ${i}` });
    // The summed scores are unused; the gradient lands on the tokens, α on the tail.
    assert.equal(g.gW[i], 0);
    const d = beta * sig(-beta * (uW - uL));
    let k = 0;
    mask.w[i].forEach((m, j) => {
      const want = m ? -d * (++k <= lp ? 1 : alpha) : 0;
      assertClose(g.tokens!.chosen[i][j], want, { ...TOL, msg: `token grad ${i},${j}` });
    });
  }
  dispose(scores);
});

Deno.test("WPO: loss scaled by detached w(y_w)·w(y_l); gradient weights scaled alike", () => {
  const { pol, mask, lss, scores } = tokenCase();
  const w = (lp: number[], m: number[], l: number[]) => {
    let s = 0, n = 0;
    lp.forEach((v, j) => {
      if (m[j]) s += v - l[j], n++;
    });
    return Math.exp(s / n);
  };
  const plain = gradientWeights(dpo({ beta: 0.4 }), scores);
  const g = gradientWeights(dpo({ beta: 0.4, weighting: true }), scores);
  for (let i = 0; i < 2; i++) {
    const ww = w(pol.w[i], mask.w[i], lss.w[i]) * w(pol.l[i], mask.l[i], lss.l[i]);
    assertClose(g.losses[i], plain.losses[i] * ww, { ...TOL, msg: `loss ${i}` });
    assertClose(g.gW[i], plain.gW[i] * ww, { ...TOL, msg: `g_w ${i}` });
    assertClose(g.gL[i], plain.gL[i] * ww, { ...TOL, msg: `g_l ${i}` });
    assert.ok(g.tokens!.chosen[i].every((v) => v === 0), "no gradient through the weight");
  }
  dispose(scores);
});

Deno.test("token-level modifiers name the missing field", () => {
  const s = scoresOf(ROWS);
  assert.throws(
    () => dpo({ ldAlpha: 0.5 }).loss(s),
    (e) => e instanceof TypeError && /tokens/.test(String(e)),
  );
  const { scores } = tokenCase();
  const noLss = { ...scores, tokens: { ...scores.tokens!, chosenLogSumSquares: undefined } };
  assert.throws(
    () => dpo({ weighting: true }).loss(noLss),
    (e) => e instanceof TypeError && /chosenLogSumSquares/.test(String(e)),
  );
  assert.throws(
    () => aot({ weighting: true }),
    (e) => e instanceof RangeError && /weighting/.test(String(e)),
  );
  dispose(s);
  dispose(scores);
});

Deno.test("AOT sorts across the batch: values, and gradients by finite differences of the batch total", () => {
  const beta = 0.5, eps = 0.1;
  const total = (rows: Row[], unpaired: boolean) => {
    const a = rows.map((r) => unpaired ? r.pc - r.rc : r.pc - r.pr).sort((x, y) => x - y);
    const b = rows.map((r) => unpaired ? r.pr - r.rr : r.rc - r.rr).sort((x, y) => x - y);
    return a.map((v, k) => (1 - eps) * sp(-beta * (v - b[k])) + eps * sp(beta * (v - b[k])));
  };
  for (const unpaired of [false, true]) {
    const s = scoresOf(ROWS);
    const obj = unpaired
      ? aotUnpaired({ beta, labelSmoothing: eps })
      : aot({ beta, labelSmoothing: eps });
    const g = gradientWeights(obj, s);
    assertClose(g.losses, total(ROWS, unpaired), TOL);
    ROWS.forEach((r, i) => {
      const sum = (rows: Row[]) => total(rows, unpaired).reduce((x, y) => x + y, 0);
      const with_ = (f: Partial<Row>) => ROWS.map((q, j) => (j === i ? { ...q, ...f } : q));
      const gw = centralDiff((x) => sum(with_({ pc: x })), r.pc, 1e-6);
      const gl = centralDiff((x) => sum(with_({ pr: x })), r.pr, 1e-6);
      assertClose(g.gW[i], gw, { ...TOL, msg: `g_w ${i}` });
      assertClose(g.gL[i], gl, { ...TOL, msg: `g_l ${i}` });
    });
    dispose(s);
  }
});

Deno.test("BCO with running mean (TRL v0.26): δ is the mean of batch means so far; reset clears it", () => {
  const beta = 0.3;
  const obj = bcoPair({ beta, runningMean: true });
  const b1 = ROWS.slice(0, 2), b2 = ROWS.slice(2);
  const batchMean = (rows: Row[]) =>
    rows.reduce((a, r) => a + beta * (r.pc - r.rc) + beta * (r.pr - r.rr), 0) / (2 * rows.length);
  const want = (rows: Row[], d: number) =>
    rows.map((r) => sp(-(beta * (r.pc - r.rc) - d)) + sp(beta * (r.pr - r.rr) - d));
  const s1 = scoresOf(b1), s2 = scoresOf(b2);
  assertClose(obj.loss(s1).losses.dataSync(), want(b1, batchMean(b1)), TOL);
  const d2 = (batchMean(b1) + batchMean(b2)) / 2;
  assertClose(obj.loss(s2).losses.dataSync(), want(b2, d2), TOL);
  obj.reset!();
  assertClose(obj.loss(s2).losses.dataSync(), want(b2, batchMean(b2)), TOL);
  dispose(s1);
  dispose(s2);
});

Deno.test("SFT pooled over the batch (TRL): every slot −Σℓ/Σ|y|; g_w = −B/Σ|y|", () => {
  const s = scoresOf(ROWS);
  const g = gradientWeights(sft(), s);
  const num = ROWS.reduce((a, r) => a + r.pc, 0), den = ROWS.reduce((a, r) => a + r.lc, 0);
  assertClose(g.losses, ROWS.map(() => -num / den), TOL);
  assertClose(g.gW, ROWS.map(() => -ROWS.length / den), TOL);
  assertClose(g.gL, ROWS.map(() => 0), TOL);
  dispose(s);
});
