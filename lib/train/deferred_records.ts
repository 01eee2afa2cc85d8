/**
 * Step records waiting for deferred callback metrics ({@link deferMetrics}): kept in step order
 * and written, each with its callbacks' late metrics merged, once every earlier record is
 * written and its own metrics have settled.
 *
 * @module
 */
import { type DeferredMetrics, mergeMetrics, settleDeferred } from "./callbacks.ts";
import type { RunStepRecord } from "./records.ts";
import type { DeferredPart, RunState } from "./train_state.ts";

/** A callback's metrics that come later, by the callback's name. */
export interface LateMetrics {
  name: string;
  deferred: DeferredMetrics;
}

/** Write a finished record (to `steps.jsonl` and the run's records). */
function write<B>(s: RunState<B>, rec: RunStepRecord): void {
  s.writer?.appendStep(rec);
  s.records.push(rec);
}

/**
 * Queue `rec` behind the records already waiting, or write it now when nothing waits and no
 * callback deferred its metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deferMetrics } from "./callbacks.ts";
 * import { flushRecords, queueRecord } from "./deferred_records.ts";
 * const s = { records: [], pending: [] } as never as Parameters<typeof queueRecord>[0];
 * queueRecord(s, { step: 1, epoch: 0 }, [{ name: "late", deferred: deferMetrics(Promise.resolve({ "late/x": 2 })) }]);
 * queueRecord(s, { step: 2, epoch: 0 }, []);
 * assert.equal(s.records.length, 0); // step 2 waits behind step 1
 * await flushRecords(s);
 * assert.deepEqual(s.records.map((r) => [r.step, r["late/x"]]), [[1, 2], [2, undefined]]);
 * ```
 */
export function queueRecord<B>(
  s: RunState<B>,
  rec: RunStepRecord,
  deferred: LateMetrics[],
): void {
  if (deferred.length === 0 && s.pending.length === 0) return write(s, rec);
  const parts = deferred.map(({ name, deferred: d }) => {
    const part: DeferredPart = { name, settled: false, metrics: settleDeferred(d) };
    part.metrics.then(() => part.settled = true, () => part.settled = true);
    return part;
  });
  s.pending.push({ rec, parts });
}

/** Merge the settled metrics of the first waiting record and write it. */
async function writeHead<B>(s: RunState<B>): Promise<void> {
  const head = s.pending[0]!;
  for (const p of head.parts) mergeMetrics(head.rec, await p.metrics, p.name);
  s.pending.shift();
  write(s, head.rec);
}

/**
 * Write the waiting records whose metrics have settled, in order, stopping at the first that
 * still waits; with `all`, wait for every one. A callback's rejected metrics are thrown here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flushRecords } from "./deferred_records.ts";
 * const s = { records: [], pending: [] } as never as Parameters<typeof flushRecords>[0];
 * await flushRecords(s); // nothing waits
 * assert.equal(s.records.length, 0);
 * ```
 */
export async function flushRecords<B>(s: RunState<B>, all = true): Promise<void> {
  while (s.pending.length > 0) {
    if (!all && !s.pending[0]!.parts.every((p) => p.settled)) return;
    await writeHead(s);
  }
}
