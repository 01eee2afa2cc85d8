import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { bcoPair, combine, dpo, gradientWeights, sft, simpo } from "../../lib/objectives/mod.ts";
import { f32, MODERATE, scoresOf, sig, sp } from "./_reference.ts";

await useCpu();

const ROWS = MODERATE.map(f32);

Deno.test("combine: mean of the weighted sum is Σ w_k·mean(L_k) (TRL loss_weights), MPO recipe", () => {
  const s = scoresOf(ROWS);
  const beta = 0.1;
  const o = combine([[dpo({ beta }), 0.8], [bcoPair({ beta }), 0.2], [sft(), 1]]);
  const g = gradientWeights(o, s);
  const sumLen = ROWS.reduce((a, r) => a + r.lc, 0), sumLp = ROWS.reduce((a, r) => a + r.pc, 0);
  ROWS.forEach((r, i) => {
    const uw = r.pc - r.rc, ul = r.pr - r.rr;
    const want = 0.8 * sp(-beta * (uw - ul)) + 0.2 * (sp(-beta * uw) + sp(beta * ul)) -
      sumLp / sumLen;
    assertClose(g.losses[i], want, { rtol: 1e-5, msg: `loss ${i}` });
    const gw = -0.8 * beta * sig(-beta * (uw - ul)) - 0.2 * beta * sig(-beta * uw) -
      ROWS.length / sumLen;
    assertClose(g.gW[i], gw, { rtol: 1e-5, msg: `g_w ${i}` });
  });
  assert.equal(o.batchCoupled, true, "the pooled SFT term couples the batch");
  assert.equal(o.needsReference, true);
  const out = o.loss(s);
  assert.ok("2:sft/loss" in out.extras! && "0:dpo/chosenScore" in out.extras!);
  tf.dispose(Object.values(s) as tf.Tensor[]);
});

Deno.test("combine: flags are unions; weights are validated", () => {
  const free = combine([[simpo(), 1], [sft({ nll: "token" }), 0.5]]);
  assert.equal(free.needsReference, false);
  assert.equal(free.batchCoupled, false);
  assert.throws(() => combine([]), TypeError);
  assert.throws(
    () => combine([[dpo(), NaN]]),
    (e) => e instanceof RangeError && /weight/.test(String(e)),
  );
});
