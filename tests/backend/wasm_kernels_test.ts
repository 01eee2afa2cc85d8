/**
 * The kernels lib/kernels/wasm_grads.ts adds to or wraps on `wasm`, checked against plain-JS
 * sums and products, and a sweep of the ops a transformer training step differentiates, on `wasm` against `cpu`.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { startBackend } from "../../lib/backend.ts";
import { registerWasmGradients } from "../../lib/kernels/wasm_grads.ts";
import { assertClose } from "../helpers.ts";

/** Deterministic values in (-2, 2) without any library generator. */
function values(n: number, phase = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 2 * Math.sin(1.7 * i + 0.3 + phase));
}

async function onWasm<T>(f: () => Promise<T>): Promise<T> {
  const before = tf.getBackend();
  await startBackend("wasm");
  try {
    return await f();
  } finally {
    if (before) await tf.setBackend(before);
  }
}

/** Plain-JS segment sum over rows of a row-major [rows, inner] array. */
function segmentSumJs(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  inner: number,
  segments: number,
): number[] {
  const out = new Array<number>(segments * inner).fill(0);
  for (let r = 0; r < ids.length; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= segments) continue;
    for (let j = 0; j < inner; j++) out[s * inner + j]! += x[r * inner + j]!;
  }
  return out;
}

Deno.test("wasm UnsortedSegmentSum: 1-D ids, repeated and unused segments", async () => {
  await onWasm(async () => {
    const x = values(7 * 5);
    const ids = [3, 0, 3, 3, 1, 0, 5];
    const y = tf.unsortedSegmentSum(tf.tensor2d(x, [7, 5]), tf.tensor1d(ids, "int32"), 6);
    assert.equal(tf.getBackend(), "wasm");
    assert.deepEqual(y.shape, [6, 5]);
    // Segments 2 and 4 get no row and must be exactly zero (the output buffer is reused heap).
    assertClose(await y.data(), segmentSumJs(x, ids, 5, 6), { rtol: 1e-6, atol: 1e-6 });
    y.dispose();
  });
});

Deno.test("wasm UnsortedSegmentSum: 2-D ids over a 3-D input", async () => {
  await onWasm(async () => {
    const x = values(2 * 3 * 4, 1);
    const ids = [1, 0, 1, 2, 2, 2];
    const y = tf.unsortedSegmentSum(
      tf.tensor3d(x, [2, 3, 4]),
      // tfjs types segmentIds as 1-D; the kernel (like TensorFlow) accepts any leading prefix.
      tf.tensor2d(ids, [2, 3], "int32") as unknown as tf.Tensor1D,
      3,
    );
    assert.deepEqual(y.shape, [3, 4]);
    assertClose(await y.data(), segmentSumJs(x, ids, 4, 3), { rtol: 1e-6, atol: 1e-6 });
    y.dispose();
  });
});

Deno.test("wasm UnsortedSegmentSum: int32 input, out-of-range ids dropped", async () => {
  await onWasm(async () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8];
    const ids = [0, -1, 2, 9, 0, 2, 1, 3];
    const y = tf.unsortedSegmentSum(tf.tensor1d(x, "int32"), tf.tensor1d(ids, "int32"), 3);
    assert.equal(y.dtype, "int32");
    // By hand: segment 0 <- 1 + 5, segment 1 <- 7, segment 2 <- 3 + 6; ids -1, 9, 3 dropped.
    assert.deepEqual(Array.from(await y.data()), [6, 7, 9]);
    y.dispose();
  });
});

Deno.test("wasm: gradient of an embedding gather is the row-wise sum of upstream grads", async () => {
  await onWasm(async () => {
    const V = 6, d = 3;
    const table = tf.tensor2d(values(V * d), [V, d]);
    const idx = [4, 1, 4, 0, 4];
    const w = values(idx.length * d, 2);
    const g = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.mul(tf.gather(t, tf.tensor1d(idx, "int32"), 0), tf.tensor2d(w, [idx.length, d])))
    )(table);
    assertClose(await g.data(), segmentSumJs(w, idx, d, V), { rtol: 1e-6, atol: 1e-6 });
    tf.dispose([table, g]);
  });
});

/** Plain-JS batched matmul of row-major [batch, m, k] x [batch or 1, k, n]. */
function matmulJs(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  [batch, m, k, n]: number[],
  bBatch: number,
): number[] {
  const out = new Array<number>(batch * m * n).fill(0);
  for (let p = 0; p < batch; p++) {
    const bo = (bBatch === 1 ? 0 : p) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let q = 0; q < k; q++) acc += a[p * m * k + i * k + q]! * b[bo + q * n + j]!;
        out[p * m * n + i * n + j] = acc;
      }
    }
  }
  return out;
}

/** Row-major transpose of the last two axes of [batch, r, c]. */
function transposeJs(x: ArrayLike<number>, [batch, r, c]: number[]): number[] {
  const out = new Array<number>(batch * r * c);
  for (let p = 0; p < batch; p++) {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) out[p * r * c + j * r + i] = x[p * r * c + i * c + j]!;
    }
  }
  return out;
}

Deno.test("wasm matMul with every transpose combination, batched and broadcast", async () => {
  await onWasm(async () => {
    const [B, m, k, n] = [2, 3, 5, 4];
    const a = values(B * m * k), b = values(B * k * n, 1), b1 = values(k * n, 2);
    const expected = matmulJs(a, b, [B, m, k, n], B);
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        // Store each operand in the layout the flag says, so the product is always a.b.
        const at = ta
          ? tf.tensor3d(transposeJs(a, [B, m, k]), [B, k, m])
          : tf.tensor3d(a, [B, m, k]);
        const bt = tb
          ? tf.tensor3d(transposeJs(b, [B, k, n]), [B, n, k])
          : tf.tensor3d(b, [B, k, n]);
        const y = tf.matMul(at, bt, ta, tb);
        assert.deepEqual(y.shape, [B, m, n]);
        assertClose(await y.data(), expected, { rtol: 1e-5, atol: 1e-5, msg: `tA=${ta} tB=${tb}` });
        tf.dispose([at, bt, y]);
      }
    }
    // A rank-2 right operand, transposed, broadcast over the batch.
    const y = tf.matMul(
      tf.tensor3d(a, [B, m, k]),
      tf.tensor2d(transposeJs(b1, [1, k, n]), [n, k]),
      false,
      true,
    );
    assertClose(await y.data(), matmulJs(a, b1, [B, m, k, n], 1), { rtol: 1e-5, atol: 1e-5 });
    y.dispose();
  });
});

Deno.test("wasm batched matMul: rank-4 attention shapes, a broadcast left operand, reordered transposes", async () => {
  await onWasm(async () => {
    const [B, m, k, n] = [6, 7, 3, 5];
    const a = values(B * m * k, 3), b = values(B * k * n, 4), a1 = values(m * k, 5);
    // Rank 4 ([2, 3] batch) through the per-entry XNNPACK path.
    let y = tf.matMul(tf.tensor4d(a, [2, 3, m, k]), tf.tensor4d(b, [2, 3, k, n]));
    assert.deepEqual(y.shape, [2, 3, m, n]);
    assertClose(await y.data(), matmulJs(a, b, [B, m, k, n], B), { rtol: 1e-5, atol: 1e-5 });
    y.dispose();
    // One left matrix for every batch entry of the right operand.
    const a1b = Array.from({ length: B }, () => Array.from(a1)).flat();
    y = tf.matMul(tf.tensor2d(a1, [m, k]), tf.tensor3d(b, [B, k, n]));
    assert.deepEqual(y.shape, [B, m, n]);
    assertClose(await y.data(), matmulJs(a1b, b, [B, m, k, n], B), { rtol: 1e-5, atol: 1e-5 });
    y.dispose();
    // A large transposed left operand: computed as (b^T a)^T, which moves fewer elements.
    const big = values(40 * m, 6), r = values(40 * n, 7);
    y = tf.matMul(tf.tensor2d(big, [40, m]), tf.tensor2d(r, [40, n]), true, false);
    assert.deepEqual(y.shape, [m, n]);
    const expected = matmulJs(transposeJs(big, [1, 40, m]), r, [1, m, 40, n], 1);
    assertClose(await y.data(), expected, { rtol: 1e-5, atol: 1e-5 });
    y.dispose();
  });
});

Deno.test("wasm Sum over leading axes (computed as a product with ones) equals the JS sum", async () => {
  await onWasm(async () => {
    const [p, q, c] = [4, 6, 5];
    const x = values(p * q * c, 8);
    const byHand = (rows: number) =>
      Array.from({ length: (p * q * c) / rows }, (_, j) => {
        let acc = 0;
        for (let i = 0; i < rows; i++) acc += x[i * ((p * q * c) / rows) + j]!;
        return acc;
      });
    const t = tf.tensor3d(x, [p, q, c]);
    const s0 = tf.sum(t, 0), s01 = tf.sum(t, [1, 0], true), last = tf.sum(t, 2);
    assert.deepEqual(s0.shape, [q, c]);
    assert.deepEqual(s01.shape, [1, 1, c]);
    assertClose(await s0.data(), byHand(p), { rtol: 1e-5, atol: 1e-5 });
    assertClose(await s01.data(), byHand(p * q), { rtol: 1e-5, atol: 1e-5 });
    // The innermost reduction keeps the kernel's own path.
    assert.deepEqual(last.shape, [p, q]);
    tf.dispose([t, s0, s01, last]);
  });
});

/** x[begin : begin + size] of a row-major array of `shape`, element by element. */
function sliceJs(x: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const total = size.reduce((a, b) => a * b, 1);
  for (let k = 0; k < total; k++) {
    let rem = k, flat = 0, stride = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const i = rem % size[d]!;
      rem = Math.floor(rem / size[d]!);
      flat += (begin[d]! + i) * stride;
      stride *= shape[d]!;
    }
    out.push(x[flat]!);
  }
  return out;
}

Deno.test("wasm Slice and SplitV (heap copies) equal an element-by-element slice", async () => {
  await onWasm(async () => {
    const cases: [number[], number[], number[]][] = [
      [[7], [2], [4]],
      [[5, 6], [1, 2], [3, 3]],
      [[5, 6], [2, 0], [3, 6]], // whole rows: one contiguous run
      [[3, 4, 5], [1, 0, 2], [2, 4, 3]],
      [[3, 4, 5], [0, 1, 0], [3, 2, 5]],
      [[2, 3, 4, 5], [1, 1, 1, 1], [1, 2, 3, 4]],
      [[2, 3, 2, 2, 3], [0, 1, 0, 1, 1], [2, 2, 2, 1, 2]],
      [[4, 3], [0, 0], [0, 3]], // empty
    ];
    for (const [shape, begin, size] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = values(n, shape.length);
      for (const dtype of ["float32", "int32"] as const) {
        const src = dtype === "int32" ? Int32Array.from(x, (v) => Math.round(100 * v)) : x;
        const t = tf.tensor(src, shape, dtype), y = tf.slice(t, begin, size);
        assert.deepEqual(y.shape, size);
        assert.equal(y.dtype, dtype);
        assert.deepEqual(
          Array.from(await y.data()),
          sliceJs(src, shape, begin, size),
          `${shape} ${begin} ${size}`,
        );
        tf.dispose([t, y]);
      }
    }
    const shape = [3, 9, 4], x = values(3 * 9 * 4, 5), t = tf.tensor3d(x, [3, 9, 4]);
    for (const [axis, splits] of [[1, [2, 4, 3]], [2, 2], [0, 3], [-1, [1, 3]]] as const) {
      const parts = tf.split(t, splits as number | number[], axis);
      const ax = axis < 0 ? shape.length + axis : axis;
      let start = 0;
      for (const part of parts) {
        const begin = [0, 0, 0], size = [...shape];
        begin[ax] = start;
        size[ax] = part.shape[ax]!;
        start += size[ax]!;
        assert.deepEqual(Array.from(await part.data()), sliceJs(x, shape, begin, size));
      }
      tf.dispose(parts);
    }
    t.dispose();
  });
});

Deno.test("wasm fused matMul (bias, relu) with transposed operands", async () => {
  await onWasm(async () => {
    const [m, k, n] = [3, 4, 5];
    const a = values(m * k), b = values(k * n, 1), bias = values(n, 2);
    const y = tf.fused.matMul({
      a: tf.tensor2d(transposeJs(a, [1, m, k]), [k, m]),
      b: tf.tensor2d(transposeJs(b, [1, k, n]), [n, k]),
      transposeA: true,
      transposeB: true,
      bias: tf.tensor1d(bias),
      activation: "relu",
    });
    const expected = matmulJs(a, b, [1, m, k, n], 1).map((v, i) => Math.max(0, v + bias[i % n]!));
    assertClose(await y.data(), expected, { rtol: 1e-5, atol: 1e-5 });
    y.dispose();
  });
});

Deno.test("wasm: registering twice wraps the matmul kernels once", async () => {
  await onWasm(async () => {
    const before = tf.getKernel("BatchMatMul", "wasm");
    registerWasmGradients();
    assert.equal(tf.getKernel("BatchMatMul", "wasm"), before);
    const y = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), true);
    // By hand: [[1,3],[2,4]] . [[5,6],[7,8]] = [[26,30],[38,44]].
    assert.deepEqual(Array.from(await y.data()), [26, 30, 38, 44]);
    y.dispose();
  });
});

type Probe = [shape: number[], f: (x: tf.Tensor) => tf.Tensor];

// Every op a GPT-2 / Llama forward pass, its backward pass and an Adam update dispatch, each
// differentiated through a random linear read-out. Masks are built from constants: tfjs cannot
// differentiate through comparison ops.
const mask = () => tf.tensor2d([1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1], [3, 4], "bool");
const PROBES: Record<string, Probe> = {
  "gather axis 0 (embedding)": [[4, 3], (x) => tf.gather(x, tf.tensor1d([0, 2, 1, 2, 3], "int32"))],
  "gather axis 1": [[3, 4], (x) => tf.gather(x, tf.tensor1d([3, 0, 3], "int32"), 1)],
  "gather batchDims 1 (target log-probs)": [
    [2, 4, 3],
    (x) => tf.gather(x, tf.tensor2d([[0, 1], [3, 3]], [2, 2], "int32"), 1, 1),
  ],
  "matMul a.b^T": [[3, 4], (x) => tf.matMul(x, x, false, true)],
  "matMul a^T.b": [[3, 4], (x) => tf.matMul(x, x, true, false)],
  "batch matMul 4-D": [[2, 2, 3, 4], (x) => tf.matMul(x, x, false, true)],
  "layer norm (mean, sub, square, rsqrt)": [[3, 4], (x) => {
    const c = tf.sub(x, tf.mean(x, -1, true));
    return tf.mul(c, tf.rsqrt(tf.add(tf.mean(tf.square(c), -1, true), 1e-5)));
  }],
  "moments": [[3, 4], (x) => tf.moments(x, -1, true).variance],
  "RMSNorm (pow, sqrt, div)": [
    [3, 4],
    (x) => tf.div(x, tf.sqrt(tf.add(tf.mean(tf.pow(x, 2), -1, true), 1e-6))),
  ],
  "softmax": [[3, 4], (x) => tf.softmax(x)],
  "logSoftmax": [[3, 4], (x) => tf.logSoftmax(x)],
  "logSumExp": [[3, 4], (x) => tf.logSumExp(x, -1)],
  "GELU tanh form (tanh, pow)": [[3, 4], (x) =>
    tf.mul(
      tf.mul(x, 0.5),
      tf.add(1, tf.tanh(tf.mul(0.7978845608, tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))),
    )],
  "GELU erf form": [[3, 4], (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, 0.7071))))],
  "SiLU (sigmoid)": [[3, 4], (x) => tf.mul(x, tf.sigmoid(x))],
  "relu": [[3, 4], (x) => tf.relu(x)],
  "logSigmoid (DPO loss)": [[3, 4], (x) => tf.logSigmoid(x)],
  "softplus": [[3, 4], (x) => tf.softplus(x)],
  "where / select with broadcast mask": [
    [2, 3, 4],
    (x) => tf.where(mask(), x, tf.fill(x.shape, -1e9)),
  ],
  "cumsum": [[3, 4], (x) => tf.cumsum(x, 1)],
  "cumsum exclusive reverse": [[3, 4], (x) => tf.cumsum(x, 1, true, true)],
  "concat + slice (RoPE halves)": [
    [3, 4],
    (x) => tf.concat([tf.neg(tf.slice(x, [0, 2], [3, 2])), tf.slice(x, [0, 0], [3, 2])], -1),
  ],
  "sin, cos (RoPE tables)": [[3, 4], (x) => tf.add(tf.mul(x, tf.cos(x)), tf.sin(x))],
  "transpose + reshape": [[2, 3, 4], (x) => tf.reshape(tf.transpose(x, [1, 0, 2]), [6, 4])],
  "split": [[3, 4], (x) => tf.split(x, 2, 1)[1]!],
  "stack / unstack": [
    [3, 4],
    (x) => tf.stack([tf.unstack(x, 1)[2]!, tf.unstack(tf.exp(x), 1)[0]!]),
  ],
  "sum, max, min over an axis": [
    [3, 4],
    (x) => tf.add(tf.sum(x, -1), tf.add(tf.max(x, -1), tf.slice(tf.min(x, 0), [0], [3]))),
  ],
  "maximum, minimum, clipByValue": [
    [3, 4],
    (x) => tf.add(tf.maximum(x, 0.1), tf.add(tf.minimum(x, -0.1), tf.clipByValue(x, -0.5, 0.5))),
  ],
  "oneHot cross-entropy": [
    [3, 4],
    (x) => tf.sum(tf.mul(tf.logSoftmax(x), tf.oneHot(tf.tensor1d([1, 0, 3], "int32"), 4)), -1),
  ],
  "tile, pad, broadcastTo, expandDims": [
    [1, 4],
    (x) =>
      tf.add(
        tf.pad(tf.tile(x, [2, 1]), [[0, 1], [0, 0]]),
        tf.expandDims(tf.broadcastTo(x, [3, 4]), 0),
      ),
  ],
  "exp, log, abs, neg, reciprocal": [
    [3, 4],
    (x) =>
      tf.add(
        tf.log(tf.add(tf.abs(x), 1)),
        tf.add(tf.neg(tf.exp(x)), tf.reciprocal(tf.add(tf.square(x), 1))),
      ),
  ],
  "squeeze, reverse": [[3, 1, 4], (x) => tf.reverse(tf.squeeze(x, [1]), 1)],
};

Deno.test("wasm: every op of a transformer training step differentiates like cpu (rel 1e-5)", async () => {
  async function run(backend: "cpu" | "wasm"): Promise<Map<string, number[]>> {
    await startBackend(backend);
    const out = new Map<string, number[]>();
    for (const [name, [shape, f]] of Object.entries(PROBES)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(values(n), shape);
      try {
        const { value, grad } = tf.tidy(() => {
          const readout = tf.tensor(values(f(x).size, 5), f(x).shape);
          return tf.valueAndGrad((t: tf.Tensor) => tf.sum(tf.mul(f(t), readout)))(x);
        });
        out.set(name, [...await value.data(), ...await grad.data()]);
        tf.dispose([value, grad]);
      } catch (e) {
        throw new Error(`${backend}: ${name}: ${e instanceof Error ? e.message : e}`);
      } finally {
        x.dispose();
      }
    }
    return out;
  }
  const before = tf.getBackend();
  try {
    const ref = await run("cpu");
    const got = await run("wasm");
    for (const [name, r] of ref) {
      const scale = Math.max(...r.map(Math.abs));
      assertClose(got.get(name)!, r, { rtol: 1e-5, atol: 1e-5 * scale, msg: name });
    }
  } finally {
    if (before) await tf.setBackend(before);
  }
});

Deno.test("wasm: an Adam step moves a variable as the update rule says", async () => {
  await onWasm(async () => {
    // First Adam step: m = (1-b1) g, v = (1-b2) g^2, bias-corrected update = lr * g / (|g| + eps')
    // = lr * sign(g) up to epsilon, for g = d/dw sum(w^2) = 2 w.
    const w0 = [0.5, -2, 3];
    const w = tf.variable(tf.tensor1d(w0));
    const opt = tf.train.adam(0.1, 0.9, 0.999, 1e-8);
    opt.minimize(() => tf.sum(tf.square(w)));
    const got = await w.data();
    assertClose(got, w0.map((x) => x - 0.1 * Math.sign(x)), { rtol: 1e-5, atol: 1e-6 });
    opt.dispose();
    w.dispose();
  });
});
