/**
 * initBackend: forcing each backend by option and by the DPO_LAB_BACKEND variable, rejecting
 * bad names, the report's fields, and auto mode's use of a recorded measurement.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import {
  BACKEND_ENV,
  type BackendName,
  backendReport,
  describeWebGpuAdapter,
  formatBackendReport,
  initBackend,
  machineKey,
  startBackend,
} from "../../lib/backend.ts";

const adapter = await describeWebGpuAdapter();
const softwareOnly = adapter === undefined || adapter.endsWith("[software]");
// Auto mode always tries libtensorflow first; the auto-mode test assumes it is absent (it is
// never installed by this project).
const hasTensorflow = await startBackend("tensorflow").then(() => true, () => false);

/** Run `f` with DPO_LAB_BACKEND set to `value` (or unset), restoring it afterwards. */
async function withEnv<T>(value: string | undefined, f: () => Promise<T>): Promise<T> {
  const saved = Deno.env.get(BACKEND_ENV);
  if (value === undefined) Deno.env.delete(BACKEND_ENV);
  else Deno.env.set(BACKEND_ENV, value);
  try {
    return await f();
  } finally {
    if (saved === undefined) Deno.env.delete(BACKEND_ENV);
    else Deno.env.set(BACKEND_ENV, saved);
  }
}

/** 2x2 matmul by hand: [[1,2],[3,4]] . [[5,6],[7,8]] = [[19,22],[43,50]]. */
async function computesRight(): Promise<void> {
  const y = tf.tidy(() =>
    tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]))
  );
  assert.deepEqual(Array.from(await y.data()), [19, 22, 43, 50]);
  y.dispose();
}

for (const name of ["cpu", "wasm", "webgpu"] as const) {
  Deno.test({
    name: `initBackend({ backend: '${name}' }) starts ${name} and reports it`,
    ignore: name === "webgpu" && adapter === undefined,
    fn: async () => {
      const r = await withEnv(undefined, () => initBackend({ backend: name }));
      assert.equal(tf.getBackend(), name);
      await computesRight();
      assert.equal(r.name, name);
      assert.equal(r.requested, name);
      assert.equal(r.source, "option");
      assert.match(r.reason, /forced by option/);
      assert.deepEqual(r.tried, [{ name, ok: true }]);
      assert.equal(backendReport(), r);
      if (name === "webgpu") {
        assert.equal(r.softwareFallback, /llvmpipe|lavapipe|swiftshader/i.test(adapter!));
        assert.equal(r.hardware, !r.softwareFallback);
      } else {
        assert.equal(r.hardware, false);
        assert.equal(r.softwareFallback, false);
        assert.match(r.adapter, name === "wasm" ? /XNNPACK/ : /pure-JS/);
      }
    },
  });
}

Deno.test("initBackend: a backend that cannot start is an error naming it", async () => {
  // libtensorflow is never installed by this project (see README); skip where a user added it.
  let r: unknown;
  try {
    r = await withEnv(undefined, () => initBackend({ backend: "tensorflow" }));
  } catch (e) {
    assert.match(String(e), /backend 'tensorflow' \(forced by option\) could not start/);
    return;
  }
  assert.equal((r as { name: string }).name, "tensorflow");
});

Deno.test("DPO_LAB_BACKEND forces a backend; the option wins over it", async () => {
  const r = await withEnv(" WASM ", () => initBackend());
  assert.equal(r.name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(r.source, "env");
  assert.match(r.reason, new RegExp(BACKEND_ENV));
  const o = await withEnv("wasm", () => initBackend({ backend: "cpu" }));
  assert.equal(o.name, "cpu");
  assert.equal(o.source, "option");
});

Deno.test("bad backend names throw RangeError naming the option or the variable", async () => {
  await assert.rejects(
    initBackend({ backend: "tpu" as BackendName }),
    (e: unknown) =>
      e instanceof RangeError && /initBackend option 'backend'/.test(e.message) &&
      /'tpu'/.test(e.message),
  );
  await withEnv("gpu0", () =>
    assert.rejects(
      initBackend(),
      (e: unknown) =>
        e instanceof RangeError && e.message.includes(BACKEND_ENV) && /'gpu0'/.test(e.message),
    ));
});

Deno.test("the report names the stack and host", async () => {
  const r = await withEnv(undefined, () => initBackend({ backend: "cpu" }));
  const pinned = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)))
    .imports["@tensorflow/tfjs-core"] as string;
  assert.equal(`npm:@tensorflow/tfjs-core@${r.versions.tfjs}`, pinned);
  assert.equal(r.versions.deno, Deno.version.deno);
  assert.equal(r.versions.v8, Deno.version.v8);
  assert.ok(r.host.startsWith(`${Deno.build.os} ${Deno.build.arch}`), r.host);
  assert.ok(r.host.endsWith(`${navigator.hardwareConcurrency} cores`), r.host);
  const line = formatBackendReport(r);
  assert.ok(line.includes("cpu on CPU (tfjs pure-JS kernels) (CPU)"), line);
});

Deno.test({
  name: "auto mode without a hardware GPU follows this machine's recorded measurement",
  ignore: !softwareOnly || hasTensorflow,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/backend.json`;
      const rec = {
        machine: await machineKey(),
        order: ["wasm", "cpu"],
        stepMs: { wasm: 1, cpu: 2 },
        measuredAt: "2026-01-01T00:00:00.000Z",
      };
      await Deno.writeTextFile(path, JSON.stringify(rec));
      const r = await initBackend({ backend: "auto", measurementPath: path });
      assert.equal(r.name, "wasm");
      assert.equal(r.source, "option");
      assert.match(r.reason, /measured on this machine at 2026-01-01/);
      // libtensorflow is always tried first; absent here, it fails before wasm starts.
      assert.equal(r.tried[0]!.name, "tensorflow");
      assert.deepEqual(r.tried.at(-1), { name: "wasm", ok: true });

      // A record naming only backends that cannot start still ends on cpu.
      await Deno.writeTextFile(path, JSON.stringify({ ...rec, order: ["tensorflow"] }));
      const c = await initBackend({ backend: "auto", measurementPath: path });
      assert.equal(c.name, "cpu");
      assert.deepEqual(c.tried.map((t) => t.name), ["tensorflow", "cpu"]);

      // A record from another machine is ignored: the default order applies.
      await Deno.writeTextFile(path, JSON.stringify({ ...rec, machine: "elsewhere" }));
      const d = await initBackend({ backend: "auto", measurementPath: path });
      assert.match(d.reason, /default order/);
      assert.notEqual(d.name, "tensorflow");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
