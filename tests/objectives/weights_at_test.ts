/** weightsAt: one call for the loss and gradient weights at a point, against float64 formulas. */
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { dpo, ipo, tdpo, weightsAt } from "../../lib/objectives/mod.ts";
import { sig, sp } from "./_reference.ts";

await useCpu();

const TOL = { rtol: 1e-5, atol: 1e-7 };

Deno.test("weightsAt: DPO at several (u_w, u_l) equals softplus(−βh), ∓βσ(−βh)", () => {
  for (const [uW, uL, beta] of [[0.5, -0.5, 0.1], [-2, 3, 0.3], [4, -1, 1]]) {
    const w = weightsAt(dpo({ beta }), { uW, uL });
    const h = uW - uL;
    assertClose(w.loss, sp(-beta * h), TOL);
    assertClose(w.g_w, -beta * sig(-beta * h), TOL);
    assertClose(w.g_l, beta * sig(-beta * h), TOL);
  }
});

Deno.test("weightsAt: lengths reach length-normalised losses (IPO)", () => {
  const beta = 0.5, uW = 1.5, uL = -0.5, lenW = 3, lenL = 5;
  const w = weightsAt(ipo({ beta }), { uW, uL, lenW, lenL });
  const d = uW / lenW - uL / lenL - 1 / (2 * beta);
  assertClose(w.loss, d * d, TOL);
  assertClose(w.g_w, 2 * d / lenW, TOL);
  assertClose(w.g_l, -2 * d / lenL, TOL);
});

Deno.test("weightsAt: per-token data (TDPO2 reads the sequential KL)", () => {
  const beta = 0.2, alpha = 0.5;
  const tokens = {
    policyChosen: [-1, -2, -0.5],
    policyRejected: [-3, -1],
    refChosen: [-1.5, -2, -1],
    refRejected: [-2, -1.5],
    extra: { klChosen: [0.1, 0.2, 0.05], klRejected: [0.3, 0.4] },
  };
  const w = weightsAt(tdpo({ beta, alpha }), { uW: 0, uL: 0, tokens });
  const h = (-3.5 + 4.5) - (-4 + 3.5);
  const z = beta * (h - alpha * (0.7 - 0.35));
  assertClose(w.loss, sp(-z), TOL);
  assertClose(w.g_w, -beta * sig(-z), TOL);
  assertClose(w.g_l, beta * sig(-z), TOL);
  assert.throws(
    () => weightsAt(tdpo(), { uW: 0, uL: 0, tokens: { ...tokens, refChosen: [-1] } }),
    (e) => e instanceof RangeError && /refChosen/.test(e.message),
  );
});
