/**
 * Autodiff gradient weights against the analytic table of the reference spec (§7), written here
 * in float64; the gradient field; a user-written objective.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import {
  createObjective,
  gradientField,
  gradientWeights,
  type Objective,
} from "../../lib/objectives/mod.ts";
import { dsig, EXTREME, f32, log1mexp, MODERATE, type Row, scoresOf, sig } from "./_reference.ts";

await useCpu();

const L = (n: number) => Math.max(n, 1);
const uw = (r: Row) => r.pc - r.rc;
const ul = (r: Row) => r.pr - r.rr;
const hh = (r: Row) => uw(r) - ul(r);

type Table = (r: Row) => [number, number];

/** name, params, analytic [g_w, g_l]. */
const TABLE: [string, Record<string, number | string>, Table][] = [
  ["dpo", { beta: 0.1 }, (r) => [-0.1 * sig(-0.1 * hh(r)), 0.1 * sig(-0.1 * hh(r))]],
  ["dpo", { beta: 0.2, labelSmoothing: 0.1 }, (r) => {
    const g = 0.2 * (sig(-0.2 * hh(r)) - 0.1);
    return [-g, g];
  }],
  ["robust", { beta: 0.1, labelSmoothing: 0.2 }, (r) => {
    const z = 0.1 * hh(r);
    const g = -0.1 * ((1 - 0.2) * sig(-z) + 0.2 * sig(z)) / (1 - 0.4);
    return [g, -g];
  }],
  ["hinge", { beta: 0.1 }, (r) => (0.1 * hh(r) < 1 ? [-0.1, 0.1] : [0, 0])],
  ["ipo", { beta: 0.1 }, (r) => {
    const hbar = uw(r) / L(r.lc) - ul(r) / L(r.lr);
    const a = 2 * (hbar - 1 / 0.2);
    return [a / L(r.lc), -a / L(r.lr)];
  }],
  ["exo_pair", { beta: 0.1, labelSmoothing: 0.01 }, (r) => {
    const q = sig(0.1 * hh(r));
    const g = 0.1 * q * (1 - q) * (0.1 * hh(r) - Math.log(0.99 / 0.01));
    return [g, -g];
  }],
  ["simpo", { beta: 2, gammaBetaRatio: 0.25 }, (r) => {
    const m = 2 * (r.pc / L(r.lc) - r.pr / L(r.lr)) - 0.5;
    return [-2 * sig(-m) / L(r.lc), 2 * sig(-m) / L(r.lr)];
  }],
  ["nca_pair", { beta: 0.1 }, (r) => {
    const a = 0.1 * uw(r), b = 0.1 * ul(r);
    return [0.1 * (0.5 * sig(a) - sig(-a)), 0.5 * 0.1 * sig(b)];
  }],
  ["bco_pair", { beta: 0.1 }, (r) => [-0.1 * sig(-0.1 * uw(r)), 0.1 * sig(0.1 * ul(r))]],
  ["sppo_hard", { beta: 0.1 }, (r) => [2 * (uw(r) - 5), 2 * (ul(r) + 5)]],
  ["apo_zero", { beta: 0.1 }, (r) => [-0.1 * dsig(0.1 * uw(r)), 0.1 * dsig(0.1 * ul(r))]],
  ["apo_down", { beta: 0.1 }, (r) => [
    0.1 * (dsig(0.1 * uw(r)) - dsig(0.1 * hh(r))),
    0.1 * dsig(0.1 * hh(r)),
  ]],
  ["dpop", { beta: 0.1, lambda: 50 }, (r) => {
    const hp = hh(r) - 50 * Math.max(0, -uw(r));
    const s = sig(-0.1 * hp);
    return [-0.1 * s * (1 + (uw(r) < 0 ? 50 : 0)), 0.1 * s];
  }],
  ["cal_dpo", { beta: 0.002 }, (r) => [
    -sig(-hh(r)) + (uw(r) - 250),
    sig(-hh(r)) + (ul(r) + 250),
  ]],
  ["kto", { beta: 0.1, z0: 0.3 }, (r) => [
    0.5 * -0.1 * dsig(0.1 * (uw(r) - 0.3)),
    0.5 * 0.1 * dsig(0.1 * (0.3 - ul(r))),
  ]],
  ["orpo", { beta: 0.1 }, (r) => {
    const w = r.pc / L(r.lc), l = r.pr / L(r.lr);
    const d = (w - log1mexp(w)) - (l - log1mexp(l));
    const pw = Math.exp(w), pl = Math.exp(l);
    return [(-0.1 * sig(-d) / (1 - pw) - 1) / L(r.lc), 0.1 * sig(-d) / (1 - pl) / L(r.lr)];
  }],
  ["asft", { lambda: 0.1 }, (r) => {
    const pl = Math.exp(r.pr / L(r.lr));
    return [-(1 + 0.1) / L(r.lc), 0.1 * pl / (1 - pl) / L(r.lr)];
  }],
  ["dpo", { beta: 0.1, fDivergence: "forward_kl" }, (r) => {
    const ds = -Math.exp(-uw(r)) + Math.exp(-ul(r));
    const s = sig(-0.1 * ds);
    return [-0.1 * s * Math.exp(-uw(r)), 0.1 * s * Math.exp(-ul(r))];
  }],
  ["dpo", { beta: 0.1, fDivergence: "js_divergence" }, (r) => {
    const ds = -Math.log1p(Math.exp(-uw(r))) + Math.log1p(Math.exp(-ul(r)));
    const s = sig(-0.1 * ds);
    return [-0.1 * s * sig(-uw(r)), 0.1 * s * sig(-ul(r))];
  }],
  ["dpo", { beta: 0.1, fDivergence: "alpha_divergence", fAlpha: 0.5 }, (r) => {
    const ds = (Math.exp(-0.5 * uw(r)) - Math.exp(-0.5 * ul(r))) / -0.5;
    const s = sig(-0.1 * ds);
    return [-0.1 * s * Math.exp(-0.5 * uw(r)), 0.1 * s * Math.exp(-0.5 * ul(r))];
  }],
  ["rpo", { beta: 0.1, alpha: 1 }, (r) => [
    -0.1 * sig(-0.1 * hh(r)) - 1 / L(r.lc),
    0.1 * sig(-0.1 * hh(r)),
  ]],
];

/** f-divergence scores need moderate log-ratios (e^{±u} must not overflow the reference). */
const SMALL_U: Row[] = [
  { pc: -10.5, pr: -12.25, rc: -11, rr: -11.5, lc: 5, lr: 6 },
  { pc: -20.0, pr: -18.5, rc: -19.2, rr: -20.1, lc: 7, lr: 4 },
  { pc: -3.0, pr: -9.5, rc: -5.5, rr: -7.0, lc: 2, lr: 8 },
];

for (const [name, params, table] of TABLE) {
  Deno.test(`gradient table: ${name} ${JSON.stringify(params)} autodiff = analytic`, () => {
    const fdiv = "fDivergence" in params;
    const rows =
      (fdiv ? SMALL_U : [...MODERATE, ...(name === "orpo" || name === "asft" ? [] : EXTREME)])
        .map(f32);
    for (const [i, row] of rows.entries()) {
      const s = scoresOf([row]);
      const g = gradientWeights(createObjective(name, params), s);
      tf.dispose(Object.values(s) as tf.Tensor[]);
      const [gw, gl] = table(row);
      assertClose(g.gW[0], gw, { rtol: 1e-5, atol: 1e-6, msg: `${name} row ${i} g_w` });
      assertClose(g.gL[0], gl, { rtol: 1e-5, atol: 1e-6, msg: `${name} row ${i} g_l` });
    }
  });
}

Deno.test("DPO gradient weights have equal magnitude and opposite sign (paper §4)", () => {
  const s = scoresOf(MODERATE.map(f32));
  const g = gradientWeights(createObjective("dpo"), s);
  g.gW.forEach((w, i) => {
    assert.ok(w < 0 && g.gL[i] > 0);
    assertClose(-w, g.gL[i], { rtol: 1e-7 });
  });
  tf.dispose(Object.values(s) as tf.Tensor[]);
});

Deno.test("gradientField: DPO over a grid, rows indexed by u_l", () => {
  const f = gradientField(createObjective("dpo", { beta: 0.5 }), {
    uW: { min: -4, max: 4, n: 5 },
    uL: { min: -2, max: 2, n: 3 },
    refChosen: -30,
    refRejected: -35,
    chosenLength: 7,
  });
  assert.deepEqual(f.uW, [-4, -2, 0, 2, 4]);
  assert.deepEqual(f.uL, [-2, 0, 2]);
  f.uL.forEach((v, i) =>
    f.uW.forEach((u, j) => {
      const s = sig(-0.5 * (u - v));
      assertClose(f.gW[i][j], -0.5 * s, { rtol: 1e-6, msg: `gW(${u},${v})` });
      assertClose(f.gL[i][j], 0.5 * s, { rtol: 1e-6, msg: `gL(${u},${v})` });
      assertClose(f.loss[i][j], Math.log1p(Math.exp(-0.5 * (u - v))), { rtol: 1e-6 });
    })
  );
});

Deno.test("gradientField: batch-coupled objectives are evaluated point by point; token ones refused", () => {
  const f = gradientField(createObjective("aot"), { uW: [1, -1], uL: [-3, 3] });
  // AOT of a single pair is DPO at h = u_w − u_l.
  for (const [i, v] of [-3, 3].entries()) {
    for (const [j, u] of [1, -1].entries()) {
      assertClose(f.gW[i][j], -0.1 * sig(-0.1 * (u - v)), { rtol: 1e-6 });
    }
  }
  assert.throws(
    () => gradientField(createObjective("tdpo"), { uW: [0, 1], uL: [0, 1] }),
    TypeError,
  );
  const bad = { min: 0, max: 1, n: 1 };
  assert.throws(() => gradientField(createObjective("dpo"), { uW: bad, uL: [0] }), RangeError);
});

Deno.test("a user-written objective in a few lines: autodiff gives its gradient weights", () => {
  const beta = 0.1, lambda = 0.05;
  const mine: Objective = {
    name: "dpo_floor",
    needsReference: true,
    needsTokens: false,
    batchCoupled: false,
    params: { beta, lambda },
    loss: (s) =>
      tf.tidy(() => {
        const uW = tf.sub(s.policyChosen, s.refChosen!),
          uL = tf.sub(s.policyRejected, s.refRejected!);
        const dpoTerm = tf.softplus(tf.mul(tf.sub(uL, uW), beta));
        return { losses: tf.add(dpoTerm, tf.mul(tf.relu(tf.neg(uW)), lambda)) as tf.Tensor1D };
      }),
  };
  const rows = MODERATE.map(f32);
  const s = scoresOf(rows);
  const g = gradientWeights(mine, s);
  rows.forEach((r, i) => {
    const d = beta * sig(-beta * hh(r));
    assertClose(g.gW[i], -d - (uw(r) < 0 ? lambda : 0), { rtol: 1e-5, msg: `g_w ${i}` });
    assertClose(g.gL[i], d, { rtol: 1e-5, msg: `g_l ${i}` });
  });
  tf.dispose(Object.values(s) as tf.Tensor[]);
});

Deno.test("gradientWeights and loss() leave no tensors behind", () => {
  const s = scoresOf(MODERATE.map(f32));
  for (const name of ["dpo", "simpo", "aot", "kto", "spo", "mpo"]) {
    const o = createObjective(name, name === "kto" ? { z0: 0 } : {});
    gradientWeights(o, s); // warm-up: tfjs caches some constants on first use
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) gradientWeights(o, s);
    const out = o.loss(s);
    tf.dispose([out.losses, ...Object.values(out.extras ?? {})]);
    assert.equal(tf.memory().numTensors, before, `${name} leaked tensors`);
  }
  tf.dispose(Object.values(s) as tf.Tensor[]);
});
