/**
 * Independent float64 references for the objective tests: each published formula written out in
 * plain JavaScript numbers (no tfjs, nothing from lib/), plus finite differences.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SequenceScores } from "../../lib/core/scores.ts";

/** One pair in plain numbers: summed log-probs and completion lengths. */
export interface Row {
  pc: number;
  pr: number;
  rc: number;
  rr: number;
  lc: number;
  lr: number;
}

export const sp = (x: number): number =>
  x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
export const sig = (x: number): number =>
  x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
export const logsig = (x: number): number => -sp(-x);
/** σ'(x) = σ(x)σ(−x). */
export const dsig = (x: number): number => sig(x) * sig(-x);
/** log(1 − e^x), x < 0. */
export const log1mexp = (x: number): number =>
  x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));

const L = (n: number) => Math.max(n, 1);
const uw = (r: Row) => r.pc - r.rc;
const ul = (r: Row) => r.pr - r.rr;
const hh = (r: Row) => uw(r) - ul(r);
const smooth = (z: number, e: number) => (1 - e) * sp(-z) + e * sp(z);

/**
 * A reference loss. `at` is the unperturbed row: quantities the method detaches (stop-gradient)
 * are computed from `at`, so finite differences hold them fixed as autodiff does.
 */
type Ref = (r: Row, p: Record<string, number>, at?: Row) => number;

/**
 * Per-pair reference losses, keyed by registry name. `p` holds the parameters the test passes
 * (defaults are spelled out here from the docs, not read from the library).
 */
export const REF: Record<string, { defaults: Record<string, number>; loss: Ref }> = {
  dpo: {
    defaults: { beta: 0.1, labelSmoothing: 0 },
    loss: (r, p) => smooth(p.beta * hh(r), p.labelSmoothing),
  },
  hinge: { defaults: { beta: 0.1 }, loss: (r, p) => Math.max(0, 1 - p.beta * hh(r)) },
  ipo: {
    defaults: { beta: 0.1 },
    loss: (r, p) => (uw(r) / L(r.lc) - ul(r) / L(r.lr) - 1 / (2 * p.beta)) ** 2,
  },
  exo_pair: {
    defaults: { beta: 0.1, labelSmoothing: 1e-3 },
    loss: (r, p) => {
      const z = p.beta * hh(r), e = p.labelSmoothing;
      return sig(z) * (logsig(z) - Math.log(1 - e)) + sig(-z) * (logsig(-z) - Math.log(e));
    },
  },
  nca_pair: {
    defaults: { beta: 0.1 },
    loss: (r, p) => {
      const a = p.beta * uw(r), b = p.beta * ul(r);
      return -logsig(a) - 0.5 * logsig(-a) - 0.5 * logsig(-b);
    },
  },
  robust: {
    defaults: { beta: 0.1, labelSmoothing: 0 },
    loss: (r, p) => {
      const z = p.beta * hh(r), e = p.labelSmoothing;
      return ((1 - e) * -logsig(z) + e * logsig(-z)) / (1 - 2 * e);
    },
  },
  bco_pair: {
    defaults: { beta: 0.1 },
    loss: (r, p) => -logsig(p.beta * uw(r)) - logsig(-p.beta * ul(r)),
  },
  sppo_hard: {
    defaults: { beta: 0.1 },
    loss: (r, p) => (uw(r) - 0.5 / p.beta) ** 2 + (ul(r) + 0.5 / p.beta) ** 2,
  },
  aot: {
    defaults: { beta: 0.1, labelSmoothing: 0 },
    loss: (r, p) => smooth(p.beta * hh(r), p.labelSmoothing),
  },
  aot_unpaired: {
    defaults: { beta: 0.1, labelSmoothing: 0 },
    loss: (r, p) => smooth(p.beta * (uw(r) - ul(r)), p.labelSmoothing),
  },
  apo_zero: {
    defaults: { beta: 0.1 },
    loss: (r, p) => 1 - sig(p.beta * uw(r)) + sig(p.beta * ul(r)),
  },
  apo_down: {
    defaults: { beta: 0.1 },
    loss: (r, p) => sig(p.beta * uw(r)) + 1 - sig(p.beta * hh(r)),
  },
  discopop: {
    defaults: { beta: 0.1, tau: 0.05 },
    loss: (r, p) => {
      const rho = p.beta * hh(r), m = sig(rho / p.tau);
      return (1 - m) * -logsig(rho) + m * Math.exp(-rho);
    },
  },
  sigmoid_norm: {
    defaults: { beta: 0.1 },
    loss: (r, p) => -logsig(p.beta * (uw(r) / L(r.lc) - ul(r) / L(r.lr))),
  },
  sft: { defaults: {}, loss: (r) => -r.pc / L(r.lc) },
  mpo: {
    defaults: { beta: 0.1 },
    loss: (r, p) =>
      0.8 * sp(-p.beta * hh(r)) + 0.2 * (sp(-p.beta * uw(r)) + sp(p.beta * ul(r))) - r.pc / L(r.lc),
  },
  simpo: {
    defaults: { beta: 2.0, gammaBetaRatio: 0.25, labelSmoothing: 0, sftWeight: 0 },
    loss: (r, p) => {
      const m = p.beta * (r.pc / L(r.lc) - r.pr / L(r.lr)) - p.beta * p.gammaBetaRatio;
      return smooth(m, p.labelSmoothing) + p.sftWeight * (-r.pc / L(r.lc));
    },
  },
  orpo: {
    defaults: { beta: 0.1 },
    loss: (r, p) => {
      const w = r.pc / L(r.lc), l = r.pr / L(r.lr);
      const odds = (w - log1mexp(w)) - (l - log1mexp(l));
      return -w - p.beta * logsig(odds);
    },
  },
  cpo: {
    defaults: { beta: 0.1, alpha: 1, labelSmoothing: 0 },
    loss: (r, p) => smooth(p.beta * (r.pc - r.pr), p.labelSmoothing) + p.alpha * (-r.pc / L(r.lc)),
  },
  rpo: {
    defaults: { beta: 0.1, alpha: 1 },
    loss: (r, p) => sp(-p.beta * hh(r)) - p.alpha * r.pc / L(r.lc),
  },
  rpo_reg: {
    defaults: { beta: 0.01, alpha: 0.005 },
    loss: (r, p) => sp(-p.beta * hh(r)) - p.alpha * r.pc / L(r.lc),
  },
  asft: {
    defaults: { lambda: 0.1 },
    loss: (r, p) => -(1 + p.lambda) * (r.pc / L(r.lc)) - p.lambda * log1mexp(r.pr / L(r.lr)),
  },
  cal_dpo: {
    defaults: { beta: 0.002 },
    loss: (r, p) =>
      sp(-hh(r)) + 0.5 * ((uw(r) - 1 / (2 * p.beta)) ** 2 + (ul(r) + 1 / (2 * p.beta)) ** 2),
  },
  dpop: {
    defaults: { beta: 0.1, lambda: 50 },
    loss: (r, p) => sp(-p.beta * (hh(r) - p.lambda * Math.max(0, r.rc - r.pc))),
  },
  r_dpo: {
    defaults: { beta: 0.1, alpha: 0.01 },
    loss: (r, p) => sp(-(p.beta * hh(r) - p.alpha * (r.lc - r.lr))),
  },
  alpha_dpo: {
    defaults: { beta: 2.5, gammaBetaRatio: 0.6, alpha: 0.2, mu: 0, sigma: 1 },
    loss: (r, p, at = r) => {
      const pi = (x: Row) => x.pc / L(x.lc) - x.pr / L(x.lr);
      const gap = pi(at) - (at.rc / L(at.lc) - at.rr / L(at.lr)); // detached in the method
      return sp(-p.beta * (pi(r) - (p.alpha * (gap - p.mu) / p.sigma + p.gammaBetaRatio)));
    },
  },
  alphapo: {
    defaults: { alpha: 0.25, beta: 2.5, gamma: 0.1 },
    loss: (r, p) => {
      const rew = (x: number) => (1 - Math.exp(-p.alpha * x)) / p.alpha;
      return sp(-(p.beta * (rew(r.pc / L(r.lc)) - rew(r.pr / L(r.lr))) - p.gamma));
    },
  },
  slic_hf: {
    defaults: { delta: 1, lambda: 0.1 },
    loss: (r, p) => Math.max(0, p.delta - r.pc + r.pr) + p.lambda * -r.pc,
  },
  spo: {
    defaults: { beta: 0.1, lambda: 1 },
    // Default penalty: the value-function form ℓ̄ref(y_w) − ℓ̄θ(y_w).
    loss: (r, p) => sp(-p.beta * hh(r)) + p.lambda * ((r.rc - r.pc) / L(r.lc)),
  },
  // ADPO pairwise: KL(q ‖ p) between Bernoullis, p = σ(h/τ) (abstract of arXiv 2510.18913 v5).
  anchored_dpo: {
    defaults: { tau: 10, q: 1 },
    loss: (r, p) => {
      // Σ_k q_k·log(q_k/p_k) with log p through log-sigmoid, so extreme margins stay finite.
      const z = hh(r) / p.tau, q = p.q;
      const part = (qk: number, logp: number) => (qk > 0 ? qk * (Math.log(qk) - logp) : 0);
      return part(q, logsig(z)) + part(1 - q, logsig(-z));
    },
  },
  // MODPO with the authors' length-penalty margin reward r(y) = −|y| (ZHZisZZ/modpo).
  modpo: {
    defaults: { beta: 0.1, w0: 1, wLength: 0.1 },
    loss: (r, p) => {
      const rw = -r.lc, rl = -r.lr;
      return sp(-(p.beta * hh(r) - p.wLength * (rw - rl)) / p.w0);
    },
  },
  kto: {
    defaults: { beta: 0.1, desirableWeight: 1, undesirableWeight: 1, z0: 0 },
    loss: (r, p) =>
      0.5 * (p.desirableWeight * (1 - sig(p.beta * (uw(r) - p.z0))) +
        p.undesirableWeight * (1 - sig(p.beta * (p.z0 - ul(r))))),
  },
};

/** Central difference of f at x with step h. */
export function centralDiff(f: (x: number) => number, x: number, h: number): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

/** g_w and g_l of a reference loss by float64 central differences. */
export function refGrad(loss: (r: Row, at: Row) => number, r: Row): { gW: number; gL: number } {
  const step = (x: number) => 1e-6 * Math.max(1, Math.abs(x));
  return {
    gW: centralDiff((x) => loss({ ...r, pc: x }, r), r.pc, step(r.pc)),
    gL: centralDiff((x) => loss({ ...r, pr: x }, r), r.pr, step(r.pr)),
  };
}

/** Rows as float32 values (what the tensors will hold), so references see the same inputs. */
export function f32(r: Row): Row {
  return {
    pc: Math.fround(r.pc),
    pr: Math.fround(r.pr),
    rc: Math.fround(r.rc),
    rr: Math.fround(r.rr),
    lc: Math.fround(r.lc),
    lr: Math.fround(r.lr),
  };
}

/** Build SequenceScores from rows (reference fields always included). */
export function scoresOf(rows: Row[]): SequenceScores {
  return {
    policyChosen: tf.tensor1d(rows.map((r) => r.pc)),
    policyRejected: tf.tensor1d(rows.map((r) => r.pr)),
    refChosen: tf.tensor1d(rows.map((r) => r.rc)),
    refRejected: tf.tensor1d(rows.map((r) => r.rr)),
    chosenLength: tf.tensor1d(rows.map((r) => r.lc)),
    rejectedLength: tf.tensor1d(rows.map((r) => r.lr)),
  };
}

/** A row from log-ratios: policy = u + ref. */
export function fromU(u: number, v: number, rc = -20, rr = -25, lc = 10, lr = 12): Row {
  return { pc: u + rc, pr: v + rr, rc, rr, lc, lr };
}

/**
 * Rows at moderate values, chosen away from kinks (hinge at βh = 1, DPOP at u_w = 0, SLiC at the
 * margin) and with negative policy log-probs (ORPO/ASFT need ℓ̄ < 0).
 */
export const MODERATE: Row[] = [
  { pc: -10.5, pr: -12.25, rc: -11, rr: -11.5, lc: 5, lr: 6 },
  { pc: -30.2, pr: -25.7, rc: -28.9, rr: -27.4, lc: 12, lr: 9 },
  { pc: -4.3, pr: -19.1, rc: -6.2, rr: -15.8, lc: 3, lr: 14 },
  { pc: -55.5, pr: -41.0, rc: -50.25, rr: -44.0, lc: 20, lr: 17 },
];

/**
 * AlphaPO's reward `(1 − e^{−αℓ̄})/α` grows like e^{α|ℓ̄|}: at the mean log-probs of
 * {@link EXTREME} (−89) the loss is ~5e10 and float64 finite differences lose all accuracy.
 * Its extreme rows instead reach |β(r_w − r_l)| ≈ 1500 with mean log-probs in [−20, −1].
 */
export const EXTREME_ALPHAPO: Row[] = [
  { pc: -5, pr: -200, rc: 0, rr: 0, lc: 5, lr: 10 },
  { pc: -200, pr: -5, rc: 0, rr: 0, lc: 10, lr: 5 },
];

/** Rows with |u| = 500 so that |h| = 1000 (|βh| = 100 at β = 0.1), both signs. */
export const EXTREME: Row[] = [
  { pc: -5, pr: -800, rc: -505, rr: -300, lc: 5, lr: 8 },
  { pc: -805, pr: -6, rc: -305, rr: -506, lc: 9, lr: 6 },
];
