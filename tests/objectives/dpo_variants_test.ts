/** TDPO on per-token KL, α-DPO's running statistics, Cal-DPO's batch form: against float64. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import {
  alphaDpo,
  calDpo,
  gradientWeights,
  type SequenceScores,
  tdpo,
} from "../../lib/objectives/mod.ts";
import { f32, MODERATE, type Row, scoresOf, sig, sp } from "./_reference.ts";
import { bcoPair } from "../../lib/objectives/trl.ts";

await useCpu();

const ROWS = MODERATE.map(f32);
const TOL = { rtol: 1e-5, atol: 1e-6 };

function tdpoScores(rows: Row[], kl: { w: number[][]; l: number[][] }): SequenceScores {
  const s = scoresOf(rows);
  const mask = (m: number[][]) => m.map((r) => r.map((v) => (v === 0 ? 0 : 1)));
  return {
    ...s,
    tokens: {
      policyChosen: tf.zeros([rows.length, kl.w[0].length]),
      policyRejected: tf.zeros([rows.length, kl.l[0].length]),
      chosenMask: tf.tensor2d(mask(kl.w)),
      rejectedMask: tf.tensor2d(mask(kl.l)),
      klChosen: tf.tensor2d(kl.w),
      klRejected: tf.tensor2d(kl.l),
    },
  };
}

const KL = {
  w: [[0.1, 0.3, 0], [0.05, 0.02, 0.2], [0.4, 0, 0], [0.01, 0.01, 0.01]],
  l: [[0.2, 0.2], [0.6, 0.1], [0.05, 0], [0.3, 0.3]],
};

Deno.test("TDPO2 and TDPO1: values and gradient weights against float64", () => {
  const beta = 0.2, alpha = 0.5;
  const s = tdpoScores(ROWS, KL);
  for (const variant of [2, 1]) {
    const g = gradientWeights(tdpo({ beta, alpha, variant }), s);
    ROWS.forEach((r, i) => {
      const kw = KL.w[i].reduce((a, b) => a + b), kl = KL.l[i].reduce((a, b) => a + b);
      const h = (r.pc - r.rc) - (r.pr - r.rr);
      const z = beta * (h - (variant === 2 ? alpha : 1) * (kl - kw));
      assertClose(g.losses[i], sp(-z), { ...TOL, msg: `TDPO${variant} loss ${i}` });
      assertClose(g.gW[i], -beta * sig(-z), { ...TOL, msg: `TDPO${variant} g_w ${i}` });
      assertClose(g.gL[i], beta * sig(-z), { ...TOL, msg: `TDPO${variant} g_l ${i}` });
    });
  }
});

Deno.test("TDPO2 stops the gradient through K(y_w); TDPO1 does not", () => {
  const s = tdpoScores(ROWS, KL);
  const lossOf = (variant: number) => (klw: tf.Tensor) =>
    tf.sum(
      tdpo({ variant }).loss({ ...s, tokens: { ...s.tokens!, klChosen: klw as tf.Tensor2D } })
        .losses,
    );
  const g2 = tf.grad(lossOf(2))(s.tokens!.klChosen!).dataSync();
  const g1 = tf.grad(lossOf(1))(s.tokens!.klChosen!).dataSync();
  assert.ok(g2.every((v) => v === 0));
  // TDPO1: ∂L/∂K_w = −β σ(−z) on every masked position.
  const z0 = 0.1 * ((ROWS[0].pc - ROWS[0].rc) - (ROWS[0].pr - ROWS[0].rr) - (0.4 - 0.4));
  assertClose(g1[0], -0.1 * sig(-z0), TOL);
  assert.ok(g1[2] === 0, "masked position");
  assert.throws(
    () => tdpo().loss(scoresOf(ROWS)),
    (e) => e instanceof TypeError && /tokens/.test(String(e)),
  );
});

Deno.test("α-DPO: EMA (decay 0.9, from 0) of batch mean and unbiased std, updated before use", () => {
  const p = { beta: 2.5, gammaBetaRatio: 0.6, alpha: 0.2 };
  const obj = alphaDpo(p);
  const bar = (r: Row) => ({ w: r.pc / r.lc, l: r.pr / r.lr, rw: r.rc / r.lc, rl: r.rr / r.lr });
  const gap = (r: Row) => {
    const b = bar(r);
    return (b.w - b.l) - (b.rw - b.rl);
  };
  let mu = 0, sd = 0;
  for (const rows of [ROWS.slice(0, 2), ROWS.slice(1)]) {
    const gs = rows.map(gap);
    const m = gs.reduce((a, b) => a + b) / gs.length;
    const std = Math.sqrt(gs.reduce((a, b) => a + (b - m) ** 2, 0) / (gs.length - 1));
    mu = 0.9 * mu + 0.1 * m;
    sd = 0.9 * sd + 0.1 * std;
    const want = rows.map((r) => {
      const b = bar(r);
      return sp(-p.beta * ((b.w - b.l) - (p.alpha * (gap(r) - mu) / sd + p.gammaBetaRatio)));
    });
    const s = scoresOf(rows);
    assertClose(obj.loss(s).losses.dataSync(), want, TOL);
  }
  assert.equal(obj.batchCoupled, true);
  assert.throws(
    () => alphaDpo().loss(scoresOf(ROWS.slice(0, 1))),
    (e) => e instanceof RangeError && /sigma/.test(String(e)),
  );
  assert.equal(alphaDpo({ sigma: 2 }).batchCoupled, false);
});

Deno.test("α-DPO: policy = reference (every ĥ = 0) gives the γ/β margin, not 0/0", () => {
  const p = { beta: 2.5, gammaBetaRatio: 0.6, alpha: 0.2 };
  const same = ROWS.map((r) => ({ ...r, rc: r.pc, rr: r.pr }));
  const want = same.map((r) => sp(-p.beta * ((r.pc / r.lc - r.pr / r.lr) - p.gammaBetaRatio)));
  assertClose(alphaDpo(p).loss(scoresOf(same)).losses.dataSync(), want, TOL);
});

Deno.test("α-DPO and BCO: saved running statistics continue in a fresh instance", async () => {
  for (const make of [() => alphaDpo(), () => bcoPair({ runningMean: true })]) {
    const a = make();
    a.loss(scoresOf(ROWS.slice(0, 2))).losses.dispose();
    const state = await a.saveState!();
    const b = make();
    b.loadState!(state);
    // The second call of the original and the first of the restored copy see the same statistics.
    const next = scoresOf(ROWS.slice(1));
    const expected = Array.from(a.loss(next).losses.dataSync());
    assertClose(b.loss(next).losses.dataSync(), expected, TOL);
    // A fresh instance, without them, gives other losses.
    assert.notDeepEqual(Array.from(make().loss(next).losses.dataSync()), expected);
  }
});

Deno.test("Cal-DPO: mean of per-pair losses equals the code's DPO mean + ½(batch MSE_w + MSE_l)", () => {
  const beta = 0.01, t = 1 / (2 * beta);
  const s = scoresOf(ROWS);
  const losses = calDpo({ beta }).loss(s).losses.dataSync();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
  const uw = ROWS.map((r) => r.pc - r.rc), ul = ROWS.map((r) => r.pr - r.rr);
  const code = mean(uw.map((w, i) => sp(-(w - ul[i])))) +
    0.5 * (mean(uw.map((w) => (w - t) ** 2)) + mean(ul.map((l) => (l + t) ** 2)));
  assertClose(mean(Array.from(losses)), code, TOL);
});
