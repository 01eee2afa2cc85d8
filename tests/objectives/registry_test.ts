/**
 * Every registered per-pair objective against an independent float64 computation of its
 * formula: values, finite-difference gradient weights, extreme margins, and batch = concatenation.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import {
  createObjective,
  findObjective,
  gradientWeights,
  OBJECTIVES,
} from "../../lib/objectives/mod.ts";
import {
  EXTREME,
  EXTREME_ALPHAPO,
  f32,
  MODERATE,
  REF,
  refGrad,
  type Row,
  scoresOf,
} from "./_reference.ts";

await useCpu();

/** Parameter sets per objective: `{}` checks the documented defaults, the others non-defaults. */
const CASES: Record<string, Record<string, number | string | boolean>[]> = {
  dpo: [{}, { beta: 0.3, labelSmoothing: 0.1 }],
  hinge: [{}, { beta: 0.05 }],
  ipo: [{}, { beta: 0.5 }],
  exo_pair: [{}, { beta: 0.2, labelSmoothing: 0.1 }],
  nca_pair: [{}, { beta: 0.01 }],
  robust: [{}, { beta: 0.1, labelSmoothing: 0.2 }],
  bco_pair: [{}, { beta: 0.05 }],
  sppo_hard: [{}, { beta: 0.01 }],
  aot: [{}, { beta: 0.2, labelSmoothing: 0.05 }],
  aot_unpaired: [{}, { labelSmoothing: 0.1 }],
  apo_zero: [{}, { beta: 0.3 }],
  apo_down: [{}, { beta: 0.3 }],
  discopop: [{}, { beta: 0.05, tau: 0.5 }],
  sigmoid_norm: [{}, { beta: 1.5 }],
  sft: [{ nll: "batch" }, { nll: "token" }],
  mpo: [{}, { beta: 0.2 }],
  simpo: [{}, { beta: 2.5, gammaBetaRatio: 0.55, labelSmoothing: 0.1, sftWeight: 0.3 }],
  orpo: [{}, { beta: 0.25 }],
  cpo: [{}, { beta: 0.2, alpha: 0.5, labelSmoothing: 0.05 }],
  rpo: [{}, { beta: 0.2, alpha: 0.5 }],
  rpo_reg: [{}],
  asft: [{}, { lambda: 0.5 }],
  cal_dpo: [{}, { beta: 0.1 }],
  dpop: [{}, { beta: 0.2, lambda: 5 }],
  r_dpo: [{}, { beta: 0.2, alpha: 0.05 }],
  alpha_dpo: [{ sigma: 1 }, { sigma: 0.5, mu: 0.2, alpha: 0.4, beta: 1.5, gammaBetaRatio: 0.3 }],
  alphapo: [{}, { alpha: -0.5, beta: 1.0, gamma: 0.3 }],
  slic_hf: [{}, { delta: 2, lambda: 0.01 }],
  spo: [{}, { lambda: 0.3, beta: 0.2 }],
  kto: [{ z0: 0 }, { z0: 0.7, beta: 0.3, desirableWeight: 1.2, undesirableWeight: 0.8 }],
  anchored_dpo: [{}, { tau: 2, q: 0.8 }, { tau: 0.5, q: 0 }],
  modpo: [{}, { beta: 0.3, w0: 0.5, wLength: 0.4 }],
};

const LOSS_TOL = { rtol: 1e-5, atol: 1e-5 };
const GRAD_TOL = { rtol: 1e-5, atol: 1e-6 };

function runRows(name: string, params: Record<string, unknown>, rows: Row[]) {
  const obj = createObjective(name, params);
  const s = scoresOf(rows);
  try {
    return gradientWeights(obj, s);
  } finally {
    tf.dispose(Object.values(s) as tf.Tensor[]);
  }
}

Deno.test("every registered objective has a float64 reference or is tested elsewhere", () => {
  const elsewhere = new Set(["ld_dpo", "wpo", "tdpo", "sgdpo", "sgdpo_multiplier", "tgdpo"]); // token-level: own test files
  for (const e of OBJECTIVES) {
    assert.ok(e.name in CASES || elsewhere.has(e.name), `no value test for ${e.name}`);
  }
});

for (const [name, cases] of Object.entries(CASES)) {
  const ref = REF[name];
  for (const params of cases) {
    const p = { ...ref.defaults, ...params } as Record<string, number>;
    const label = `${name} ${JSON.stringify(params)}`;

    Deno.test(`${label}: values and g_w, g_l match float64 formula (one pair at a time)`, () => {
      const extreme = name === "alphapo" ? EXTREME_ALPHAPO : EXTREME;
      for (const [i, raw] of [...MODERATE, ...extreme].entries()) {
        const row = f32(raw);
        const g = runRows(name, params, [row]);
        const where = `${label} row ${i}`;
        for (const v of [g.losses[0], g.gW[0], g.gL[0]]) {
          assert.ok(Number.isFinite(v), `${where}: ${v}`);
        }
        assertClose(g.losses[0], ref.loss(row, p), { ...LOSS_TOL, msg: `${where} loss` });
        const fd = refGrad((r, at) => ref.loss(r, p, at), row);
        assertClose(g.gW[0], fd.gW, { ...GRAD_TOL, msg: `${where} g_w` });
        assertClose(g.gL[0], fd.gL, { ...GRAD_TOL, msg: `${where} g_l` });
      }
    });

    const obj = createObjective(name, params);
    if (!obj.batchCoupled) {
      Deno.test(`${label}: a batch equals the concatenation of single pairs`, () => {
        const rows = [...MODERATE, ...EXTREME].map(f32);
        const batch = runRows(name, params, rows);
        rows.forEach((row, i) => {
          const one = runRows(name, params, [row]);
          assertClose(batch.losses[i], one.losses[0], { rtol: 1e-6, atol: 1e-7, msg: `loss ${i}` });
          assertClose(batch.gW[i], one.gW[0], { rtol: 1e-6, atol: 1e-9, msg: `g_w ${i}` });
          assertClose(batch.gL[i], one.gL[0], { rtol: 1e-6, atol: 1e-9, msg: `g_l ${i}` });
        });
      });
    }
  }
}

Deno.test("names and aliases resolve; unknown names throw a TypeError naming them", () => {
  assert.equal(findObjective("sigmoid")?.name, "dpo");
  assert.equal(findObjective("Cal-DPO")?.name, "cal_dpo");
  assert.equal(findObjective("aot_pair")?.name, "aot_unpaired");
  assert.throws(
    () => createObjective("dpoo", {}),
    (e) => e instanceof TypeError && /dpoo/.test(e.message),
  );
});

Deno.test("combine by name: parts with weights, TRL's RPO recipe", () => {
  const row = f32(MODERATE[1]);
  const s = scoresOf([row]);
  const o = createObjective("combine", {
    parts: [{ objective: "sigmoid", weight: 1, params: { beta: 0.2 } }, {
      objective: "sft",
      weight: 0.5,
    }],
  });
  const g = gradientWeights(o, s);
  const want = REF.dpo.loss(row, { beta: 0.2, labelSmoothing: 0 }) + 0.5 * REF.sft.loss(row, {});
  assertClose(g.losses[0], want, LOSS_TOL);
  assert.throws(() => createObjective("combine", { parts: [] }), TypeError);
  assert.throws(
    () => createObjective("combine", { parts: [{ objective: "dpo", params: { beta: -1 } }] }),
    (e) => e instanceof RangeError && /beta/.test(e.message),
  );
  tf.dispose(Object.values(s) as tf.Tensor[]);
});
