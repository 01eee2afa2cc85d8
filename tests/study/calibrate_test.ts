import assert from "node:assert/strict";
import { calibrateScale } from "../../lib/study/calibrate.ts";

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("calibrateScale finds the hand-computed root from below and from above", async () => {
  // 3(1 − e^(−x)) = 2  ⇔  x = ln 3
  const f = (x: number) => 3 * (1 - Math.exp(-x));
  for (const start of [1e-3, 0.5, 40]) {
    const c = await calibrateScale(f, { target: 2, start, tol: 1e-4, min: 1e-6, max: 1e3 });
    assert.ok(c.reached, `start ${start}: not reached`);
    near(c.value, 2, 1e-4, `value from start ${start}`);
    near(c.scale, Math.log(3), 1e-3, `scale from start ${start}`);
    assert.ok(c.history.length <= 12, `start ${start}: ${c.history.length} evaluations`);
  }
});

Deno.test("calibrateScale on a margin that is linear in the scale: k·x = T at x = T/k", async () => {
  // Learning rates spanning five decades: the bracketing reaches each from the same start.
  for (const k of [0.0125, 1, 612]) {
    const c = await calibrateScale((x) => k * x, { target: 3, start: 0.03, tol: 1e-3 });
    assert.ok(c.reached, `k ${k}`);
    near(c.scale, 3 / k, 1e-3 * (3 / k), `k ${k}`);
  }
});

Deno.test("calibrateScale treats a non-finite outcome as past the target", async () => {
  // Diverges (NaN) above x = 5; the target 4 is reached at x = 4.
  const f = (x: number) => (x < 5 ? x : NaN);
  const c = await calibrateScale(f, { target: 4, start: 1, tol: 1e-3, factor: 8 });
  assert.ok(c.reached);
  near(c.scale, 4, 1e-3, "scale");
  assert.ok(c.history.some((h) => Number.isNaN(h.value)), "the divergent point was tried");
});

Deno.test("calibrateScale reports an unreachable target with its closest evaluation", async () => {
  // 1 − e^(−x) < 1 never reaches 2: the best is the largest scale tried.
  const c = await calibrateScale((x) => 1 - Math.exp(-x), {
    target: 2,
    start: 1,
    tol: 1e-3,
    max: 64,
  });
  assert.equal(c.reached, false);
  assert.equal(c.scale, 64);
  near(c.value, 1 - Math.exp(-64), 1e-12, "value");
  // A target below everything the outcome reaches on [min, start]
  const d = await calibrateScale((x) => 1 + x, { target: 0.5, start: 1, tol: 1e-3 });
  assert.equal(d.reached, false);
  assert.equal(d.scale, 1e-4);
});

Deno.test("calibrateScale stops after maxEvals and rejects bad options", async () => {
  let calls = 0;
  const c = await calibrateScale((x) => {
    calls++;
    return Math.cbrt(x - 1);
  }, { target: 0, start: 1e-3, tol: 1e-12, maxEvals: 5, max: 1e6 });
  assert.equal(calls, 5);
  assert.equal(c.history.length, 5);
  await assert.rejects(() => calibrateScale((x) => x, { target: 1, start: 0, tol: 1 }), /start/);
  await assert.rejects(() => calibrateScale((x) => x, { target: 1, start: 1, tol: -1 }), /tol/);
  await assert.rejects(
    () => calibrateScale((x) => x, { target: 1, start: 1, tol: 1, factor: 1 }),
    /factor/,
  );
  await assert.rejects(
    () => calibrateScale((x) => x, { target: NaN, start: 1, tol: 1 }),
    /target/,
  );
});
