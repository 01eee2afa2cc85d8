/**
 * lib/kernels/blas.ts: the OpenBLAS `BatchMatMul` of `wasm` against the `cpu` backend on random
 * shapes (batched, transposed, broadcast batch), the core-type rule, the start-up check, and the
 * fallback to XNNPACK when the library is missing or turned off.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { startBackend } from "../../lib/backend.ts";
import {
  BLAS_CHECK_TOLERANCE,
  BLAS_ENV,
  broadcastBatchIndex,
  checkSgemm,
  coreTypeForFlags,
  loadOpenBlas,
  type Sgemm,
} from "../../lib/kernels/blas.ts";
import { assertClose } from "../helpers.ts";

const wasm = await startBackend("wasm");
await startBackend("cpu");
const active = wasm.blas?.active === true;

Deno.test("coreTypeForFlags: AVX-512 -> SkylakeX, AVX2+FMA -> Haswell, AVX -> Sandybridge", () => {
  const avx512 = ["avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"];
  assert.equal(coreTypeForFlags(new Set(avx512)), "SkylakeX");
  // AVX-512F alone (Knights Landing has no BW/VL) is not SkylakeX.
  assert.equal(coreTypeForFlags(new Set(["avx", "avx2", "fma", "avx512f"])), "Haswell");
  assert.equal(coreTypeForFlags(new Set(["avx", "avx2"])), "Sandybridge", "AVX2 without FMA");
  assert.equal(coreTypeForFlags(new Set(["sse4_2"])), undefined);
});

Deno.test("broadcastBatchIndex: numpy broadcasting of batch dimensions, by hand", () => {
  assert.deepEqual(broadcastBatchIndex([2, 3], [2, 3]), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(broadcastBatchIndex([2, 3], []), [0, 0, 0, 0, 0, 0]);
  // [3] aligned right against [2, 3]: the row index is ignored.
  assert.deepEqual(broadcastBatchIndex([2, 3], [3]), [0, 1, 2, 0, 1, 2]);
  // [2, 1] against [2, 3]: the column index is ignored.
  assert.deepEqual(broadcastBatchIndex([2, 3], [2, 1]), [0, 0, 0, 1, 1, 1]);
});

Deno.test("checkSgemm rejects a wrong product and a product that ignores a transpose", () => {
  assert.ok(checkSgemm(() => {}) > BLAS_CHECK_TOLERANCE, "writes nothing");
  const { sgemm } = loadOpenBlas();
  if (!sgemm) return; // no library here: the fallback tests below cover this machine
  assert.ok(checkSgemm(sgemm) <= BLAS_CHECK_TOLERANCE);
  // Right everywhere but one element, off by 1e-3 of the product's scale.
  const oneOff: Sgemm = (tA, tB, m, n, k, a, lda, b, ldb, c, ldc) => {
    sgemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc);
    const ptr = Deno.UnsafePointer.create(BigInt(c))!;
    new Float32Array(Deno.UnsafePointerView.getArrayBuffer(ptr, 4))[0]! += 1e-3 * Math.sqrt(k);
  };
  assert.ok(checkSgemm(oneOff) > BLAS_CHECK_TOLERANCE);
});

Deno.test("loadOpenBlas: a missing library or 'off' falls back to XNNPACK and says why", () => {
  const missing = loadOpenBlas({ path: "/nonexistent/libopenblas.so.0" });
  assert.equal(missing.sgemm, undefined);
  assert.equal(missing.info.active, false);
  assert.match(missing.info.summary, /^XNNPACK \(cannot load .*\/nonexistent\/libopenblas\.so\.0/);
  const off = loadOpenBlas({ path: "off" });
  assert.equal(off.info.active, false);
  assert.match(off.info.summary, /turned off/);
});

/** Seeded values in (-1, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

async function productOn(
  backend: "wasm" | "cpu",
  a: { shape: number[]; v: Float32Array },
  b: { shape: number[]; v: Float32Array },
  tA: boolean,
  tB: boolean,
): Promise<{ shape: number[]; v: Float32Array }> {
  await tf.setBackend(backend);
  const y = tf.tidy(() => tf.matMul(tf.tensor(a.v, a.shape), tf.tensor(b.v, b.shape), tA, tB));
  const v = await y.data() as Float32Array;
  const shape = y.shape;
  y.dispose();
  return { shape, v };
}

Deno.test({
  name: "OpenBLAS BatchMatMul on wasm equals cpu on random batched/transposed/broadcast shapes",
  ignore: !active,
  fn: async () => {
    assert.equal(tf.getKernel("BatchMatMul", "wasm")?.kernelName, "BatchMatMul");
    // [outerA, outerB, m, k, n]: plain, the model's shapes, broadcast of either side, rank 4.
    const cases: [number[], number[], number, number, number][] = [
      [[], [], 33, 17, 45],
      [[], [], 1, 64, 1],
      [[8], [8], 128, 32, 128],
      [[8], [], 16, 24, 9],
      [[], [5], 7, 3, 11],
      [[2, 3], [3], 5, 7, 4],
      [[2, 3], [2, 3], 6, 1, 5],
      [[4], [1], 0, 5, 3],
      [[3], [3], 4, 0, 6],
    ];
    let seed = 1;
    for (const [oa, ob, m, k, n] of cases) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const sa = [...oa, ...(tA ? [k, m] : [m, k])], sb = [...ob, ...(tB ? [n, k] : [k, n])];
          const a = { shape: sa, v: rand(tf.util.sizeFromShape(sa), seed++) };
          const b = { shape: sb, v: rand(tf.util.sizeFromShape(sb), seed++) };
          const got = await productOn("wasm", a, b, tA, tB);
          const ref = await productOn("cpu", a, b, tA, tB);
          const msg = `[${sa}]${tA ? "^T" : ""} x [${sb}]${tB ? "^T" : ""}`;
          assert.deepEqual(got.shape, ref.shape, msg);
          assertClose(got.v, ref.v, { rtol: 1e-5, atol: 1e-5, msg });
        }
      }
    }
  },
});

Deno.test({
  name: "OpenBLAS BatchMatMul: gradients of a product on wasm equal cpu's",
  ignore: !active,
  fn: async () => {
    const a = rand(3 * 20 * 12, 7), b = rand(3 * 12 * 9, 8);
    const grads = async (backend: "wasm" | "cpu") => {
      await tf.setBackend(backend);
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y)));
      const [ga, gb] = tf.grads(f)([tf.tensor(a, [3, 20, 12]), tf.tensor(b, [3, 12, 9])]);
      const out = [await ga!.data(), await gb!.data()];
      tf.dispose([ga!, gb!]);
      return out;
    };
    const [wa, wb] = await grads("wasm");
    const [ca, cb] = await grads("cpu");
    assertClose(wa!, ca!, { rtol: 1e-4, atol: 1e-4, msg: "dA" });
    assertClose(wb!, cb!, { rtol: 1e-4, atol: 1e-4, msg: "dB" });
  },
});

Deno.test({
  name:
    "OpenBLAS BatchMatMul: numpy broadcast of batch dims ([2,1] x [3]) equals a float64 product",
  ignore: !active,
  fn: async () => {
    // tfjs's cpu kernel handles only equal batches or a batch of one, so the reference is by hand.
    const [m, k, n] = [5, 7, 4];
    const a = rand(2 * m * k, 11), b = rand(3 * k * n, 12);
    await tf.setBackend("wasm");
    const y = tf.tidy(() => tf.matMul(tf.tensor(a, [2, 1, m, k]), tf.tensor(b, [3, k, n])));
    assert.deepEqual(y.shape, [2, 3, m, n]);
    const got = await y.data();
    y.dispose();
    const want: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        for (let r = 0; r < m; r++) {
          for (let c = 0; c < n; c++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += a[(i * m + r) * k + p]! * b[(j * k + p) * n + c]!;
            want.push(s);
          }
        }
      }
    }
    assertClose(got, want, { rtol: 1e-5, atol: 1e-6 });
  },
});

Deno.test("loadOpenBlas without env or FFI permission falls back instead of throwing", async () => {
  const mod = new URL("../../lib/kernels/blas.ts", import.meta.url).href;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    file,
    `import { loadOpenBlas } from "${mod}"; console.log(loadOpenBlas().info.summary);`,
  );
  // `deno eval` would grant every permission; `run` with read access only does not.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      file,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(file));
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /^XNNPACK \(OpenBLAS not loaded: .*env/);
});

async function backendReportWith(env: Record<string, string>): Promise<Record<string, unknown>> {
  const cli = new URL("../../tools/cli.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "backend", "--backend", "wasm"],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("lab backend: without the library, the report says XNNPACK runs the products and why", async () => {
  const r = await backendReportWith({ [BLAS_ENV]: "/nonexistent/libopenblas.so.0" });
  const blas = r.blas as { active: boolean; summary: string };
  assert.equal(blas.active, false);
  assert.match(blas.summary, /XNNPACK \(cannot load/);
  assert.match(r.adapter as string, /matrix products: XNNPACK/);
});

Deno.test("lab backend: a bad DPO_LAB_BLAS_THREADS keeps XNNPACK and names the variable", async () => {
  const r = await backendReportWith({ DPO_LAB_BLAS_THREADS: "two" });
  const blas = r.blas as { active: boolean; summary: string };
  assert.equal(blas.active, false);
  assert.match(blas.summary, /DPO_LAB_BLAS_THREADS: expected a positive integer, got 'two'/);
});

Deno.test({
  name: "lab backend: with the library, the report names it, its version, core and threads",
  ignore: !active,
  fn: async () => {
    const r = await backendReportWith({});
    const blas = r.blas as Record<string, unknown>;
    assert.equal(blas.active, true);
    assert.match(blas.library as string, /openblas/i);
    assert.match(blas.version as string, /^\d+\.\d+\.\d+/);
    // One thread unless DPO_LAB_BLAS_THREADS says otherwise (see blasThreads).
    assert.equal(blas.threads, Number(Deno.env.get("DPO_LAB_BLAS_THREADS") || 1));
    const core = Deno.env.get("OPENBLAS_CORETYPE");
    // A core type set in the environment is respected: the library runs that core's kernels.
    if (core) assert.equal((blas.coreName as string).toLowerCase(), core.toLowerCase());
    assert.equal((blas.coreType as { source: string }).source, core ? "environment" : "cpuinfo");
  },
});
