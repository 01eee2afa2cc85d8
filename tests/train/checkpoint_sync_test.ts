/**
 * Issue 12: a checkpoint is durable, not only complete: its files and its folder are fsynced
 * before the rename, and `checkpoints/` after it (a rename lives in the parent folder's entries).
 */
import assert from "node:assert/strict";
import { saveCheckpoint } from "../../lib/train/checkpoint.ts";

Deno.test("saveCheckpoint: fsyncs the new folder before its rename and checkpoints/ after it", async () => {
  const dir = await Deno.makeTempDir();
  const events: string[] = [];
  const open = Deno.open;
  const rename = Deno.rename;
  // Record every fsync with the path it was opened at, and every rename.
  Object.assign(Deno, {
    open: async (path: string | URL, opts?: Deno.OpenOptions) => {
      const f = await open(path, opts);
      const sync = f.sync.bind(f);
      f.sync = async () => {
        events.push(`sync ${String(path).replace(dir, "")}`);
        await sync();
      };
      return f;
    },
    rename: async (a: string | URL, b: string | URL) => {
      events.push(`rename ${String(a).replace(dir, "")} -> ${String(b).replace(dir, "")}`);
      await rename(a, b);
    },
  });
  try {
    await saveCheckpoint(dir, {
      state: {
        format: "dpo-lab-trainer-checkpoint/1",
        step: 3,
        position: { epoch: 0, window: 3 },
        seed: 0,
        optimizer: { spec: { name: "sgd" }, steps: 3 },
        callbacks: {},
        elapsedSeconds: 0,
        settings: {},
      },
      weights: new Map([["w", { shape: [1], values: new Float32Array([1]) }]]),
      optimizer: { spec: { name: "sgd" }, steps: 3, slots: new Map() },
    } as never);
  } finally {
    Object.assign(Deno, { open, rename });
  }
  const i = events.findIndex((e) => e.startsWith("rename"));
  assert.ok(i > 0, events.join("\n"));
  const tmp = events[i].match(/^rename (\S+) -> /)![1];
  assert.equal(events[i], `rename ${tmp} -> /checkpoints/step-000003`);
  for (const f of ["weights.safetensors", "optimizer.safetensors", "state.json"]) {
    assert.ok(events.slice(0, i).includes(`sync ${tmp}/${f}`), `${f} synced before the rename`);
  }
  assert.ok(events.slice(0, i).includes(`sync ${tmp}`), "the new folder synced before the rename");
  assert.ok(events.slice(i + 1).includes("sync /checkpoints"), events.join("\n"));
});
