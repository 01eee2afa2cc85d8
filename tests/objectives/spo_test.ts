/** SPO (reconstructed): every base × penalty against float64, finite differences, flags. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { gradientWeights, spo } from "../../lib/objectives/mod.ts";
import { f32, MODERATE, refGrad, type Row, scoresOf, sp } from "./_reference.ts";

await useCpu();

const ROWS = MODERATE.map(f32);
const L = (n: number) => Math.max(n, 1);

const h = (r: Row) => (r.pc - r.rc) - (r.pr - r.rr);
/** Each base with its documented defaults, written out (α-DPO with fixed μ = 0, σ = 1). */
const BASES: Record<string, (r: Row, at: Row) => number> = {
  dpo: (r) => sp(-0.1 * h(r)),
  cpo: (r) => sp(-0.1 * (r.pc - r.pr)) - r.pc / L(r.lc),
  simpo: (r) => sp(-(2 * (r.pc / L(r.lc) - r.pr / L(r.lr)) - 0.5)),
  dpop: (r) => sp(-0.1 * (h(r) - 50 * Math.max(0, r.rc - r.pc))),
  r_dpo: (r) => sp(-(0.1 * h(r) - 0.01 * (r.lc - r.lr))),
  alpha_dpo: (r, at) => {
    const pi = (x: Row) => x.pc / L(x.lc) - x.pr / L(x.lr);
    const gap = pi(at) - (at.rc / L(at.lc) - at.rr / L(at.lr)); // detached in the method
    return sp(-2.5 * (pi(r) - (0.2 * gap + 0.6)));
  },
};
const BASE_PARAMS: Record<string, Record<string, unknown>> = { alpha_dpo: { sigma: 1 } };
const PENALTIES: Record<string, (r: Row) => number> = {
  hinge: (r) => Math.max(0, (r.rc - r.pc) / L(r.lc)),
  value: (r) => (r.rc - r.pc) / L(r.lc),
  sft: (r) => -r.pc / L(r.lc),
};

for (const base of Object.keys(BASES)) {
  for (const penalty of Object.keys(PENALTIES)) {
    Deno.test(`SPO base ${base}, penalty ${penalty}: value and gradients against float64`, () => {
      const lambda = 0.7;
      const obj = spo({
        base: base as "dpo",
        penalty: penalty as "sft",
        lambda,
        ...BASE_PARAMS[base],
      });
      const refFree = base === "cpo" || base === "simpo";
      assert.equal(obj.needsReference, !refFree || penalty !== "sft");
      const ref = (r: Row, at: Row = r) => BASES[base](r, at) + lambda * PENALTIES[penalty](r);
      const s = scoresOf(ROWS);
      const g = gradientWeights(obj, s);
      ROWS.forEach((r, i) => {
        assertClose(g.losses[i], ref(r), { rtol: 1e-5, atol: 1e-5, msg: `loss ${i}` });
        const fd = refGrad(ref, r);
        assertClose(g.gW[i], fd.gW, { rtol: 1e-5, atol: 1e-6, msg: `g_w ${i}` });
        assertClose(g.gL[i], fd.gL, { rtol: 1e-5, atol: 1e-6, msg: `g_l ${i}` });
      });
      tf.dispose(Object.values(s) as tf.Tensor[]);
    });
  }
}

Deno.test("SPO hinge penalty is zero while the preferred likelihood is at or above the reference", () => {
  const up = f32({ pc: -9, pr: -12, rc: -10, rr: -11, lc: 4, lr: 4 });
  const s = scoresOf([up]);
  const g = gradientWeights(spo({ penalty: "hinge", lambda: 5 }), s);
  const d = 0.1 / (1 + Math.exp(0.1 * 2));
  assertClose(g.gW[0], -d, { rtol: 1e-5 }); // DPO's alone
  assert.equal(spo({ base: "simpo" }).params.beta, 2);
});

Deno.test("SPO defaults: value penalty, λ 1, base dpo; base parameters pass through; errors name the base", () => {
  const o = spo();
  assert.deepEqual([o.params.base, o.params.penalty, o.params.lambda], ["dpo", "value", 1]);
  // The value penalty acts at every point: g_w = DPO's − λ/|y_w| even when ℓθ(y_w) > ℓref(y_w).
  const up = f32({ pc: -9, pr: -12, rc: -10, rr: -11, lc: 4, lr: 4 });
  const s = scoresOf([up]);
  const g = gradientWeights(spo({ lambda: 2 }), s);
  assertClose(g.gW[0], -0.1 / (1 + Math.exp(0.1 * 2)) - 2 / 4, { rtol: 1e-5 });
  tf.dispose(Object.values(s) as tf.Tensor[]);
  assert.equal(spo({ base: "dpop", dpop_lambda: 7 }).params["base.lambda"], 7);
  assert.equal(spo({ base: "dpop", lambda: 0.3 }).params["base.lambda"], 50);
  assert.equal(spo({ base: "r_dpo", beta: 0.3 }).params.beta, 0.3);
  assert.throws(
    () => spo({ base: "dpo", gammaBetaRatio: 1 }),
    /spo \(base dpo\).*'gammaBetaRatio'/,
  );
  assert.throws(() => spo({ base: "kto" as "dpo" }), /'base'/);
  assert.throws(() => spo({ base: "simpo", beta: -1 }), RangeError);
});

Deno.test("SPO on α-DPO carries the base's running statistics through save/load/reset", async () => {
  const rows = MODERATE.map(f32);
  const a = spo({ base: "alpha_dpo" }), b = spo({ base: "alpha_dpo" });
  assert.ok(a.batchCoupled);
  const s = scoresOf(rows);
  tf.dispose(a.loss(s).losses);
  const state = await a.saveState!();
  assert.equal(typeof state.mu, "number");
  b.loadState!(state);
  const la = a.loss(s).losses, lb = b.loss(s).losses;
  assert.deepEqual(Array.from(lb.dataSync()), Array.from(la.dataSync()));
  a.reset!();
  assert.deepEqual(await a.saveState!(), { mu: null, sd: null });
  tf.dispose([la, lb, ...(Object.values(s) as tf.Tensor[])]);
});
