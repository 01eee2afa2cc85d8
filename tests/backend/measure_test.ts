/**
 * measureBackends / timeTrainingStep / the `lab backend --measure` command, on a small model
 * so the whole file runs in seconds.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { initBackend, machineKey, startBackend } from "../../lib/backend.ts";
import {
  CONFORMANCE_CONFIG,
  measureBackends,
  type MeasurementRecord,
  STEP_CONFIG,
  timeTrainingStep,
  tinyGptParams,
} from "../../tools/backend_measure.ts";
import { backendCommand } from "../../tools/commands/backend.ts";

const SMALL = { ...CONFORMANCE_CONFIG, tied: true };

Deno.test("STEP_CONFIG is the documented 0.93M-parameter GPT", () => {
  // By hand: tied embedding 4096*128 + positions 64*128 + 2 layers * (12*128^2 + 13*128)
  // + final norm 2*128 = 524288 + 8192 + 2*(196608 + 1664) + 256 = 929280.
  const n = [...tinyGptParams(STEP_CONFIG).values()].reduce((a, v) => a + v.values.length, 0);
  assert.equal(n, 929280);
});

Deno.test("timeTrainingStep: Adam steps on one batch lower the loss; bad counts rejected", async () => {
  await startBackend("wasm");
  const t = await timeTrainingStep(SMALL, { steps: 4, warmup: 0 });
  assert.equal(t.timesMs.length, 4);
  assert.ok(t.losses[3]! < t.losses[0]!, `losses ${t.losses}`);
  const sorted = [...t.timesMs].sort((a, b) => a - b);
  assert.equal(t.medianMs, (sorted[1]! + sorted[2]!) / 2);
  await assert.rejects(timeTrainingStep(SMALL, { steps: 0 }), RangeError);
  await assert.rejects(timeTrainingStep(SMALL, { warmup: 1.5 }), RangeError);
});

Deno.test("timeTrainingStep leaves no tensors behind", async () => {
  await startBackend("cpu");
  const before = tf.memory().numTensors;
  await timeTrainingStep(SMALL, { steps: 2, warmup: 1 });
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("measureBackends writes a record initBackend's auto mode can use", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/sub/backend.json`;
    const seen: string[] = [];
    const tensors = tf.memory().numTensors;
    const rec = await measureBackends({
      backends: ["cpu", "wasm"],
      config: SMALL,
      steps: 2,
      warmup: 1,
      path,
      onResult: (r) => seen.push(r.name),
    });
    assert.deepEqual(seen, ["cpu", "wasm"]);
    assert.equal(tf.memory().numTensors, tensors, "every model and optimizer is disposed");
    const onDisk = JSON.parse(await Deno.readTextFile(path)) as MeasurementRecord;
    assert.deepEqual(onDisk, JSON.parse(JSON.stringify(rec)));
    assert.equal(rec.machine, await machineKey());
    for (const r of rec.results) {
      assert.equal(r.started, true);
      assert.equal(r.conformance!.ok, true, `${r.name}: ${r.conformance!.maxError}`);
      assert.equal(rec.stepMs[r.name], r.stepMs);
    }
    assert.equal(rec.results[0]!.timesMs!.length, 1, "cpu is timed for one step only");
    assert.equal(rec.results[1]!.timesMs!.length, 2);
    const expected = [...rec.results].sort((a, b) => a.stepMs! - b.stepMs!).map((r) => r.name);
    assert.deepEqual(rec.order, expected);
    const r = await initBackend({ backend: "auto", measurementPath: path });
    assert.equal(r.name, rec.order[0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("measureBackends: a backend failing conformance is left out of the order", async () => {
  // With a zero tolerance only the reference itself (error exactly 0) can pass.
  const rec = await measureBackends({
    backends: ["cpu", "wasm"],
    config: SMALL,
    steps: 1,
    warmup: 0,
    tolerance: 0,
    path: false,
  });
  const wasm = rec.results[1]!;
  assert.ok(wasm.conformance!.maxError > 0, "wasm rounds differently from cpu");
  assert.equal(wasm.conformance!.ok, false);
  assert.deepEqual(rec.order, ["cpu"]);
  await assert.rejects(
    measureBackends({ backends: ["gpu" as "cpu"], path: false }),
    /measureBackends option 'backends': unknown backend 'gpu'/,
  );
});

Deno.test("lab backend --measure prints a table and rejects bad flags", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  const log = console.log, err = console.error;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = () => {};
  try {
    const path = `${dir}/m.json`;
    const code = await backendCommand([
      "--measure",
      "--backends",
      "wasm",
      "--steps",
      "1",
      "--warmup",
      "0",
      "--out",
      path,
    ]);
    assert.equal(code, 0);
    const text = lines.join("\n");
    assert.match(text, /0\.93M-param GPT \(vocab 4096, d 128, 2 layers, 4 heads\), batch 8 x 64/);
    assert.match(text, /\nwasm +\d+ +\d+ +pass \d\.\de-\d+ \(tol 1\.0e-4\)/);
    assert.match(text, new RegExp(`order: wasm; written to ${path}`));
    const rec = JSON.parse(await Deno.readTextFile(path)) as MeasurementRecord;
    assert.deepEqual(rec.order, ["wasm"]);
    await assert.rejects(backendCommand(["--measure", "--backends", "tpu"]), RangeError);
    await assert.rejects(backendCommand(["--measure", "--steps", "-1"]), RangeError);
    await assert.rejects(backendCommand(["--measure", "--out"]), TypeError);
  } finally {
    console.log = log;
    console.error = err;
    await Deno.remove(dir, { recursive: true });
  }
});
