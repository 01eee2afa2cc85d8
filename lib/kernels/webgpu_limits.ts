/**
 * WebGPU limits as tfjs-backend-webgpu 4.22 can use them, and a guard against tensors larger
 * than a storage binding.
 *
 * On NVIDIA under Linux, Deno's WebGPU reports some limits (`maxBufferSize`, possibly others) as
 * a BigInt (u64::MAX); tfjs copies them into `requestDevice`'s `requiredLimits` and the device
 * request fails ("Cannot convert a BigInt value to a number"). {@link numericLimits} turns every
 * limit into a Number, clamped to what tfjs's 32-bit (i32) indexing can address: buffer sizes to
 * the largest multiple of 4 below 2^31, any other limit to 2^31 - 1. A requested limit below the
 * adapter's is always valid, so clamping never makes a device request fail.
 *
 * A tensor larger than the device's `maxStorageBufferBindingSize` cannot be bound whole; tfjs
 * binds whole buffers, the binding fails validation, and the kernel computes with zeros without
 * an error (llvmpipe binds 128 MiB; GPT-2's 147 MiB token embedding gave a NaN loss).
 * {@link guardStorageBinding} makes such an allocation throw an error naming the sizes instead.
 *
 * `DPO_LAB_WEBGPU_MAX_BINDING=BYTES` lowers the binding limit the device is requested with (to
 * test the guard on a small adapter, or to reproduce a smaller GPU's limit).
 *
 * @module
 */

/** Environment variable: a lower `maxStorageBufferBindingSize` (bytes) for the device. */
export const MAX_BINDING_ENV = "DPO_LAB_WEBGPU_MAX_BINDING";

/** Largest buffer size tfjs's i32 byte indexing can address: 2^31 - 4 (a multiple of 4). */
export const MAX_I32_BUFFER_BYTES = 2 ** 31 - 4;
/** Largest value of any other limit handed to tfjs. */
export const MAX_I32 = 2 ** 31 - 1;

/** The limits of WebGPU's GPUSupportedLimits (2024 spec); any others the adapter lists are kept. */
export const LIMIT_NAMES: readonly string[] = [
  "maxTextureDimension1D",
  "maxTextureDimension2D",
  "maxTextureDimension3D",
  "maxTextureArrayLayers",
  "maxBindGroups",
  "maxBindGroupsPlusVertexBuffers",
  "maxBindingsPerBindGroup",
  "maxDynamicUniformBuffersPerPipelineLayout",
  "maxDynamicStorageBuffersPerPipelineLayout",
  "maxSampledTexturesPerShaderStage",
  "maxSamplersPerShaderStage",
  "maxStorageBuffersPerShaderStage",
  "maxStorageTexturesPerShaderStage",
  "maxUniformBuffersPerShaderStage",
  "maxUniformBufferBindingSize",
  "maxStorageBufferBindingSize",
  "minUniformBufferOffsetAlignment",
  "minStorageBufferOffsetAlignment",
  "maxVertexBuffers",
  "maxBufferSize",
  "maxVertexAttributes",
  "maxVertexBufferArrayStride",
  "maxInterStageShaderComponents",
  "maxInterStageShaderVariables",
  "maxColorAttachments",
  "maxColorAttachmentBytesPerSample",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
];

const BYTE_LIMITS = new Set([
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxUniformBufferBindingSize",
]);

/**
 * One limit as a Number tfjs can use: BigInt and Number alike, clamped (see the module); the
 * `min...Alignment` limits are kept as they are (a smaller alignment would be invalid).
 *
 * @example
 * ```ts
 * import { numericLimit } from "./webgpu_limits.ts";
 * console.log(numericLimit("maxBufferSize", 18446744073709551615n)); // 2147483644
 * console.log(numericLimit("maxBindGroups", 4)); // 4
 * ```
 */
export function numericLimit(name: string, value: number | bigint): number {
  const cap = BYTE_LIMITS.has(name) ? MAX_I32_BUFFER_BYTES : MAX_I32;
  if (typeof value === "bigint") return value > BigInt(cap) ? cap : Number(value);
  if (name.startsWith("min")) return value;
  return Math.min(value, cap);
}

/**
 * Every limit of `limits` (the names in {@link LIMIT_NAMES} and any other enumerable ones) as a
 * plain object of Numbers, clamped; `maxStorageBufferBindingSize` lowered to `maxBinding`
 * when given (and to `maxBufferSize`, which no binding can exceed).
 *
 * @example
 * ```ts
 * import { numericLimits } from "./webgpu_limits.ts";
 * const l = numericLimits({ maxBufferSize: 2n ** 64n - 1n, maxStorageBufferBindingSize: 2n ** 32n });
 * console.log(l.maxBufferSize, l.maxStorageBufferBindingSize); // 2147483644 2147483644
 * ```
 */
export function numericLimits(
  limits: object,
  opts: { maxBinding?: number } = {},
): Record<string, number> {
  const src = limits as Record<string, unknown>;
  const names = new Set(LIMIT_NAMES);
  for (const k in src) names.add(k);
  const out: Record<string, number> = {};
  for (const k of names) {
    const v = src[k];
    if (typeof v === "number" || typeof v === "bigint") out[k] = numericLimit(k, v);
  }
  const binding = out.maxStorageBufferBindingSize;
  if (binding !== undefined) {
    let b = Math.min(binding, out.maxBufferSize ?? binding);
    if (opts.maxBinding !== undefined) b = Math.min(b, opts.maxBinding);
    out.maxStorageBufferBindingSize = b;
  }
  return out;
}

/** The binding limit asked for by {@link MAX_BINDING_ENV}, or undefined; bad values throw. */
export function maxBindingFromEnv(): number | undefined {
  const v = Deno.env.get(MAX_BINDING_ENV);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 4) {
    throw new RangeError(`${MAX_BINDING_ENV}: expected a byte count >= 4, got '${v}'`);
  }
  return n;
}

/** The parts of tfjs-backend-webgpu's backend (4.22) the guard uses. */
interface WebGpuBackendLike {
  device: { limits: object };
  bufferManager: {
    acquireBuffer(size: number, usage: number, ...rest: unknown[]): unknown;
  };
}

const GUARDED = Symbol.for("dpo-lab.webgpu.bindingGuard");
/** GPUBufferUsage.STORAGE (spelled out: the constant exists only where WebGPU does). */
const STORAGE = 0x80;

/**
 * Makes tfjs-webgpu's buffer manager refuse a storage buffer larger than the device's
 * `maxStorageBufferBindingSize`, with an error naming both sizes, instead of computing with
 * zeros. Idempotent; returns the limit in bytes.
 *
 * @example
 * ```ts
 * import { guardStorageBinding } from "./webgpu_limits.ts";
 * const fake = {
 *   device: { limits: { maxStorageBufferBindingSize: 1024 } },
 *   bufferManager: { acquireBuffer: (size: number, _usage: number) => size },
 * };
 * guardStorageBinding(fake);
 * let message = "";
 * try { fake.bufferManager.acquireBuffer(4096, 0x80); } catch (e) { message = String(e); }
 * console.log(message.includes("4096 bytes")); // true
 * ```
 */
export function guardStorageBinding(backend: unknown): number {
  const b = backend as WebGpuBackendLike & { [GUARDED]?: number };
  if (typeof b?.bufferManager?.acquireBuffer !== "function" || !b.device?.limits) {
    throw new TypeError("guardStorageBinding: the backend given is not tfjs webgpu");
  }
  // The device was requested with the lowered limit; the environment is read again in case
  // an implementation reports its default instead of the requested value.
  const limits = numericLimits(b.device.limits, { maxBinding: maxBindingFromEnv() });
  const limit = limits.maxStorageBufferBindingSize ?? MAX_I32_BUFFER_BYTES;
  if (b[GUARDED] !== undefined) return b[GUARDED];
  const manager = b.bufferManager;
  const acquire = manager.acquireBuffer.bind(manager);
  manager.acquireBuffer = (size: number, usage: number, ...rest: unknown[]) => {
    if ((usage & STORAGE) !== 0 && size > limit) {
      throw new RangeError(
        `webgpu: a tensor of ${size} bytes (${(size / 2 ** 20).toFixed(1)} MiB) exceeds the ` +
          `device's maxStorageBufferBindingSize of ${limit} bytes ` +
          `(${(limit / 2 ** 20).toFixed(1)} MiB); tfjs-webgpu would compute with zeros. ` +
          `Use a smaller model or batch, or the wasm or cpu backend.`,
      );
    }
    return acquire(size, usage, ...rest);
  };
  b[GUARDED] = limit;
  return limit;
}
