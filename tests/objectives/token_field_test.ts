/**
 * tokenGradientField: token-level objectives placed on the (u_w, u_l) plane under synthetic
 * per-token data, checked against float64 formulas of the documented losses.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { dpo, kto, sgdpoMultiplier, tokenGradientField } from "../../lib/objectives/mod.ts";
import { sig, sp } from "./_reference.ts";

await useCpu();

const GRID = [-6, -1, 0, 2.5];

function each(f: (uw: number, ul: number, i: number, j: number) => void) {
  GRID.forEach((ul, i) => GRID.forEach((uw, j) => f(uw, ul, i, j)));
}

Deno.test("LD-DPO with equal lengths is DPO: g_w = −βσ(−βh) = −g_l, loss softplus(−βh)", () => {
  const beta = 0.3;
  const f = tokenGradientField(dpo({ beta, ldAlpha: 0.5 }), {
    uW: GRID,
    uL: GRID,
    chosenTokens: 5,
    spread: 0.8,
  });
  each((uw, ul, i, j) => {
    const h = uw - ul;
    assertClose(f.gW[i][j], -beta * sig(-beta * h), { atol: 1e-5 });
    assertClose(f.gL[i][j], beta * sig(-beta * h), { atol: 1e-5 });
    assertClose(f.loss[i][j], sp(-beta * h), { atol: 1e-5 });
  });
});

Deno.test("LD-DPO with a longer rejected response: the extra tokens count α, per-token shift", () => {
  // n_w = 2, n_l = 4, l_p = 2: ℓ_l(LD) = Σ_{k≤2} + α Σ_{k>2}; spread 0 gives every rejected
  // token u_l/4 over ref -2, so the LD margin is u_w − (1+α)/2·u_l (reference treated alike),
  // and a uniform shift δ of ℓθ(y_l) moves it by −(1+α)/2·δ.
  const beta = 0.5, alpha = 0.25;
  const f = tokenGradientField(dpo({ beta, ldAlpha: alpha }), {
    uW: GRID,
    uL: GRID,
    chosenTokens: 2,
    rejectedTokens: 4,
  });
  const c = (1 + alpha) / 2;
  each((uw, ul, i, j) => {
    const m = uw - c * ul;
    assertClose(f.gW[i][j], -beta * sig(-beta * m), { atol: 1e-5 });
    assertClose(f.gL[i][j], c * beta * sig(-beta * m), { atol: 1e-5 });
  });
});

Deno.test("sgdpo_multiplier, r = 1: k_w = 1 + λ_w σ(−βu_w), k_l = 1 − λ_l σ(−βu_l) times DPO's weights", () => {
  const beta = 0.2, lw = 0.6, ll = 0.3;
  const f = tokenGradientField(
    sgdpoMultiplier({ beta, r1: 1, r2: 1, lambdaChosen: lw, lambdaRejected: ll }),
    { uW: GRID, uL: GRID, spread: 1.5, chosenTokens: 6, rejectedTokens: 3 },
  );
  each((uw, ul, i, j) => {
    const d = beta * sig(-beta * (uw - ul));
    assertClose(f.gW[i][j], -d * (1 + lw * sig(-beta * uw)), { atol: 1e-5 });
    assertClose(f.gL[i][j], d * (1 - ll * sig(-beta * ul)), { atol: 1e-5 });
    assertClose(f.loss[i][j], sp(-beta * (uw - ul)), { atol: 1e-5 });
  });
});

Deno.test("sgdpo_multiplier, r < 1: exact pilot when tokens share u equally; noisy pilot stays in bounds", () => {
  const beta = 0.1, lam = 0.5;
  const spec = { uW: GRID, uL: GRID, chosenTokens: 8 };
  const even = tokenGradientField(sgdpoMultiplier({ beta, r1: 0.25, r2: 0.25 }), spec);
  each((uw, ul, i, j) => {
    const d = beta * sig(-beta * (uw - ul));
    assertClose(even.gW[i][j], -d * (1 + lam * sig(-beta * uw)), { atol: 1e-5 });
  });
  const noisy = (seed: number) =>
    tokenGradientField(sgdpoMultiplier({ beta, r1: 0.25, r2: 0.25 }), {
      ...spec,
      spread: 3,
      samples: 20,
      seed,
    });
  const a = noisy(1), b = noisy(1);
  assert.deepEqual(a.gW, b.gW, "reproducible for a seed");
  let moved = 0;
  each((uw, ul, i, j) => {
    const d = beta * sig(-beta * (uw - ul));
    const kw = a.gW[i][j] / -d, kl = a.gL[i][j] / d;
    assert.ok(kw >= 1 - 1e-6 && kw <= 1 + lam + 1e-6, `k_w ${kw} in [1, 1.5]`);
    assert.ok(kl >= 1 - lam - 1e-6 && kl <= 1 + 1e-6, `k_l ${kl} in [0.5, 1]`);
    moved = Math.max(moved, Math.abs(kw - (1 + lam * sig(-beta * uw))));
  });
  assert.ok(moved > 1e-4, "the random pilot changes the multiplier somewhere");
});

Deno.test("sequence-score objectives and batch-coupled ones; bad specs", () => {
  const beta = 0.1;
  const f = tokenGradientField(kto({ beta, z0: 0 }), { uW: GRID, uL: GRID });
  each((uw, ul, i, j) => {
    // One pair per evaluation (batch-coupled): rows carry (B/N)=1/2 of both terms.
    assertClose(f.gW[i][j], -0.5 * beta * sig(beta * uw) * sig(-beta * uw), { atol: 1e-6 });
    assertClose(f.gL[i][j], 0.5 * beta * sig(-beta * ul) * sig(beta * ul), { atol: 1e-6 });
  });
  assert.throws(
    () => tokenGradientField(dpo(), { uW: { min: 1, max: 0, n: 3 }, uL: GRID }),
    /'uW' must be/,
  );
  assert.throws(() => tokenGradientField(dpo(), { uW: GRID, uL: GRID, spread: -1 }), RangeError);
  const before = tf.memory().numTensors;
  tokenGradientField(sgdpoMultiplier(), { uW: GRID, uL: GRID, spread: 1, samples: 2 });
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
});
