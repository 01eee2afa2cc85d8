import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { gradientWeights, kto } from "../../lib/objectives/mod.ts";
import { dsig, f32, MODERATE, scoresOf, sig } from "./_reference.ts";

await useCpu();

const ROWS = MODERATE.map(f32).slice(0, 3);
const TOL = { rtol: 1e-5, atol: 1e-6 };

Deno.test("KTO z0 from mismatched completions: max(0, mean(policy − ref)), detached", () => {
  const beta = 0.2;
  for (const [klp, klr] of [[[-5, -7, -6], [-6, -6.5, -7]], [[-9, -9, -9], [-5, -5, -5]]]) {
    const z0 = Math.max(0, klp.reduce((a, b, i) => a + b - klr[i], 0) / 3);
    const s = { ...scoresOf(ROWS), kl: { policy: tf.tensor1d(klp), ref: tf.tensor1d(klr) } };
    const g = gradientWeights(kto({ beta }), s);
    ROWS.forEach((r, i) => {
      const uw = r.pc - r.rc, ul = r.pr - r.rr;
      const want = 0.5 * ((1 - sig(beta * (uw - z0))) + (1 - sig(beta * (z0 - ul))));
      assertClose(g.losses[i], want, { ...TOL, msg: `loss ${i} (z0 ${z0})` });
      assertClose(g.gW[i], -0.5 * beta * dsig(beta * (uw - z0)), { ...TOL, msg: `g_w ${i}` });
      assertClose(g.gL[i], 0.5 * beta * dsig(beta * (z0 - ul)), { ...TOL, msg: `g_l ${i}` });
    });
  }
});

Deno.test("KTO on unpaired data: mean over the examples present; absent sides get no gradient", () => {
  const beta = 0.1, z0 = 0.4, lD = 1.5, lU = 0.5;
  const present = { chosen: tf.tensor1d([1, 1, 0]), rejected: tf.tensor1d([1, 0, 1]) };
  const s = { ...scoresOf(ROWS), present };
  const g = gradientWeights(kto({ beta, z0, desirableWeight: lD, undesirableWeight: lU }), s);
  const terms: number[] = [];
  ROWS.forEach((r, i) => {
    const d = lD * (1 - sig(beta * (r.pc - r.rc - z0)));
    const u = lU * (1 - sig(beta * (z0 - (r.pr - r.rr))));
    terms.push((i < 2 ? d : 0) + (i !== 1 ? u : 0));
  });
  // N = 4 examples, B = 3 rows: row i carries (3/4)·its terms, so the mean is Σ terms / 4.
  assertClose(g.losses, terms.map((t) => (3 / 4) * t), TOL);
  assertClose(g.losses.reduce((a, b) => a + b) / 3, terms.reduce((a, b) => a + b) / 4, TOL);
  assert.equal(g.gW[2], 0);
  assert.equal(g.gL[1], 0);
});

Deno.test("KTO with z0 = 'kl' and no KL completions names the missing field", () => {
  assert.throws(
    () => kto().loss(scoresOf(ROWS)),
    (e) => e instanceof TypeError && /scores\.kl/.test(String(e)),
  );
  assert.equal(kto().batchCoupled, true);
});
