/**
 * Faster data-movement kernels for the tfjs `wasm` backend (4.22): row gathers and no-op
 * transposes.
 *
 * Why: `wasm`'s `GatherV2` computes every element's source through a strided index loop; the
 * token-embedding lookup of the shipped GPT-2 ([4096, 128] table, 1024 ids) and the pick of
 * scored positions took 10-17 ms per call in a DPO step's profile, for 0.5 MB of copies. A gather
 * along axis 0 is a list of whole-row copies, done here with one `copyWithin` per index. And
 * tfjs-core's gather gradient transposes by the identity permutation, which `wasm` answers with
 * a full copy of the embedding-sized gradient; a no-op permutation here shares the buffer
 * (tensors are immutable) as `Reshape` does.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  readSync(dataId: tf.DataId): tf.TypedArray;
  incRef(dataId: tf.DataId): void;
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/**
 * `x[indices[i], ...]` for every i: whole rows of a float32 or int32 tensor gathered along axis
 * 0 with no batch dimensions; anything else goes to `stock`. Out-of-range ids are an error, as
 * with the stock kernel.
 */
function rowGather(stock: tf.KernelFunc) {
  return (args: KernelArgs) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const attrs = args.attrs as { axis: number; batchDims: number };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
    if (
      axis !== 0 || (attrs.batchDims ?? 0) !== 0 || x.shape.length === 0 ||
      (x.dtype !== "float32" && x.dtype !== "int32")
    ) return stock(args as Parameters<tf.KernelFunc>[0]);
    const backend = args.backend as WasmBackendInternals;
    const rows = x.shape[0]!, rowShape = x.shape.slice(1);
    const rowBytes = 4 * tf.util.sizeFromShape(rowShape);
    const ids = backend.readSync(indices.dataId);
    const out = backend.makeOutput([...indices.shape, ...rowShape], x.dtype);
    if (rowBytes === 0 || ids.length === 0) return out;
    // Offsets are read after makeOutput: an allocation can grow (and move) the heap.
    const heap = backend.wasm.HEAPU8;
    const from = backend.dataIdMap.get(x.dataId)!.memoryOffset;
    let to = backend.dataIdMap.get(out.dataId)!.memoryOffset;
    for (let i = 0; i < ids.length; i++, to += rowBytes) {
      const id = ids[i] as number;
      if (!(id >= 0 && id < rows)) {
        throw new RangeError(`GatherV2: the index value ${id} is not in [0, ${rows - 1}]`);
      }
      const src = from + id * rowBytes;
      heap.copyWithin(to, src, src + rowBytes);
    }
    return out;
  };
}

/** Transposes whose permutation keeps the memory order share the input's buffer. */
function sharingTranspose(stock: tf.KernelFunc) {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const perm = (args.attrs as { perm: number[] }).perm;
    // Axes of size 1 can move freely; the rest must keep their order.
    const kept = perm.filter((p) => x.shape[p] !== 1);
    if (x.dtype === "string" || kept.some((p, i) => i > 0 && p < kept[i - 1]!)) {
      return stock(args as Parameters<tf.KernelFunc>[0]);
    }
    (args.backend as WasmBackendInternals).incRef(x.dataId);
    return { dataId: x.dataId, shape: perm.map((p) => x.shape[p]!), dtype: x.dtype };
  };
}

/** Marks kernel configs this module installed, so a second call changes nothing. */
const FAST = Symbol.for("dpo-lab.wasm.copies");

/**
 * Installs the row gather and the buffer-sharing no-op transpose on `wasm`, each falling back
 * to the stock kernel outside its case; idempotent. lib/backend.ts calls it when it starts
 * `wasm`.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { registerWasmCopies } from "./wasm_copies.ts";
 * registerWasmCopies();
 * console.log(tf.getKernel("GatherV2", "wasm") !== undefined); // true
 * ```
 */
export function registerWasmCopies(): void {
  for (const [name, wrap] of [["GatherV2", rowGather], ["Transpose", sharingTranspose]] as const) {
    const k = tf.getKernel(name, "wasm") as (tf.KernelConfig & { [FAST]?: true }) | undefined;
    if (!k || k[FAST]) continue;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(
      {
        ...k,
        kernelFunc: wrap(k.kernelFunc) as unknown as tf.KernelFunc,
        [FAST]: true,
      } as tf.KernelConfig,
    );
  }
}
