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
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

function asWasmBackend(backend: unknown): WasmBackendLike {
  const b = backend as Partial<WasmBackendLike>;
  if (typeof b?.makeOutput !== "function" || typeof b.typedArrayFromHeap !== "function") {
    throw new TypeError("UnsortedSegmentSum (dpo-lab wasm kernel): backend is not tfjs wasm");
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

/**
 * Register the kernels `wasm` needs for a transformer training step; idempotent. Call it after
 * importing `@tensorflow/tfjs-backend-wasm` (lib/backend.ts does, when it starts `wasm`).
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
  // Checking the registry (not a module flag) lets a test swap the kernel and restore it.
  if (tf.getKernel("UnsortedSegmentSum", "wasm")) return;
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
  });
}
