/**
 * The seed documents' methods (anchored DPO, MODPO, TGDPO) against independent float64
 * computations: loss and gradient weights, with the largest relative error printed.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useCpu } from "../helpers.ts";
import {
  createObjective,
  gradientWeights,
  type SequenceScores,
  tgdpo,
  weightsAt,
} from "../../lib/objectives/mod.ts";
import {
  centralDiff,
  EXTREME,
  f32,
  MODERATE,
  REF,
  refGrad,
  type Row,
  scoresOf,
  sig,
  sp,
} from "./_reference.ts";

await useCpu();

/** |got − want| / max(|want|, floor): the floor keeps near-zero weights from dominating. */
function relErr(got: number, want: number, floor = 1e-6): number {
  return Math.abs(got - want) / Math.max(Math.abs(want), floor);
}

for (
  const [name, params] of [
    ["anchored_dpo", {}],
    ["anchored_dpo", { tau: 2, q: 0.8 }],
    ["modpo", {}],
    ["modpo", { beta: 0.3, w0: 0.5, wLength: 0.4 }],
  ] as [string, Record<string, number>][]
) {
  Deno.test(`${name} ${JSON.stringify(params)}: max relative error against float64 < 1e-5`, () => {
    const ref = REF[name];
    const p = { ...ref.defaults, ...params };
    const rows = [...MODERATE, ...EXTREME].map(f32);
    const s = scoresOf(rows);
    const g = gradientWeights(createObjective(name, params), s);
    tf.dispose(Object.values(s) as tf.Tensor[]);
    let worst = 0;
    rows.forEach((r, i) => {
      const fd = refGrad((x, at) => ref.loss(x, p, at), r);
      worst = Math.max(
        worst,
        relErr(g.losses[i], ref.loss(r, p)),
        relErr(g.gW[i], fd.gW),
        relErr(g.gL[i], fd.gL),
      );
    });
    console.log(`${name} ${JSON.stringify(params)}: max relative error ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-5, `${worst}`);
  });
}

/** One TGDPO pair in plain numbers: per-token policy, reference and guide log-probs. */
interface TokenPair {
  pw: number[];
  rw: number[];
  gw: number[];
  pl: number[];
  rl: number[];
  gl: number[];
}

/** TGDPO per the authors' code, in float64 (the guide rewards are data). */
function tgdpoLoss(x: TokenPair, beta: number, alpha: number): number {
  let a = 0;
  x.pw.forEach((v, t) => a += beta * (1 + alpha * beta * (x.gw[t] - x.rw[t])) * (v - x.rw[t]));
  x.pl.forEach((v, t) => a -= beta * (1 - alpha * beta * (x.gl[t] - x.rl[t])) * (v - x.rl[t]));
  return sp(-a);
}

const PAIRS: TokenPair[] = [
  {
    pw: [-1.2, -0.4, -2.0],
    rw: [-1.0, -0.9, -1.5],
    gw: [-0.6, -0.3, -2.5],
    pl: [-0.8, -3.1],
    rl: [-1.1, -2.0],
    gl: [-1.9, -2.6],
  },
  // A large margin and large guide rewards: |z| of several tens.
  {
    pw: [-0.1, -0.2, -0.3, -0.1],
    rw: [-9, -8, -7, -9],
    gw: [-2, -1, -3, -1],
    pl: [-12, -15],
    rl: [-2, -1],
    gl: [-9, -11],
  },
].map((x) => {
  const r = (v: number[]) => v.map(Math.fround);
  return { pw: r(x.pw), rw: r(x.rw), gw: r(x.gw), pl: r(x.pl), rl: r(x.rl), gl: r(x.gl) };
});

Deno.test("tgdpo: loss and per-token weights against float64 (analytic and finite differences)", () => {
  let worst = 0;
  for (const [beta, alpha] of [[0.1, 0.5], [0.3, 2], [0.1, 0]]) {
    for (const x of PAIRS) {
      const w = weightsAt(tgdpo({ beta, alpha }), {
        uW: 0,
        uL: 0,
        tokens: {
          policyChosen: x.pw,
          policyRejected: x.pl,
          refChosen: x.rw,
          refRejected: x.rl,
          extra: { guideChosen: x.gw, guideRejected: x.gl },
        },
      });
      const loss = tgdpoLoss(x, beta, alpha);
      // Analytic: ∂L/∂p_w,t = −σ(−z)·β(1 + αβ r̂_w,t); weightsAt averages over the tokens.
      let z = 0;
      x.pw.forEach((v, t) => z += beta * (1 + alpha * beta * (x.gw[t] - x.rw[t])) * (v - x.rw[t]));
      x.pl.forEach((v, t) => z -= beta * (1 - alpha * beta * (x.gl[t] - x.rl[t])) * (v - x.rl[t]));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const gW = mean(
        x.pw.map((_, t) => -sig(-z) * beta * (1 + alpha * beta * (x.gw[t] - x.rw[t]))),
      );
      const gL = mean(
        x.pl.map((_, t) => sig(-z) * beta * (1 - alpha * beta * (x.gl[t] - x.rl[t]))),
      );
      // Finite differences of the float64 loss, token by token (guide held fixed).
      const fd = (side: "pw" | "pl") =>
        mean(x[side].map((v, t) =>
          centralDiff(
            (y) => {
              const xs = { ...x, [side]: x[side].map((u, k) => (k === t ? y : u)) };
              return tgdpoLoss(xs, beta, alpha);
            },
            v,
            1e-6 * Math.max(1, Math.abs(v)),
          )
        ));
      assert.ok(relErr(gW, fd("pw"), 1e-9) < 1e-5, "analytic g_w vs finite differences");
      assert.ok(relErr(gL, fd("pl"), 1e-9) < 1e-5, "analytic g_l vs finite differences");
      worst = Math.max(worst, relErr(w.loss, loss), relErr(w.g_w, gW), relErr(w.g_l, gL));
    }
  }
  console.log(`tgdpo: max relative error ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `${worst}`);
});

Deno.test("tgdpo: masks exclude padding and prompt; the guide gets no gradient; α = 0 is DPO", () => {
  const beta = 0.2, alpha = 1;
  const x = PAIRS[0];
  // Row 0: one prompt position, then the completion, then padding; values there are garbage.
  const pad = (
    v: number[],
    t: number,
    junk: number,
  ) => [junk, ...v, ...Array(t - v.length - 1).fill(junk)];
  const tokens = {
    policyChosen: tf.tensor2d([pad(x.pw, 5, -7)]),
    policyRejected: tf.tensor2d([pad(x.pl, 4, -7)]),
    refChosen: tf.tensor2d([pad(x.rw, 5, -3)]),
    refRejected: tf.tensor2d([pad(x.rl, 4, -3)]),
    guideChosen: tf.tensor2d([pad(x.gw, 5, 9)]),
    guideRejected: tf.tensor2d([pad(x.gl, 4, 9)]),
    chosenMask: tf.tensor2d([[0, 1, 1, 1, 0]]),
    rejectedMask: tf.tensor2d([[0, 1, 1, 0]]),
  };
  const s: SequenceScores = { ...scoresOf([f32(MODERATE[0])]), tokens };
  const g = gradientWeights(tgdpo({ beta, alpha }), s);
  assert.ok(Math.abs(g.losses[0] - tgdpoLoss(x, beta, alpha)) < 1e-5);
  assert.equal(g.tokens!.chosen[0][0], 0, "prompt position");
  assert.equal(g.tokens!.chosen[0][4], 0, "padding position");
  const guideGrad = tf.grad((gc: tf.Tensor) =>
    tf.sum(
      tgdpo({ beta, alpha }).loss({ ...s, tokens: { ...tokens, guideChosen: gc as tf.Tensor2D } })
        .losses,
    )
  )(tokens.guideChosen);
  assert.ok(guideGrad.dataSync().every((v) => v === 0), "stop-gradient on the guide reward");
  // α = 0: plain DPO on the token sums.
  const h = x.pw.reduce((a, v, t) => a + v - x.rw[t], 0) -
    x.pl.reduce((a, v, t) => a + v - x.rl[t], 0);
  const g0 = gradientWeights(tgdpo({ beta, alpha: 0 }), s);
  assert.ok(Math.abs(g0.losses[0] - sp(-beta * h)) < 1e-6);
  assert.throws(
    () => tgdpo().loss({ ...s, tokens: { ...tokens, guideChosen: undefined } }),
    (e) => e instanceof TypeError && /guideChosen/.test(e.message),
  );
  tf.dispose([...Object.values(tokens), guideGrad]);
});

Deno.test("anchored_dpo: q = 1 is DPO at β = 1/τ; the loss is zero where σ(h/τ) = q", () => {
  const row: Row = f32(MODERATE[1]);
  const h = (row.pc - row.rc) - (row.pr - row.rr);
  const s = scoresOf([row]);
  const hard = gradientWeights(createObjective("anchored_dpo", { tau: 4 }), s);
  assert.ok(relErr(hard.losses[0], sp(-h / 4)) < 1e-6);
  assert.ok(relErr(hard.gW[0], -sig(-h / 4) / 4) < 1e-5);
  tf.dispose(Object.values(s) as tf.Tensor[]);
  const q = 0.7, tau = 3, at = tau * Math.log(q / (1 - q));
  const w = weightsAt(createObjective("anchored_dpo", { tau, q }), { uW: at / 2, uL: -at / 2 });
  assert.ok(Math.abs(w.loss) < 1e-6 && Math.abs(w.g_w) < 1e-6 && Math.abs(w.g_l) < 1e-6);
});
