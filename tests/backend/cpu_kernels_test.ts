/**
 * lib/kernels/cpu_*.ts: the fast `cpu` kernels against float64 references computed here and
 * against the stock tfjs-backend-cpu kernels (put back with `unregisterCpuKernels`), on random
 * shapes; the fused AdamW update against a hand-computed update; a whole GPT-2 training step
 * with and without them.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../lib/kernels/gradients.ts";
import assert from "node:assert/strict";
import { registerCpuKernels, unregisterCpuKernels } from "../../lib/kernels/cpu_fast.ts";
import { ADAM_KERNEL, adamUpdateArrays, setAdamInPlace } from "../../lib/kernels/cpu_adam.ts";
import { createOptimizer } from "../../lib/train/optimizers.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { assertClose } from "../helpers.ts";

await tf.setBackend("cpu");
const blasActive = registerCpuKernels().blas.active;
unregisterCpuKernels();

/** Seeded values in (-1, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Runs `f` with the fast kernels registered, then puts the stock ones back. */
function withFast<T>(f: () => T): T {
  registerCpuKernels();
  try {
    return f();
  } finally {
    unregisterCpuKernels();
  }
}

function read(t: tf.Tensor): Float32Array | Int32Array {
  const v = t.dataSync() as Float32Array | Int32Array;
  t.dispose();
  return v;
}

/** Float64 batched product with numpy broadcasting of the batch dims (operands as stored). */
function product64(
  a: Float32Array,
  sa: number[],
  b: Float32Array,
  sb: number[],
  tA: boolean,
  tB: boolean,
): { shape: number[]; v: number[] } {
  const [ra, rb] = [sa.length, sb.length];
  const [rowsA, colsA, rowsB, colsB] = [sa[ra - 2]!, sa[ra - 1]!, sb[rb - 2]!, sb[rb - 1]!];
  const [m, k] = tA ? [colsA, rowsA] : [rowsA, colsA];
  const n = tB ? rowsB : colsB;
  const oa = sa.slice(0, -2), ob = sb.slice(0, -2);
  const rank = Math.max(oa.length, ob.length);
  const pad = (o: number[]) => [...new Array(rank - o.length).fill(1), ...o];
  const [pa, pb] = [pad(oa), pad(ob)];
  const outer = pa.map((d, i) => Math.max(d, pb[i]!));
  const batch = outer.reduce((x, y) => x * y, 1);
  const v: number[] = [];
  for (let i = 0; i < batch; i++) {
    let rest = i, ia = 0, ib = 0, stA = 1, stB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const c = rest % outer[d]!;
      rest = Math.floor(rest / outer[d]!);
      if (pa[d] !== 1) ia += c * stA;
      if (pb[d] !== 1) ib += c * stB;
      stA *= pa[d]!;
      stB *= pb[d]!;
    }
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = a[ia * rowsA * colsA + (tA ? p * colsA + r : r * colsA + p)]!;
          const y = b[ib * rowsB * colsB + (tB ? c * colsB + p : p * colsB + c)]!;
          s += x * y;
        }
        v.push(s);
      }
    }
  }
  return { shape: [...outer, m, n], v };
}

Deno.test({
  name: "cpu OpenBLAS BatchMatMul equals a float64 product on batched/transposed/broadcast shapes",
  ignore: !blasActive,
  fn: () => {
    const cases: [number[], number[], number, number, number][] = [
      [[], [], 33, 17, 45],
      [[], [], 1, 64, 1],
      [[8], [8], 128, 32, 128],
      [[8], [], 16, 24, 9],
      [[], [5], 7, 3, 11],
      [[2, 3], [3], 5, 7, 4],
      [[2, 1], [3], 5, 7, 4],
      [[2, 3], [2, 3], 6, 1, 5],
      [[4], [1], 0, 5, 3],
      [[3], [3], 4, 0, 6],
      [[], [], 2, 2, 2], // operands small enough to live inside V8's heap
    ];
    let seed = 1;
    for (const [oa, ob, m, k, n] of cases) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const sa = [...oa, ...(tA ? [k, m] : [m, k])], sb = [...ob, ...(tB ? [n, k] : [k, n])];
          const a = rand(tf.util.sizeFromShape(sa), seed++);
          const b = rand(tf.util.sizeFromShape(sb), seed++);
          const y = withFast(() => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), tA, tB));
          const want = product64(a, sa, b, sb, tA, tB);
          const msg = `[${sa}]${tA ? "^T" : ""} x [${sb}]${tB ? "^T" : ""}`;
          assert.deepEqual(y.shape, want.shape, msg);
          assertClose(read(y), want.v, { rtol: 1e-5, atol: 1e-5, msg });
        }
      }
    }
  },
});

Deno.test({
  name: "cpu OpenBLAS BatchMatMul reads operands that are views into a larger buffer",
  ignore: !blasActive,
  fn: () => {
    // A contiguous slice is a subarray of its source in tfjs-backend-cpu: its offset counts.
    const big = rand(4 * 6 * 5, 3), b = rand(5 * 3, 4);
    const y = withFast(() =>
      tf.tidy(() =>
        tf.matMul(tf.slice(tf.tensor(big, [4, 6, 5]), [2, 0, 0], [1, 6, 5]), tf.tensor(b, [5, 3]))
      )
    );
    const want = product64(big.subarray(2 * 30, 3 * 30), [1, 6, 5], b, [5, 3], false, false);
    assertClose(read(y), want.v, { rtol: 1e-5, atol: 1e-6 });
  },
});

Deno.test("cpu Transpose, Slice and SplitV equal the stock kernels exactly on random shapes", () => {
  const shapes = [[7], [3, 5], [2, 3, 4], [2, 5, 3, 64], [1, 4, 1, 70], [3, 2, 2, 2, 3]];
  let seed = 10;
  for (const shape of shapes) {
    const size = tf.util.sizeFromShape(shape);
    const x = rand(size, seed++);
    const ints = Int32Array.from(x, (v) => Math.round(v * 1000));
    const perms = permutations(shape.length).slice(0, 12);
    for (const [vals, dtype] of [[x, "float32"], [ints, "int32"]] as const) {
      for (const perm of perms) {
        const f = () => read(tf.transpose(tf.tensor(vals, shape, dtype), perm));
        assert.deepEqual(withFast(f), f(), `transpose [${shape}] by [${perm}] (${dtype})`);
      }
      // Every axis: a slice from the middle and a split into uneven parts.
      for (let axis = 0; axis < shape.length; axis++) {
        const d = shape[axis]!;
        const begin = shape.map((_, i) => (i === axis ? Math.floor(d / 3) : 0));
        const sz = shape.map((s, i) => (i === axis ? d - Math.floor(d / 3) : s));
        const sl = () => read(tf.slice(tf.tensor(vals, shape, dtype), begin, sz));
        assert.deepEqual(withFast(sl), sl(), `slice [${shape}] axis ${axis}`);
        if (d < 2) continue;
        const parts = [1, d - 1];
        const sp = () => tf.split(tf.tensor(vals, shape, dtype), parts, axis).map(read);
        assert.deepEqual(withFast(sp), sp(), `splitV [${shape}] axis ${axis}`);
      }
    }
  }
});

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])
  );
}

Deno.test("cpu UnsortedSegmentSum equals a float64 scatter-add, and tf.gather's gradient", () => {
  const [rows, inner, segments] = [50, 6, 13];
  const x = rand(rows * inner, 21);
  // Repeated ids, ids out of range (dropped), and segments no id names (zeros).
  const ids = Int32Array.from({ length: rows }, (_, i) => (i * 7) % 15 - 1);
  const want = new Array<number>(segments * inner).fill(0);
  for (let r = 0; r < rows; r++) {
    if (ids[r]! < 0 || ids[r]! >= segments) continue;
    for (let j = 0; j < inner; j++) want[ids[r]! * inner + j] += x[r * inner + j]!;
  }
  const f = () =>
    read(tf.unsortedSegmentSum(tf.tensor(x, [rows, 2, 3]), tf.tensor1d(ids, "int32"), segments));
  assertClose(withFast(f), want, { rtol: 1e-6, atol: 1e-6 });
  assertClose(withFast(f), f(), { rtol: 1e-6, atol: 1e-6 });
  // The embedding gradient: d/dE of sum(w * gather(E, ids)).
  const table = rand(segments * inner, 22), w = rand(rows * inner, 23);
  const okIds = ids.map((i) => Math.max(0, Math.min(segments - 1, i)));
  const g = () =>
    read(
      tf.grad((e: tf.Tensor) =>
        tf.sum(tf.mul(tf.gather(e, tf.tensor1d(okIds, "int32")), tf.tensor(w, [rows, inner])))
      )(tf.tensor(table, [segments, inner])),
    );
  assertClose(withFast(g), g(), { rtol: 1e-5, atol: 1e-6 });
});

Deno.test("cpu Add/Sub/Multiply/RealDiv with broadcasting equal a float64 reference", () => {
  const pairs: [number[], number[]][] = [
    [[4, 5], [4, 5]],
    [[2, 3, 7], [2, 3, 1]],
    [[2, 3, 1], [2, 3, 7]],
    [[1, 1, 6, 6], [2, 3, 6, 6]],
    [[3, 8], [8]],
    [[], [3, 2]],
    [[3, 1, 5], [1, 4, 1]],
    [[2, 1], []],
  ];
  const ops: [
    string,
    (x: number, y: number) => number,
    (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  ][] = [
    ["add", (x, y) => x + y, tf.add],
    ["sub", (x, y) => x - y, tf.sub],
    ["mul", (x, y) => x * y, tf.mul],
    ["div", (x, y) => x / y, tf.div],
  ];
  let seed = 40;
  for (const [sa, sb] of pairs) {
    const a = rand(tf.util.sizeFromShape(sa), seed++);
    // Divisors away from zero, so the relative tolerance means something.
    const b = rand(tf.util.sizeFromShape(sb), seed++).map((x) => x + Math.sign(x) * 0.5);
    const out = tf.broadcast_util.assertAndGetBroadcastShape(sa, sb);
    const rank = out.length;
    const idx = (shape: number[], loc: number[]) => {
      let k = 0;
      shape.forEach((d, i) => (k = k * d + (d === 1 ? 0 : loc[i + rank - shape.length]!)));
      return k;
    };
    for (const [name, f64, op] of ops) {
      const want: number[] = [];
      for (let i = 0; i < tf.util.sizeFromShape(out); i++) {
        const loc = out.map((_, d) =>
          Math.floor(i / tf.util.sizeFromShape(out.slice(d + 1))) % out[d]!
        );
        want.push(f64(a[idx(sa, loc)]!, b[idx(sb, loc)]!));
      }
      const y = withFast(() => op(tf.tensor(a, sa), tf.tensor(b, sb)));
      assert.deepEqual(y.shape, out, `${name} [${sa}] [${sb}]`);
      assertClose(read(y), want, { rtol: 1e-6, atol: 1e-7, msg: `${name} [${sa}] [${sb}]` });
    }
  }
  // int32 keeps the stock kernel (and its integer result).
  const iy = withFast(() => tf.add(tf.tensor1d([1, 2], "int32"), tf.scalar(3, "int32")));
  assert.equal(iy.dtype, "int32");
  assert.deepEqual(Array.from(read(iy)), [4, 5]);
});

Deno.test("cpu Softmax over the last axis equals a float64 softmax, and the stock kernel", () => {
  for (const shape of [[5], [3, 7], [2, 3, 4, 33]]) {
    const n = shape.at(-1)!;
    const x = rand(tf.util.sizeFromShape(shape), 50).map((v) => 8 * v);
    const want: number[] = [];
    for (let o = 0; o < x.length; o += n) {
      const row = Array.from(x.subarray(o, o + n));
      const e = row.map((v) => Math.exp(v - Math.max(...row)));
      const s = e.reduce((a, b) => a + b, 0);
      want.push(...e.map((v) => v / s));
    }
    const f = () => read(tf.softmax(tf.tensor(x, shape)));
    assertClose(withFast(f), want, { rtol: 1e-6, atol: 1e-8, msg: `[${shape}]` });
    assertClose(withFast(f), f(), { rtol: 1e-6, atol: 1e-8, msg: `[${shape}] vs stock` });
  }
});

/** Float64 AdamW / Adam update, written from the formulas (PyTorch's AdamW and Adam). */
function adam64(
  p: number,
  g: number,
  m: number,
  v: number,
  o: { lr: number; b1: number; b2: number; eps: number; wd: number; t: number; decoupled: boolean },
): [number, number, number] {
  const gg = o.decoupled ? g : g + o.wd * p;
  const p0 = o.decoupled ? p * (1 - o.lr * o.wd) : p;
  const m1 = o.b1 * m + (1 - o.b1) * gg;
  const v1 = o.b2 * v + (1 - o.b2) * gg * gg;
  const mHat = m1 / (1 - o.b1 ** o.t), vHat = v1 / (1 - o.b2 ** o.t);
  return [p0 - o.lr * mHat / (Math.sqrt(vHat) + o.eps), m1, v1];
}

Deno.test("fused AdamW/Adam: three optimizer steps equal a float64 hand computation", () => {
  const n = 257;
  for (const [name, wd] of [["adamw", 0.01], ["adam", 0.05]] as const) {
    const p0 = rand(n, 31), grads = [rand(n, 32), rand(n, 33), rand(n, 34)];
    const hp = { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd, decoupled: name === "adamw" };
    const want = Array.from(p0), m = new Array(n).fill(0), v = new Array(n).fill(0);
    for (let t = 1; t <= 3; t++) {
      for (let i = 0; i < n; i++) {
        [want[i], m[i], v[i]] = adam64(want[i]!, grads[t - 1]![i]!, m[i], v[i], { ...hp, t });
      }
    }
    // New tensors by default; in the in-place mode, in place when p's data is unshared; shared
    // (a clone holds the data): new tensors, and the clone keeps the old values.
    for (const [mode, shared] of [[false, false], [true, false], [true, true]]) {
      const got = withFast(() => {
        assert.ok(tf.getKernel(ADAM_KERNEL, "cpu"), "the fused kernel is registered");
        setAdamInPlace(mode);
        const p = tf.tidy(() => tf.variable(tf.tensor1d(p0.slice())));
        const holder = shared ? p.clone() : undefined;
        const opt = createOptimizer({ name, weightDecay: wd });
        const dataId = p.dataId;
        for (const g of grads) tf.tidy(() => opt.apply([p], [tf.tensor1d(g)], hp.lr));
        setAdamInPlace(false);
        assert.equal(p.dataId === dataId, mode && !shared, "in place: in that mode, unshared");
        opt.dispose();
        if (holder) assert.deepEqual(read(holder), p0, "a clone of the parameter is unchanged");
        const out = p.dataSync().slice();
        p.dispose();
        return out;
      });
      assertClose(got, want, { rtol: 1e-6, atol: 1e-7, msg: `${name}, ${mode} ${shared}` });
    }
  }
});

Deno.test("adamUpdateArrays: one AdamW step by hand (p=1, g=2, lr=0.1, wd=0.01)", () => {
  const one = (x: number) => Float32Array.from([x]);
  const [p, m, v] = adamUpdateArrays(one(1), one(2), one(0), one(0), {
    lr: 0.1,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    decay: 1 - 0.1 * 0.01,
    l2: 0,
    bc1: 1 - 0.9,
    bc2: 1 - 0.999,
  });
  // m = 0.2, v = 0.004; m/bc1 = 2, sqrt(v/bc2) = 2: p = 0.999 - 0.1 * 2 / (2 + 1e-8).
  assertClose(m[0]!, 0.2, { rtol: 1e-6 });
  assertClose(v[0]!, 0.004, { rtol: 1e-6 });
  assertClose(p[0]!, 0.899, { rtol: 1e-6 });
  assert.throws(
    () => adamUpdateArrays(one(1), new Float32Array(2), one(0), one(0), {} as never),
    /lengths differ/,
  );
});

Deno.test("GPT-2 training steps with the fast cpu kernels equal the stock kernels", () => {
  const config = { vocab_size: 97, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 4 };
  const ids = tf.tensor2d(
    Array.from({ length: 2 * 12 }, (_, i) => (i * 37) % 97),
    [2, 12],
    "int32",
  );
  const run = () => {
    const model = createGPT2(config, { seed: 5 });
    const vars = model.variables();
    const opt = createOptimizer({ name: "adamw" });
    const losses: number[] = [];
    let firstGrads: Float32Array[] = [];
    for (let step = 0; step < 3; step++) {
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.forward(ids).logits;
        return tf.mean(tf.logSoftmax(logits)).neg() as tf.Scalar;
      }, vars);
      if (step === 0) firstGrads = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
      opt.apply(vars, vars.map((v) => grads[v.name]!), 1e-3);
      losses.push(value.dataSync()[0]!);
      tf.dispose([value, ...Object.values(grads)]);
    }
    opt.dispose();
    model.dispose();
    return { losses, firstGrads };
  };
  const stock = run();
  const fast = withFast(run);
  // Gradients relative to each parameter's largest; Adam's steps are compared through the loss
  // (Adam divides by |g|, so a float32 difference in a near-zero gradient flips a whole step).
  fast.firstGrads.forEach((g, i) => {
    const scale = stock.firstGrads[i]!.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    assertClose(g, stock.firstGrads[i]!, { rtol: 0, atol: 1e-4 * scale, msg: `grad ${i}` });
  });
  assertClose(fast.losses, stock.losses, { rtol: 1e-5 });
  ids.dispose();
});
