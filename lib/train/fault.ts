/**
 * Fault injection for tests: with `DPO_LAB_KILL_AT=<point>:<n>` in the environment, the process
 * kills itself with SIGKILL the n-th time it reaches the named point (`step`: after an optimizer
 * update, before the step's record is written; `checkpoint`: halfway through writing a
 * checkpoint). This lets a test cut a run at exact, chosen places, as a crash or `kill -9` would.
 * Without the variable (or without permission to read it) every point is a no-op.
 *
 * @module
 */
import type { TrainCallback } from "./callbacks.ts";

let plan: { point: string; n: number } | null | undefined;
const hits = new Map<string, number>();

function readPlan(): { point: string; n: number } | null {
  let raw: string | undefined;
  try {
    raw = Deno.env.get("DPO_LAB_KILL_AT");
  } catch {
    return null; // no --allow-env: never injected
  }
  const m = raw ? /^([a-z]+):(\d+)$/.exec(raw) : null;
  return m ? { point: m[1], n: Number(m[2]) } : null;
}

/**
 * A place where a test may cut the process (see the module docs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { faultPoint } from "./fault.ts";
 * assert.equal(faultPoint("step"), undefined); // DPO_LAB_KILL_AT unset: nothing happens
 * ```
 */
export function faultPoint(point: string): void {
  if (plan === undefined) plan = readPlan();
  if (!plan || plan.point !== point) return;
  const n = (hits.get(point) ?? 0) + 1;
  hits.set(point, n);
  if (n === plan.n) Deno.kill(Deno.pid, "SIGKILL");
}

/**
 * A tracker that calls `faultPoint("step")` at the end of each step (after the update, before
 * the record), when `DPO_LAB_KILL_AT` asks for it; otherwise none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { faultCallbacks } from "./fault.ts";
 * assert.deepEqual(faultCallbacks(), []); // DPO_LAB_KILL_AT unset
 * ```
 */
export function faultCallbacks<B>(): TrainCallback<B>[] {
  if (plan === undefined) plan = readPlan();
  if (!plan || plan.point !== "step") return [];
  return [{ name: "fault_injection", onStepEnd: () => faultPoint("step") }];
}
