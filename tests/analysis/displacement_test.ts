import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import { displacement, labelDisplacement } from "../../lib/analysis/displacement.ts";

Deno.test("displacement: per-pair Definition 1 and means, by hand", () => {
  const initial = [-2.0, -5.0, -1.0, -3.0];
  const final = [-2.5, -4.0, -1.0, -3.25];
  const d = displacement(initial, final);
  assert.deepEqual(d.pairs.map((p) => p.displaced), [true, false, false, true]);
  assertClose(d.pairs.map((p) => p.change), [-0.5, 1.0, 0, -0.25], { atol: 1e-15 });
  assert.equal(d.fractionDisplaced, 0.5);
  assertClose(d.meanInitial, -11 / 4, { rtol: 1e-15 });
  assertClose(d.meanFinal, -10.75 / 4, { rtol: 1e-15 });
  // Mean rose by 0.25/4: no displacement on average even though half the pairs were displaced.
  assertClose(d.meanChange, 0.0625, { rtol: 1e-12 });
  assert.equal(d.displaced, false);
});

Deno.test("displacement requires a loss decrease when losses are given", () => {
  const d = displacement([-1], [-2], { loss: { initial: 0.5, final: 0.7 } });
  assert.equal(d.lossDecreased, false);
  assert.equal(d.displaced, false);
  const e = displacement([-1], [-2], { loss: { initial: 0.7, final: 0.5 } });
  assert.equal(e.displaced, true);
  assert.throws(() => displacement([-1, -2], [-1]), RangeError);
  assert.throws(() => displacement([NaN], [-1]), RangeError);
});

Deno.test("labelDisplacement: benign when the good set took most of the lost mass", () => {
  const chosen = { initial: Math.log(0.6), final: Math.log(0.2) }; // lost 0.4
  const benign = labelDisplacement(chosen, {
    good: [{ initial: Math.log(0.1), final: Math.log(0.25) }, {
      initial: Math.log(0.05),
      final: Math.log(0.15),
    }],
  }); // gained 0.15 + 0.10 = 0.25 -> share 0.625
  assert.equal(benign.kind, "benign");
  assertClose(benign.lostMass, 0.4, { rtol: 1e-12 });
  assertClose(benign.goodGain, 0.25, { rtol: 1e-12 });
  assertClose(benign.goodShare, 0.625, { rtol: 1e-12 });
  const bad = labelDisplacement(chosen, {
    good: [{ initial: Math.log(0.1), final: Math.log(0.15) }],
  }); // share 0.125
  assert.equal(bad.kind, "catastrophic");
  assertClose(bad.goodShare, 0.125, { rtol: 1e-12 });
  assert.equal(
    labelDisplacement(chosen, { good: [{ initial: -3, final: -2 }], benignShare: 0.99 }).kind,
    "catastrophic",
  );
  assert.equal(labelDisplacement({ initial: -1, final: -0.5 }, { good: [] }).kind, "none");
});

Deno.test("labelDisplacement keeps its share when every probability underflows", () => {
  // Sequence log-probs near -2000: exp underflows, the ratio must not.
  const base = -2000;
  const chosen = { initial: base + Math.log(0.6), final: base + Math.log(0.2) };
  const good = [{ initial: base + Math.log(0.1), final: base + Math.log(0.4) }];
  const l = labelDisplacement(chosen, { good });
  assertClose(l.goodShare, 0.3 / 0.4, { rtol: 1e-9 });
  assert.equal(l.kind, "benign");
  assert.throws(() => labelDisplacement({ initial: 0.5, final: -1 }, { good }), RangeError);
});
