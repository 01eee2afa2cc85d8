/**
 * A tensor larger than the WebGPU device's `maxStorageBufferBindingSize` is refused with an error
 * naming the sizes, not computed with zeros (tfjs-webgpu binds whole buffers). Tested on the
 * machine's adapter (llvmpipe here) with the limit lowered to 1 MiB through
 * `DPO_LAB_WEBGPU_MAX_BINDING`, in a child process: the limit is fixed when the device is made.
 */
import assert from "node:assert/strict";
import { describeWebGpuAdapter } from "../../lib/backend.ts";

const hasAdapter = (await describeWebGpuAdapter()) !== undefined;

const CHILD = `
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "${new URL("../../lib/backend.ts", import.meta.url).href}";
await initBackend({ backend: "webgpu" });
// The last element of ones + 1 (2 when computed): an element-wise kernel over the whole tensor.
// (A sum is no probe here: tfjs-webgpu's reduction of 2^25 elements is wrong on its own.)
const sum = async (n) => {
  const y = tf.tidy(() => tf.slice(tf.add(tf.ones([n]), 1), [n - 1], [1]));
  try { return (await y.data())[0]; } finally { y.dispose(); }
};
const [small, big] = JSON.parse(Deno.args[0]);
const limit = tf.backend().device.limits.maxStorageBufferBindingSize;
const under = await sum(small);
let error = "";
let over;
try { over = await sum(big); } catch (e) { error = e.message; }
console.log(JSON.stringify({ limit: Number(limit), under, over, error }));
`;

async function child(sizes: [number, number], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=js", CHILD, JSON.stringify(sizes)],
    env,
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!) as {
    limit: number;
    under: number;
    over?: number;
    error: string;
  };
}

Deno.test({
  name: "webgpu: a tensor above the storage binding limit is an error, below it is computed",
  ignore: !hasAdapter,
  fn: async () => {
    // 0.76 MiB binds under a 1 MiB limit, 1.14 MiB does not.
    const r = await child([200000, 300000], { DPO_LAB_WEBGPU_MAX_BINDING: String(1 << 20) });
    assert.equal(r.under, 2);
    assert.equal(r.over, undefined, `computed ${r.over} instead of refusing`);
    assert.match(
      r.error,
      /1200000 bytes .* exceeds the device's maxStorageBufferBindingSize of 1048576/,
    );
  },
});
