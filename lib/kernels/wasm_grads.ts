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
 * here transpose such operands in memory first, which halves a GPT training step.
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
 * Wraps a matmul kernel of `wasm` so transposed operands are transposed in memory first: its
 * XNNPACK path is used only for untransposed operands, and its fallback loop for `transposeA`
 * or `transposeB` is 5-20x slower (measured on [512,128] x [128,4096]), which is every matmul
 * of the backward pass. A transpose costs one pass over the operand.
 */
function untransposing(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
    if (!attrs?.transposeA && !attrs?.transposeB) return original.kernelFunc(args);
    const backend = asWasmBackend(args.backend);
    const transpose = tf.getKernel("Transpose", "wasm")!.kernelFunc;
    const inputs = { ...args.inputs } as Record<string, tf.TensorInfo>;
    const temps: tf.TensorInfo[] = [];
    for (const [name, flag] of [["a", attrs.transposeA], ["b", attrs.transposeB]] as const) {
      if (!flag) continue;
      const x = inputs[name]!;
      const r = x.shape.length;
      const perm = [...Array(r).keys()];
      [perm[r - 2], perm[r - 1]] = [r - 1, r - 2];
      const t = transpose({ inputs: { x }, backend: args.backend, attrs: { perm } });
      temps.push(t as tf.TensorInfo);
      inputs[name] = t as tf.TensorInfo;
    }
    try {
      return original.kernelFunc({
        ...args,
        inputs,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  return { ...original, kernelFunc: kernelFunc as tf.KernelFunc };
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
  for (const name of ["BatchMatMul", "_FusedMatMul"]) {
    const k = tf.getKernel(name, "wasm") as (tf.KernelConfig & { [WRAPPED]?: true }) | undefined;
    if (!k || k[WRAPPED]) continue;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...untransposing(k), [WRAPPED]: true } as tf.KernelConfig);
  }
}
