import assert from "node:assert/strict";
import { useCpu } from "../helpers.ts";
import { train } from "../../lib/train/trainer.ts";
import { toyData } from "../../lib/train/train_data.ts";
import {
  type CollectedRecord,
  formatProgress,
  formatSeconds,
  progressCallback,
  recordsCallback,
} from "../../lib/train/progress.ts";
import { dpoObjective, PAIRS, toyModel } from "./toy_setup.ts";

await useCpu();

const run = async (callbacks: Parameters<typeof train>[0]["callbacks"], steps = 4) => {
  const policy = toyModel(9);
  await train({
    policy,
    data: toyData(PAIRS),
    objective: dpoObjective(0.1),
    optimizer: { name: "sgd" },
    lr: 0.1,
    batchSize: 2,
    maxSteps: steps,
    progress: false,
    callbacks,
  });
  policy.dispose();
};

Deno.test("progress: text format with bar, loss, margin and ETA", () => {
  assert.equal(formatSeconds(59), "59s");
  assert.equal(formatSeconds(185), "3m05s");
  assert.equal(formatSeconds(3720), "1h02m");
  assert.equal(
    formatProgress({ step: 5, totalSteps: 10, loss: 0.5, margin: 0.25, elapsed: 10, eta: 10 }, {
      width: 10,
    }),
    "[#####.....] 5/10 loss 0.5000 margin 0.2500 10s<10s",
  );
});

Deno.test("progress: lines mode writes one line per interval and a final line", async () => {
  const out: string[] = [];
  await run([progressCallback({ mode: "lines", lineIntervalMs: 0, write: (s) => out.push(s) })]);
  assert.equal(out.length, 5); // 4 steps + the end
  assert.match(out[0], /^\[.*\] 1\/4 loss 0\.\d{4} margin /);
  assert.match(out[4], /4\/4 .*<0s\n$/);
  // A long interval: only the first step and the end.
  const few: string[] = [];
  await run([progressCallback({ mode: "lines", lineIntervalMs: 1e9, write: (s) => few.push(s) })]);
  assert.equal(few.length, 2);
});

Deno.test("progress: tty mode rewrites one line with \\r and ends it", async () => {
  const out: string[] = [];
  await run([progressCallback({ mode: "tty", minIntervalMs: 0, write: (s) => out.push(s) })], 3);
  assert.ok(out.every((s) => s.startsWith("\r")));
  assert.ok(out.slice(0, -1).every((s) => !s.endsWith("\n")));
  assert.ok(out.at(-1)!.endsWith("\n"));
});

Deno.test("progress: Jupyter mode displays once, then updates the same display_id in place", async () => {
  const calls: { bundle: Record<string, string>; opts: Record<string, unknown> }[] = [];
  await run([
    progressCallback({
      mode: "jupyter",
      minIntervalMs: 0,
      display: (bundle, opts) => void calls.push({ bundle, opts }),
    }),
  ]);
  assert.equal(calls.length, 5);
  assert.equal(calls[0].opts.update, false);
  assert.ok(calls.slice(1).every((c) => c.opts.update === true));
  assert.equal(new Set(calls.map((c) => c.opts.display_id)).size, 1);
  assert.ok(calls.every((c) => c.opts.raw === true));
  assert.match(calls[4].bundle["text/html"], /<progress value="100\.0"/);
  assert.match(calls[4].bundle["text/plain"], /4\/4/);
});

Deno.test("recordsCallback: hands the records so far every N steps and at the end", async () => {
  const seen: number[][] = [];
  await run([
    recordsCallback((r: readonly CollectedRecord[]) => void seen.push(r.map((x) => x.step)), {
      every: 3,
    }),
  ], 4);
  assert.deepEqual(seen, [[1, 2, 3], [1, 2, 3, 4]]);
});
