/** SPO (reconstructed): every base × penalty against float64, finite differences, flags. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { gradientWeights, spo } from "../../lib/objectives/mod.ts";
import { f32, MODERATE, refGrad, type Row, scoresOf, sp } from "./_reference.ts";

await useCpu();

const ROWS = MODERATE.map(f32);
const L = (n: number) => Math.max(n, 1);

const BASES: Record<string, (r: Row) => number> = {
  dpo: (r) => sp(-0.1 * ((r.pc - r.rc) - (r.pr - r.rr))),
  cpo: (r) => sp(-0.1 * (r.pc - r.pr)) - r.pc / L(r.lc),
  simpo: (r) => sp(-(2 * (r.pc / L(r.lc) - r.pr / L(r.lr)) - 0.5)),
};
const PENALTIES: Record<string, (r: Row) => number> = {
  hinge: (r) => Math.max(0, (r.rc - r.pc) / L(r.lc)),
  value: (r) => (r.rc - r.pc) / L(r.lc),
  sft: (r) => -r.pc / L(r.lc),
};

for (const base of Object.keys(BASES)) {
  for (const penalty of Object.keys(PENALTIES)) {
    Deno.test(`SPO base ${base}, penalty ${penalty}: value and gradients against float64`, () => {
      const lambda = 0.7;
      const obj = spo({ base: base as "dpo", penalty: penalty as "sft", lambda });
      assert.equal(obj.needsReference, base === "dpo" || penalty !== "sft");
      const ref = (r: Row) => BASES[base](r) + lambda * PENALTIES[penalty](r);
      const s = scoresOf(ROWS);
      const g = gradientWeights(obj, s);
      ROWS.forEach((r, i) => {
        assertClose(g.losses[i], ref(r), { rtol: 1e-5, atol: 1e-6, msg: `loss ${i}` });
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
  const g = gradientWeights(spo({ lambda: 5 }), s);
  const d = 0.1 / (1 + Math.exp(0.1 * 2));
  assertClose(g.gW[0], -d, { rtol: 1e-5 }); // DPO's alone
  assert.equal(spo({ base: "simpo" }).params.beta, 2);
});
