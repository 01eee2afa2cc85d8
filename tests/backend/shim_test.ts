/**
 * The WebGPU adapter shim, against a fake adapter that behaves as Deno's does on the two points
 * that break tfjs-backend-webgpu 4.22: `requestDevice` rejects (TypeError) a `requiredFeatures`
 * entry that is not a string, and `adapter.info` throws once a device has been created.
 */
import assert from "node:assert/strict";
import { installWebGpuShim, shimAdapter } from "../../lib/backend.ts";

const INFO = { vendor: "fake-vendor", architecture: "fake-arch", device: "", description: "fake" };

/** A fake GPUAdapter; `lastFeatures` records what `requestDevice` was given. */
class FakeAdapter {
  readonly features: Set<string>;
  readonly limits: Record<string, number | bigint> = {
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeWorkgroupsPerDimension: 65535,
    maxStorageBufferBindingSize: 1 << 27,
    maxBufferSize: 1 << 28,
    maxComputeWorkgroupSizeX: 256,
    maxComputeInvocationsPerWorkgroup: 256,
    minStorageBufferOffsetAlignment: 256,
  };
  deviceCreated = false;
  lastFeatures: unknown[] | undefined;
  lastLimits: Record<string, unknown> | undefined;

  constructor(features: string[], limits: Record<string, number | bigint> = {}) {
    this.features = new Set(features);
    Object.assign(this.limits, limits);
  }

  get info(): typeof INFO {
    if (this.deviceCreated) throw new Error("adapter info is no longer available");
    return INFO;
  }

  requestDevice(
    desc?: { requiredFeatures?: unknown[]; requiredLimits?: Record<string, unknown> },
  ): Promise<{ label: string }> {
    const feats = desc?.requiredFeatures ?? [];
    for (const f of feats) {
      if (typeof f !== "string") {
        return Promise.reject(new TypeError(`requiredFeatures: '${f}' is not a GPUFeatureName`));
      }
    }
    // Deno's WebIDL conversion of a GPUSize64 record entry, and the spec's limit checks.
    for (const [k, v] of Object.entries(desc?.requiredLimits ?? {})) {
      if (typeof v === "bigint") {
        return Promise.reject(new TypeError("Cannot convert a BigInt value to a number"));
      }
      const a = Number(this.limits[k]);
      const bad = k.startsWith("min") ? (v as number) < a : (v as number) > a;
      if (bad) return Promise.reject(new Error(`requiredLimits.${k} = ${v} is beyond ${a}`));
    }
    this.lastLimits = { ...desc?.requiredLimits };
    this.lastFeatures = [...feats];
    this.deviceCreated = true;
    return Promise.resolve({ label: "fake device" });
  }
}

/**
 * What tfjs-backend-webgpu 4.22's `registerBackend('webgpu', ...)` factory does with the adapter
 * (dist/tf-backend-webgpu.node.js, near line 2112): request it, push 'timestamp-query' as a
 * string and 'bgra8unorm-storage' inside an array, copy limits, request the device, then read
 * `adapter.info` (or `requestAdapterInfo()` where `info` is absent).
 */
async function tfjsWebGpuFactorySteps(
  gpu: { requestAdapter(o?: unknown): Promise<unknown> },
): Promise<{ device: unknown; adapterInfo: unknown }> {
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" }) as FakeAdapter;
  const requiredFeatures: unknown[] = [];
  if (adapter.features.has("timestamp-query")) requiredFeatures.push("timestamp-query");
  if (adapter.features.has("bgra8unorm-storage")) requiredFeatures.push(["bgra8unorm-storage"]);
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  } as { requiredFeatures: unknown[] });
  // Loosely typed on purpose: tfjs tests for `info` with `in`, which the fake always has.
  const loose = adapter as unknown as Record<string, unknown>;
  const adapterInfo = "info" in loose
    ? loose.info
    : "requestAdapterInfo" in loose
    ? await (loose.requestAdapterInfo as () => Promise<unknown>)()
    : undefined;
  return { device, adapterInfo };
}

const fakeGpu = (a: FakeAdapter) => ({ requestAdapter: () => Promise.resolve(a) });
const shimmedGpu = (a: FakeAdapter) => ({
  requestAdapter: () => Promise.resolve(shimAdapter(a as unknown as GPUAdapter)),
});

Deno.test("without the shim, tfjs's nested feature array is rejected with a TypeError", async () => {
  const a = new FakeAdapter(["timestamp-query", "bgra8unorm-storage"]);
  await assert.rejects(tfjsWebGpuFactorySteps(fakeGpu(a)), TypeError);
});

Deno.test("without the shim, reading adapter.info after requestDevice throws", async () => {
  // No bgra8unorm-storage, so the device request succeeds and the second problem shows.
  const a = new FakeAdapter(["timestamp-query"]);
  await assert.rejects(tfjsWebGpuFactorySteps(fakeGpu(a)), /no longer available/);
  assert.equal(a.deviceCreated, true);
});

Deno.test("through shimAdapter, tfjs's steps succeed with flattened features and info", async () => {
  const a = new FakeAdapter(["timestamp-query", "bgra8unorm-storage"]);
  const { device, adapterInfo } = await tfjsWebGpuFactorySteps(shimmedGpu(a));
  assert.deepEqual(device, { label: "fake device" });
  assert.deepEqual(a.lastFeatures, ["timestamp-query", "bgra8unorm-storage"]);
  const info = adapterInfo as Record<string, unknown>;
  assert.equal(info.description, "fake");
  assert.equal(info.vendor, "fake-vendor");
  assert.equal(info.isFallbackAdapter, false);
});

Deno.test("shimAdapter: requestAdapterInfo answers from the copy; other members pass through", async () => {
  const a = new FakeAdapter(["timestamp-query"]);
  const s = shimAdapter(a as unknown as GPUAdapter) as unknown as FakeAdapter & {
    requestAdapterInfo(): Promise<typeof INFO>;
  };
  await s.requestDevice({ requiredFeatures: ["timestamp-query", "timestamp-query"] });
  assert.deepEqual(a.lastFeatures, ["timestamp-query"], "duplicates are dropped");
  assert.equal((await s.requestAdapterInfo()).description, "fake");
  assert.equal(s.features.has("timestamp-query"), true);
  assert.equal(s.limits.maxBufferSize, 1 << 28);
});

/** What Deno's WebGPU reports on NVIDIA under Linux: u64::MAX as a BigInt. */
const NVIDIA_LIKE = {
  maxBufferSize: 18446744073709551615n,
  maxStorageBufferBindingSize: 2147483648n,
  maxComputeWorkgroupsPerDimension: 65535n,
};

Deno.test("without the shim, BigInt adapter limits make the device request fail", async () => {
  const a = new FakeAdapter([], NVIDIA_LIKE);
  await assert.rejects(tfjsWebGpuFactorySteps(fakeGpu(a)), /Cannot convert a BigInt/);
});

Deno.test("through shimAdapter, BigInt limits become Numbers within i32 indexing", async () => {
  const a = new FakeAdapter(["timestamp-query"], NVIDIA_LIKE);
  await tfjsWebGpuFactorySteps(shimmedGpu(a));
  // 2^31 - 4: the largest multiple of 4 an i32 byte offset reaches; the binding is capped by it.
  assert.deepEqual(a.lastLimits, {
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeWorkgroupsPerDimension: 65535,
    maxStorageBufferBindingSize: 2147483644,
    maxBufferSize: 2147483644,
    maxComputeWorkgroupSizeX: 256,
    maxComputeInvocationsPerWorkgroup: 256,
  });
  const s = shimAdapter(new FakeAdapter([], NVIDIA_LIKE) as unknown as GPUAdapter);
  for (const [k, v] of Object.entries(s.limits)) assert.equal(typeof v, "number", k);
  assert.equal(s.limits.minStorageBufferOffsetAlignment, 256, "alignments are kept");
});

Deno.test("shimAdapter: DPO_LAB_WEBGPU_MAX_BINDING lowers the binding limit requested", async () => {
  Deno.env.set("DPO_LAB_WEBGPU_MAX_BINDING", String(1 << 20));
  try {
    const a = new FakeAdapter([]);
    await tfjsWebGpuFactorySteps(shimmedGpu(a));
    assert.equal(a.lastLimits?.maxStorageBufferBindingSize, 1 << 20);
    assert.equal(a.lastLimits?.maxBufferSize, 1 << 28, "the buffer size is not lowered");
  } finally {
    Deno.env.delete("DPO_LAB_WEBGPU_MAX_BINDING");
  }
});

Deno.test("installWebGpuShim routes navigator.gpu.requestAdapter through the shim", async () => {
  const a = new FakeAdapter(["timestamp-query", "bgra8unorm-storage"]);
  const gpu = fakeGpu(a);
  const nav = navigator as unknown as Record<string, unknown>;
  Object.defineProperty(nav, "gpu", { value: undefined, configurable: true });
  try {
    assert.equal(installWebGpuShim(), false, "no navigator.gpu: nothing to install");
    Object.defineProperty(nav, "gpu", { value: gpu, configurable: true });
    // Before installing, the factory's steps fail on the fake as they would on Deno.
    await assert.rejects(tfjsWebGpuFactorySteps(gpu), TypeError);
    assert.equal(installWebGpuShim(), true);
    assert.equal(installWebGpuShim(), true, "idempotent");
    // The rejected request above created no device, so the same fake adapter serves again.
    const { adapterInfo } = await tfjsWebGpuFactorySteps(gpu);
    assert.equal((adapterInfo as { description: string }).description, "fake");
    assert.deepEqual(a.lastFeatures, ["timestamp-query", "bgra8unorm-storage"]);
  } finally {
    delete nav.gpu;
  }
});
