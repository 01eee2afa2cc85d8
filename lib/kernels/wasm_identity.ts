/**
 * A copy-free `Identity` kernel for the tfjs `wasm` backend.
 *
 * Why: while a gradient tape records, tfjs-core saves every input a backward pass will need by
 * cloning it (`engine.clone` runs `Identity`), and tfjs-backend-wasm 4.22's `Identity` copies the
 * whole buffer. A DPO step of the shipped GPT-2 dispatched 428 such copies (14 ms of a 340 ms
 * step). Tensors are immutable, so the clone can share its input's buffer the way `wasm`'s own
 * `Reshape` (and `cpu`'s `Identity`) do: count one more reference and return the same data id.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** The part of tfjs-backend-wasm's `BackendWasm` this kernel uses. */
interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

function sharingIdentity(
  args: { inputs: { x: tf.TensorInfo }; backend: unknown },
): tf.TensorInfo {
  const { x } = args.inputs;
  const backend = args.backend as Partial<RefCounting>;
  if (typeof backend.incRef !== "function") {
    throw new TypeError("dpo-lab wasm Identity: the backend given has no incRef (not tfjs wasm)");
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Marks the kernel config this module installed, so a second call changes nothing. */
const SHARING = Symbol.for("dpo-lab.wasm.sharingIdentity");

/**
 * Replaces `wasm`'s copying `Identity` kernel with one that shares the input's buffer
 * (strings keep the stock kernel); idempotent. lib/backend.ts calls it when it starts `wasm`.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { registerSharingIdentity } from "./wasm_identity.ts";
 * registerSharingIdentity();
 * console.log(tf.getKernel("Identity", "wasm") !== undefined); // true
 * ```
 */
export function registerSharingIdentity(): void {
  const k = tf.getKernel("Identity", "wasm") as
    | (tf.KernelConfig & { [SHARING]?: true })
    | undefined;
  if (!k || k[SHARING]) return;
  const stock = k.kernelFunc;
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel(
    {
      ...k,
      kernelFunc:
        ((args: { inputs: { x: tf.TensorInfo }; backend: unknown }) =>
          args.inputs.x.dtype === "string"
            ? stock(args as unknown as Parameters<tf.KernelFunc>[0])
            : sharingIdentity(args)) as unknown as tf.KernelFunc,
      [SHARING]: true,
    } as tf.KernelConfig,
  );
}
