/**
 * Theorems 4 and 5 of arXiv 2410.08847 against the unconstrained-features model (W, h free)
 * trained by plain gradient descent on DPO with the initial model as reference.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../lib/kernels/gradients.ts";
import { assertClose, useCpu } from "../helpers.ts";
import {
  ufmObservedLogProbChange,
  ufmParameters,
  ufmPredictedLogProbChange,
} from "../../lib/analysis/ufm_theory.ts";
import { createUnconstrainedFeatures } from "../../lib/models/toy.ts";

await useCpu();

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const NO = 0, NEVER = 1, YES = 2;
const V = 16, d = 8;

/**
 * No and Never share most of their unembedding (W_Never = W_No - u, u orthogonal to W_No);
 * Yes points along u = W_No - W_Never, the direction Theorem 5 says gains. h is small and
 * along W_No, so pi(No) = pi(Never) is the largest mass at the start.
 */
function setup(seed: number): { W: number[][]; h: number[] } {
  const r = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const W: number[][] = [];
  for (let k = 0; k < V; k++) W.push(Array.from({ length: d }, () => gauss() / Math.sqrt(d)));
  const a = W[NO], aa = dot(a, a);
  const raw = Array.from({ length: d }, () => gauss());
  const proj = dot(raw, a) / aa;
  const orth = raw.map((v, i) => v - proj * a[i]);
  const norm = Math.sqrt(dot(orth, orth));
  const u = orth.map((v) => v / norm);
  const ah = a.map((v) => v / Math.sqrt(aa));
  W[NO] = ah.map((v) => 4 * v);
  W[NEVER] = W[NO].map((v, i) => v - u[i] + 0.02 * gauss());
  W[YES] = u.map((v, i) => 3 * v + 2 * ah[i] + 0.05 * gauss());
  return { W, h: ah.map((v) => 0.3 * v) };
}

function logSoftmaxJs(W: number[][], h: number[]): number[] {
  const z = W.map((w) => dot(w, h));
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

/** Spearman's rho without ties: 1 - 6 sum d^2 / (n (n^2 - 1)). */
function spearman(a: number[], b: number[]): number {
  const rank = (x: number[]) => {
    const order = x.map((_, i) => i).sort((i, j) => x[i] - x[j]);
    const r = new Array<number>(x.length);
    order.forEach((i, k) => r[i] = k + 1);
    return r;
  };
  const ra = rank(a), rb = rank(b), n = a.length;
  const s = ra.reduce((acc, v, i) => acc + (v - rb[i]) ** 2, 0);
  return 1 - 6 * s / (n * (n * n - 1));
}

const beta = 1;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

Deno.test("UFM prediction equals the closed forms of Theorems 4 and 5, token by token", () => {
  const { W, h } = setup(1);
  const lp = logSoftmaxJs(W, h), pi = lp.map(Math.exp);
  const lPrime = -0.37; // any negative ell'
  const pred = ufmPredictedLogProbChange(W, h, {
    yPlus: NO,
    yMinus: NEVER,
    lossDerivative: lPrime,
  });
  const wp = W[NO], wm = W[NEVER], delta = wp.map((v, i) => v - wm[i]);
  const pp = pi[NO], pm = pi[NEVER];
  // Theorem 4.
  const m = (1 - pp) * dot(wp, wp) + pm * dot(wm, wm) + (1 - pp + pm) * dot(h, h);
  let tail = 0;
  for (let z = 0; z < V; z++) if (z !== NO && z !== NEVER) tail += pi[z] * dot(W[z], delta);
  const thm4 = -lPrime * (m - (1 - pp + pm) * dot(wp, wm) - tail);
  assertClose(pred.rate[NO], thm4, { rtol: 1e-10, msg: "Theorem 4, y+" });
  // Theorem 5: rate(z) = -ell' (<W_z, delta> + c) with c the same for every other token.
  const cs: number[] = [];
  for (let z = 0; z < V; z++) {
    if (z === NO || z === NEVER) continue;
    cs.push(pred.rate[z] / -lPrime - dot(W[z], delta));
  }
  assertClose(cs, cs.map(() => cs[0]), { rtol: 1e-10, atol: 1e-12, msg: "Theorem 5, c(t)" });
  // And c itself, from the derivation: c = -(pi+ - pi-) ||h||^2 - <sum_k pi_k W_k, delta>.
  const wbarDelta = W.reduce((s, w, k) => s + pi[k] * dot(w, delta), 0);
  assertClose(cs[0], -(pp - pm) * dot(h, h) - wbarDelta, { rtol: 1e-10 });
  // Probability is conserved: sum_z pi(z) d/dt ln pi(z) = d/dt sum_z pi(z) = 0.
  assertClose(pred.rate.reduce((s, v, z) => s + pi[z] * v, 0), 0, { atol: 1e-12 });
  assertClose(pred.margin, lp[NO] - lp[NEVER], { rtol: 1e-12 });
});

Deno.test("UFM prediction matches a small gradient step for every token (DPO and DPO+SFT)", async () => {
  const { W, h } = setup(2);
  const Wt = tf.tensor2d(W), ht = tf.tensor1d(h);
  const lp0 = logSoftmaxJs(W, h);
  const tRef = lp0[NO] - lp0[NEVER] - 0.5; // a reference that leaves the loss unsaturated
  const dpo = (a: tf.Scalar, b: tf.Scalar) =>
    tf.softplus(tf.neg(tf.mul(beta, tf.sub(tf.sub(a, b), tRef)))) as tf.Scalar;
  const lPrime = (t: number) => -beta * sigmoid(-beta * (t - tRef));
  const pair = { yPlus: NO, yMinus: NEVER };
  const observe = (loss: typeof dpo) =>
    ufmObservedLogProbChange(Wt, ht, { ...pair, loss, stepSize: 1e-5 });
  const pred = ufmPredictedLogProbChange(W, h, { ...pair, lossDerivative: lPrime });
  const obs = await observe(dpo);
  const scale = Math.max(...pred.rate.map(Math.abs));
  assertClose(obs.rate, pred.rate, { atol: 2e-3 * scale, rtol: 0, msg: "DPO" });

  // An SFT term on y+ makes the weights asymmetric: g_w = ell' - lambda, g_l = -ell'.
  const lambda = 0.7;
  const dpoSft = (a: tf.Scalar, b: tf.Scalar) => tf.sub(dpo(a, b), tf.mul(lambda, a)) as tf.Scalar;
  const gw = lPrime(lp0[NO] - lp0[NEVER]);
  const pred2 = ufmPredictedLogProbChange(W, h, {
    ...pair,
    weights: { chosen: gw - lambda, rejected: -gw },
  });
  const obs2 = await observe(dpoSft);
  const scale2 = Math.max(...pred2.rate.map(Math.abs));
  assertClose(obs2.rate, pred2.rate, { atol: 2e-3 * scale2, rtol: 0, msg: "DPO+SFT" });
  // The SFT term must have made a difference the check could see.
  assert.ok(Math.abs(pred2.rate[NO] - pred.rate[NO]) > 0.1 * scale);
  tf.dispose([Wt, ht]);
});

Deno.test("DPO on No > Never raises Yes; observed token gains rank as Theorem 5 predicts", async () => {
  const { W, h } = setup(1);
  const names = ["No", "Never", "Yes", ...Array.from({ length: V - 3 }, (_, k) => `t${k + 3}`)];
  const m = createUnconstrainedFeatures({ tokens: names, dim: d, hidden: [h], unembedding: W });
  const logProbs = () => {
    const lp = m.logProbs("x0");
    const out = Array.from(lp.dataSync());
    lp.dispose();
    return out;
  };
  const lp0 = logProbs();
  const tRef = lp0[NO] - lp0[NEVER];
  // The toy model is a PreferenceScorer: score the pair and apply DPO with the initial model
  // as reference, then take plain gradient steps on all its variables (h and W).
  const batch = {
    prompt: Int32Array.of(0),
    chosen: Int32Array.of(m.tokenId("No")),
    rejected: Int32Array.of(m.tokenId("Never")),
    pairIndex: [0],
  };
  const loss = () => {
    const s = m.scores(batch);
    const margin = tf.sub(s.policyChosen, s.policyRejected);
    return tf.sum(tf.softplus(tf.neg(tf.mul(beta, tf.sub(margin, tRef))))) as tf.Scalar;
  };
  // Theorem 5 through the library, at the start, from the model's own parameters.
  const params = await ufmParameters(m, "x0");
  const lib = ufmPredictedLogProbChange(params.W, params.h, {
    yPlus: NO,
    yMinus: NEVER,
    lossDerivative: -beta / 2,
  });
  const lr = 0.1, steps = 100;
  let lpFirst: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { value, grads } = tf.variableGrads(loss, m.variables());
    tf.tidy(() => {
      for (const v of m.variables()) v.assign(tf.sub(v, tf.mul(grads[v.name], lr)));
    });
    tf.dispose([value, ...Object.values(grads)]);
    if (s === 0) lpFirst = logProbs();
  }
  const lp1 = logProbs();
  m.dispose();
  const p0 = lp0.map(Math.exp), p1 = lp1.map(Math.exp);
  // The Yes-like token rises from ~0.09 to most of the mass, while the preferred No falls:
  // catastrophic likelihood displacement.
  assert.ok(p1[YES] > 5 * p0[YES], `pi(Yes) ${p0[YES]} -> ${p1[YES]}`);
  assert.ok(p1[NO] < p0[NO], `pi(No) ${p0[NO]} -> ${p1[NO]} should fall`);

  // Theorem 5's ranking over z outside {No, Never} is the ranking of <W_z, W_No - W_Never>.
  const delta = W[NO].map((v, i) => v - W[NEVER][i]);
  const others = [...Array(V).keys()].filter((z) => z !== NO && z !== NEVER);
  const predicted = others.map((z) => dot(W[z], delta));
  const rhoStep = spearman(predicted, others.map((z) => lpFirst[z] - lp0[z]));
  const rhoRun = spearman(predicted, others.map((z) => lp1[z] - lp0[z]));
  console.log(
    `pi(Yes) ${p0[YES].toFixed(3)} -> ${p1[YES].toFixed(3)}, pi(No) ${p0[NO].toFixed(3)} -> ${
      p1[NO].toFixed(3)
    }; Spearman rho (Theorem 5 vs observed log-prob gains, ${others.length} tokens): ` +
      `first step ${rhoStep.toFixed(4)}, after ${steps} steps ${rhoRun.toFixed(4)}`,
  );
  assert.ok(rhoStep > 0.99, `first-step rho ${rhoStep}`);
  assert.ok(rhoRun > 0.9, `${steps}-step rho ${rhoRun}`);
  // The top predicted and the top observed gainer are both Yes.
  const top = (xs: number[]) => others[xs.indexOf(Math.max(...xs))];
  assert.equal(top(predicted), YES);
  assert.equal(top(others.map((z) => lp1[z] - lp0[z])), YES);
  // The library's first-step prediction, scaled by lr, matches the observed first step.
  const first = others.map((z) => (lpFirst[z] - lp0[z]) / lr);
  assertClose(first, others.map((z) => lib.rate[z]), {
    atol: 0.05 * Math.max(...first.map(Math.abs)),
    rtol: 0,
    msg: "first step vs library prediction",
  });
});
