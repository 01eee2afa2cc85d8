import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import { learningRate, validateSchedule, warmupSteps } from "../../lib/train/schedule.ts";

Deno.test("schedule: constant, linear and cosine with warm-up, values by hand", () => {
  const lr = 2e-3, T = 10;
  const at = (kind: "constant" | "linear" | "cosine", s: number, extra = {}) =>
    learningRate(s, T, { lr, schedule: { kind, warmupSteps: 4, ...extra } });
  // Warm-up: s/4 of lr, starting at 0 as Hugging Face does.
  for (const kind of ["constant", "linear", "cosine"] as const) {
    assertClose([0, 1, 2, 3].map((s) => at(kind, s)), [0, 0.25 * lr, 0.5 * lr, 0.75 * lr]);
  }
  assertClose(at("constant", 9), lr);
  // Linear after warm-up: (T - s) / (T - w) = (10 - 7) / 6 = 0.5.
  assertClose(at("linear", 7), 0.5 * lr);
  assertClose(at("linear", 4), lr);
  // Cosine: progress (7 - 4) / 6 = 0.5 -> 0.5 * (1 + cos(pi/2)) = 0.5; progress 1/6 -> 0.9330...
  assertClose(at("cosine", 7), 0.5 * lr);
  assertClose(at("cosine", 5), lr * 0.5 * (1 + Math.cos(Math.PI / 6)));
  // A floor maps the decay onto [min, 1]: 0.1 + 0.9 * 0.5.
  assertClose(at("cosine", 7, { minLrRatio: 0.1 }), 0.55 * lr);
  assert.equal(learningRate(3, 10, { lr }), lr);
});

Deno.test("schedule: warmupRatio rounds up; bad fields are named", () => {
  assert.equal(warmupSteps(95, { warmupRatio: 0.1 }), 10);
  assert.equal(warmupSteps(95, { warmupRatio: 0.1, warmupSteps: 3 }), 3);
  assert.throws(() => validateSchedule({ kind: "step" as "linear" }), /schedule\.kind/);
  assert.throws(() => validateSchedule({ warmupSteps: -1 }), /schedule\.warmupSteps/);
  assert.throws(
    () => validateSchedule({ warmup: 3 } as unknown as { warmupSteps: number }),
    /schedule\.warmup is not/,
  );
});
