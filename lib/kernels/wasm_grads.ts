/**
 * Kernels the tfjs `wasm` backend (4.22) lacks for training a transformer.
 *
 * Every kernel a GPT-2 / Llama forward and backward pass and an Adam update dispatch was checked
 * on `wasm` against `cpu` (tests/backend/wasm_kernels_test.ts). The only one missing is
 * `UnsortedSegmentSum`, which `tf.gather`'s gradient calls (token embeddings, picking target
 * log-probs). Other kernels `wasm` lacks — `Einsum`, `Conv2DBackpropFilter`, the depthwise
 * convolution gradients, FFT, complex numbers, ragged tensors, strings — are not used by a
 * transformer step; `Einsum` has no gradient on any tfjs backend, so it is no loss for training.
 *
 * Speed: `wasm`'s matmul kernels run XNNPACK only on untransposed operands; with a transpose
 * flag (every matmul of a backward pass) they fall back to a loop 5-20x slower. The wrappers
 * here transpose such operands in memory first, which halves a GPT training step. Products
 * with a batch dimension (attention) use XNNPACK only with one batch entry, so the wrapper runs
 * them one entry at a time on views of the operands (a DPO step of the 1.3M GPT-2: -26% CPU).
 * `wasm` runs single-threaded under Deno: tfjs turns its threaded build off when it detects
 * Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false when `IS_NODE`), which Deno looks like.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: unknown): boolean;
}

/** Internals of `BackendWasm` (4.22) used to give a slice of a tensor its own tensor id. */
interface WasmInternals {
  dataIdNextNumber: number;
  dataIdMap: {
    get(dataId: unknown): { id: number; memoryOffset: number } | undefined;
    set(dataId: unknown, value: Record<string, unknown>): void;
    delete(dataId: unknown): void;
  };
  wasm: {
    HEAPU8: Uint8Array;
    tfjs: {
      registerTensor(id: number, size: number, offset: number): void;
      disposeData(id: number): void;
    };
  };
}

function asWasmBackend(backend: unknown): WasmBackendLike {
  const b = backend as Partial<WasmBackendLike>;
  if (typeof b?.makeOutput !== "function" || typeof b.typedArrayFromHeap !== "function") {
    throw new TypeError("dpo-lab wasm kernel: the backend given is not tfjs wasm");
  }
  return b as WasmBackendLike;
}

/**
 * `out[s, ...] = sum of x[i, ...] over every i with segmentIds[i] = s`, where `segmentIds`
 * covers the leading dimensions of `x`. Ids outside [0, numSegments) are dropped, as in
 * TensorFlow and tfjs's `cpu` backend.
 */
function unsortedSegmentSum(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
): tf.TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new TypeError(`UnsortedSegmentSum on wasm: x has dtype ${x.dtype}; float32 or int32`);
  }
  const idRank = segmentIds.shape.length;
  if (
    idRank > x.shape.length || segmentIds.shape.some((d, i) => d !== x.shape[i])
  ) {
    throw new RangeError(
      `UnsortedSegmentSum on wasm: segmentIds shape [${segmentIds.shape}] is not a prefix of ` +
        `x shape [${x.shape}]`,
    );
  }
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const inner = tf.util.sizeFromShape(x.shape.slice(idRank));
  const out = backend.makeOutput([numSegments, ...x.shape.slice(idRank)], x.dtype);
  // Views into the wasm heap are taken only after the last allocation: a heap growth would
  // detach views taken before it.
  const o = backend.typedArrayFromHeap(out);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  o.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (!(s >= 0 && s < numSegments)) continue;
    const src = r * inner, dst = s * inner;
    for (let j = 0; j < inner; j++) o[dst + j] += xs[src + j];
  }
  return out;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * A float32 tensor info for `shape.length`-sized data starting `offset` elements into `src`'s
 * buffer, registered with the wasm module under a new id: no copy. Release it with
 * {@link releaseView}, which frees nothing (the memory stays `src`'s).
 */
function sliceView(backend: unknown, src: tf.TensorInfo, offset: number, shape: number[]) {
  const b = backend as WasmInternals;
  const base = b.dataIdMap.get(src.dataId)!.memoryOffset;
  const id = b.dataIdNextNumber++;
  const dataId = { id };
  const memoryOffset = base + 4 * offset;
  b.dataIdMap.set(dataId, { id, memoryOffset, shape, dtype: "float32", refCount: 1 });
  b.wasm.tfjs.registerTensor(id, tf.util.sizeFromShape(shape), memoryOffset);
  return { dataId, shape, dtype: "float32" } as tf.TensorInfo;
}

function releaseView(backend: unknown, view: tf.TensorInfo): void {
  const b = backend as WasmInternals;
  // Unregistering runs the module's disposal callbacks (its cached XNNPACK operators for this
  // id); unlike backend.disposeData it does not free the memory, which the source owns.
  b.wasm.tfjs.disposeData(b.dataIdMap.get(view.dataId)!.id);
  b.dataIdMap.delete(view.dataId);
}

/**
 * A batched product of untransposed float32 operands through the XNNPACK (2-D) path, one
 * batch entry at a time on views of the operands. tfjs-backend-wasm 4.22 sends any product
 * with more than one batch entry to a plain loop that ran at 0.7 GFLOPS on attention's
 * [32,128,128] x [32,128,32] against 27 GFLOPS for one [128,128] x [128,32] product on
 * XNNPACK (2 shared cores). Returns undefined for shapes it does not handle (a broadcast of
 * outer dimensions other than "one side has a single batch entry").
 */
function batchedThroughXnn(
  original: tf.KernelConfig,
  args: KernelArgs,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
): tf.TensorInfo | undefined {
  if (a.dtype !== "float32" || b.dtype !== "float32") return undefined;
  const [ra, rb] = [a.shape.length, b.shape.length];
  const [m, k, n] = [a.shape[ra - 2]!, a.shape[ra - 1]!, b.shape[rb - 1]!];
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA), batchB = tf.util.sizeFromShape(outerB);
  const batch = Math.max(batchA, batchB);
  if (batch <= 1 || b.shape[rb - 2] !== k) return undefined;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  if (batchA === batchB && !tf.util.arraysEqual(outerA, outerB)) return undefined;
  const outer = batchA >= batchB ? outerA : outerB;
  const backend = asWasmBackend(args.backend);
  const attrs = { ...args.attrs, transposeA: false, transposeB: false };
  if (batchB === 1) {
    // One right operand for every batch entry: a single [batch*m, k] x [k, n] product.
    const av = sliceView(args.backend, a, 0, [batch * m, k]);
    const bv = sliceView(args.backend, b, 0, [k, n]);
    try {
      const y = original.kernelFunc({ inputs: { a: av, b: bv }, backend: args.backend, attrs });
      const out = y as tf.TensorInfo;
      return { ...out, shape: [...outer, m, n] };
    } finally {
      releaseView(args.backend, av);
      releaseView(args.backend, bv);
    }
  }
  const out = backend.makeOutput([...outer, m, n], "float32");
  const outOffset = (args.backend as WasmInternals).dataIdMap.get(out.dataId)!.memoryOffset;
  for (let i = 0; i < batch; i++) {
    const av = sliceView(args.backend, a, batchA === 1 ? 0 : i * m * k, [m, k]);
    const bv = sliceView(args.backend, b, i * k * n, [k, n]);
    try {
      const y = original.kernelFunc({ inputs: { a: av, b: bv }, backend: args.backend, attrs });
      const yi = y as tf.TensorInfo;
      const src = (args.backend as WasmInternals).dataIdMap.get(yi.dataId)!.memoryOffset;
      // Read HEAPU8 afresh: an allocation above may have grown (and replaced) the heap.
      const heap = (args.backend as WasmInternals).wasm.HEAPU8;
      heap.copyWithin(outOffset + 4 * i * m * n, src, src + 4 * m * n);
      backend.disposeData(yi.dataId);
    } finally {
      releaseView(args.backend, av);
      releaseView(args.backend, bv);
    }
  }
  return out;
}

/** `x` with its last two dimensions swapped, as a new wasm tensor the caller disposes. */
function transposeLast2(backend: object, x: tf.TensorInfo): tf.TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [r - 1, r - 2];
  const transpose = tf.getKernel("Transpose", "wasm")!.kernelFunc;
  return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/**
 * Wraps a matmul kernel of `wasm` so transposed operands are transposed in memory first: its
 * XNNPACK path is used only for untransposed operands, and its fallback loop for `transposeA`
 * or `transposeB` is 5-20x slower (measured on [512,128] x [128,4096]), which is every matmul
 * of the backward pass. A transpose costs one pass over the operand, so a plain product
 * chooses the cheaper of `op(A) op(B)` and `(op(B)^T op(A)^T)^T` in elements transposed: the
 * tied unembedding's weight gradient `G^T H` (G the [N*T, V] logit gradient) becomes
 * `(H^T G)^T`, which transposes H and the [V, d] result instead of the vocabulary-wide G.
 * Batched products (attention) go through XNNPACK one batch entry at a time
 * ({@link batchedThroughXnn}).
 */
function untransposing(original: tf.KernelConfig): tf.KernelConfig {
  // Only the plain product may be reordered: a fused bias or activation applies to C, not C^T.
  const plainProduct = original.kernelName === "BatchMatMul";
  const product = (args: KernelArgs, a: tf.TensorInfo, b: tf.TensorInfo) => {
    const plain = {
      ...args,
      inputs: { ...args.inputs, a, b },
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
    };
    return (plainProduct && batchedThroughXnn(original, plain, a, b)) ||
      (original.kernelFunc(plain) as tf.TensorInfo);
  };
  const kernelFunc = (args: KernelArgs) => {
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
    const tA = attrs?.transposeA === true, tB = attrs?.transposeB === true;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (!tA && !tB) return product(args, a, b);
    const backend = asWasmBackend(args.backend);
    const temps: tf.TensorInfo[] = [];
    const t = (x: tf.TensorInfo) => {
      const y = transposeLast2(args.backend, x);
      temps.push(y);
      return y;
    };
    try {
      const size = tf.util.sizeFromShape;
      const [ra, rb] = [a.shape.length, b.shape.length];
      const m = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
      const n = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
      const batch = Math.max(size(a.shape.slice(0, -2)), size(b.shape.slice(0, -2)));
      const direct = (tA ? size(a.shape) : 0) + (tB ? size(b.shape) : 0);
      const swapped = (tA ? 0 : size(a.shape)) + (tB ? 0 : size(b.shape)) + batch * m * n;
      if (plainProduct && swapped < direct) {
        // C^T = op(B)^T op(A)^T: a transposed operand is already stored in the needed layout.
        const ct = product(args, tB ? b : t(b), tA ? a : t(a));
        temps.push(ct);
        return transposeLast2(args.backend, ct);
      }
      return product(args, tA ? t(a) : a, tB ? t(b) : b);
    } finally {
      for (const x of temps) backend.disposeData(x.dataId);
    }
  };
  return { ...original, kernelFunc: kernelFunc as tf.KernelFunc };
}

/**
 * Wraps `wasm`'s Sum so a reduction over leading axes (a bias gradient: `dy [N*T, C]` summed
 * over rows) is the product `ones[1, R] @ x[R, C]` on XNNPACK. The kernel itself reduces only
 * the innermost axes and transposes the input first for any other, through a transpose kernel
 * that moved about 30 ns per element: summing [1024, 512] over axis 0 took 11 ms against
 * 0.3 ms for the product (2 shared cores).
 */
function summingByProduct(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const rank = x.shape.length;
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (x.dtype !== "float32" || !leading) return original.kernelFunc(args);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const rest = x.shape.slice(axes.length);
    const cols = tf.util.sizeFromShape(rest);
    if (rows < 2) return original.kernelFunc(args);
    const backend = asWasmBackend(args.backend);
    const ones = backend.makeOutput([1, rows], "float32");
    backend.typedArrayFromHeap(ones).fill(1);
    const xv = sliceView(args.backend, x, 0, [rows, cols]);
    try {
      const matMul = tf.getKernel("BatchMatMul", "wasm")!.kernelFunc;
      const y = matMul({
        inputs: { a: ones, b: xv },
        backend: args.backend,
        attrs: { transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
      const shape = keepDims ? [...axes.map(() => 1), ...rest] : rest;
      return { ...y, shape };
    } finally {
      releaseView(args.backend, xv);
      backend.disposeData(ones.dataId);
    }
  };
  return { ...original, kernelFunc: kernelFunc as tf.KernelFunc };
}

/**
 * `tf.split` as block copies between heap views. tfjs-backend-wasm 4.22's SplitV runs its
 * Slice kernel once per piece, which copies the whole input out of the heap (`readSync`)
 * each time: splitting GPT-2's fused qkv [1024, 384] into three along axis 1 took 13.8 ms
 * against 1.3 ms for three `tf.slice` calls (2 cores, quiet). Concat's gradient is a split too.
 */
function splitByBlocks(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { numOrSizeSplits, axis } = args.attrs as {
      numOrSizeSplits: number | number[];
      axis: number;
    };
    if (x.dtype !== "float32" && x.dtype !== "int32") return original.kernelFunc(args);
    const backend = asWasmBackend(args.backend);
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
    const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1));
    const rowLength = x.shape[ax] * inner;
    let start = 0;
    return sizes.map((s) => {
      const shape = x.shape.slice();
      shape[ax] = s;
      const out = backend.makeOutput(shape, x.dtype);
      // Views after makeOutput: allocating can grow (and move) the wasm heap.
      const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out);
      const block = s * inner;
      for (let o = 0; o < outer; o++) {
        const from = o * rowLength + start;
        dst.set(src.subarray(from, from + block), o * block);
      }
      start += block;
      return out;
    });
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

/**
 * `tf.slice` as run copies between heap views. tfjs-backend-wasm 4.22's Slice first copies
 * the whole input out of the heap (`readSync`), whatever the size of the slice: one
 * [1024, 128] column block of a [1024, 384] tensor took 0.3-5.5 ms depending on the garbage
 * collector's state, against 0.15 ms here.
 */
function slicingByRuns(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    if (x.dtype !== "float32" && x.dtype !== "int32") return original.kernelFunc(args);
    const [b0, s0] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const backend = asWasmBackend(args.backend);
    const out = backend.makeOutput(s0, x.dtype);
    const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out);
    const rank = x.shape.length;
    if (rank === 0 || dst.length === 0) {
      dst.set(src.subarray(0, dst.length));
      return out;
    }
    // Trailing dimensions taken whole merge into one contiguous run.
    let j = rank - 1, run = s0[j];
    while (j > 0 && b0[j] === 0 && s0[j] === x.shape[j]) {
      j--;
      run *= s0[j];
    }
    const strides = tf.util.computeStrides(x.shape).concat([1]);
    const offset0 = b0.reduce((acc, b, i) => acc + b * strides[i], 0);
    const idx = new Array(j).fill(0);
    const runs = dst.length / run;
    for (let k = 0, from = offset0; k < runs; k++) {
      dst.set(src.subarray(from, from + run), k * run);
      // Odometer over dimensions 0..j-1 of the output.
      for (let d = j - 1; d >= 0; d--) {
        idx[d]++;
        from += strides[d];
        if (idx[d] < s0[d]) break;
        from -= idx[d] * strides[d];
        idx[d] = 0;
      }
    }
    return out;
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

/** Marks kernel configs this module installed, so registering twice wraps nothing twice. */
const WRAPPED = Symbol.for("dpo-lab.wasm.untransposing");

/**
 * Register the kernels `wasm` needs for a transformer training step, and faster transposed
 * matmuls; idempotent. Call it after importing `@tensorflow/tfjs-backend-wasm` (lib/backend.ts
 * does, when it starts `wasm`).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { registerWasmGradients } from "./wasm_grads.ts";
 * registerWasmGradients();
 * console.log(tf.getKernel("UnsortedSegmentSum", "wasm") !== undefined); // true
 * ```
 */
export function registerWasmGradients(): void {
  // Checking the registry (not a module flag) lets a test swap a kernel and restore it.
  if (!tf.getKernel("UnsortedSegmentSum", "wasm")) {
    tf.registerKernel({
      kernelName: "UnsortedSegmentSum",
      backendName: "wasm",
      kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
    });
  }
  for (const name of ["BatchMatMul", "_FusedMatMul", "Sum", "SplitV", "Slice"]) {
    const k = tf.getKernel(name, "wasm") as (tf.KernelConfig & { [WRAPPED]?: true }) | undefined;
    if (!k || k[WRAPPED]) continue;
    tf.unregisterKernel(name, "wasm");
    const wrapped = name === "Sum"
      ? summingByProduct(k)
      : name === "SplitV"
      ? splitByBlocks(k)
      : name === "Slice"
      ? slicingByRuns(k)
      : untransposing(k);
    tf.registerKernel({ ...wrapped, [WRAPPED]: true } as tf.KernelConfig);
  }
}
