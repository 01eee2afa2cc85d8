import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import {
  decodeToFloat32,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
} from "../../lib/models/safetensors.ts";

const FIXTURES = new URL("../fixtures/models/", import.meta.url).pathname;

/** Little-endian bytes of 16-bit words. */
function words(...ws: number[]): Uint8Array {
  const out = new Uint8Array(2 * ws.length);
  ws.forEach((w, i) => {
    out[2 * i] = w & 0xff;
    out[2 * i + 1] = w >> 8;
  });
  return out;
}

Deno.test("safetensors: BF16 decodes hand-encoded bit patterns exactly", () => {
  // bf16 = top 16 bits of an f32: sign | 8 exponent bits | 7 mantissa bits.
  const got = decodeToFloat32(
    words(0x3f80, 0xc000, 0x4049, 0x3e80, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0x477f),
    "BF16",
  );
  const expected = [
    1,
    -2,
    3.140625, // 0x4049: 2^1 * (1 + 0x49/128)
    0.25,
    2 ** -133, // smallest subnormal: 2^-126 * 2^-7
    -0,
    Infinity,
    -Infinity,
    NaN,
    65280, // 0x477f: 2^15 * (1 + 127/128)
  ];
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Object.is(got[i], Math.fround(expected[i])), `[${i}] ${got[i]} vs ${expected[i]}`);
  }
});

Deno.test("safetensors: F16 decodes hand-encoded bit patterns exactly", () => {
  // f16: sign | 5 exponent bits (bias 15) | 10 mantissa bits.
  const got = decodeToFloat32(
    words(0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x8000, 0x7c00, 0xfc00, 0x7e00),
    "F16",
  );
  const expected = [
    1,
    -2,
    0.333251953125, // 2^-2 * (1 + 0x155/1024)
    65504, // largest finite
    2 ** -24, // smallest subnormal
    1023 * 2 ** -24, // largest subnormal
    2 ** -14, // smallest normal
    -0,
    Infinity,
    -Infinity,
    NaN,
  ];
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Object.is(got[i], expected[i]), `[${i}] ${got[i]} vs ${expected[i]}`);
  }
});

Deno.test("safetensors: F32 and F64 decode, also from unaligned bytes", () => {
  const buf = new Uint8Array(9);
  new DataView(buf.buffer).setFloat32(1, -1.75, true);
  new DataView(buf.buffer).setFloat32(5, 1e-3, true);
  assert.deepEqual([...decodeToFloat32(buf.subarray(1), "F32")], [-1.75, Math.fround(1e-3)]);
  const d = new Uint8Array(8);
  new DataView(d.buffer).setFloat64(0, Math.PI, true);
  assert.equal(decodeToFloat32(d, "F64")[0], Math.fround(Math.PI));
  assert.throws(() => decodeToFloat32(new Uint8Array(8), "I64", "ids"), /'ids'.*I64/);
});

Deno.test("safetensors: reads a numpy-written file of mixed dtypes", async () => {
  const path = FIXTURES + "dtypes.safetensors";
  const header = await readSafetensorsHeader(path);
  assert.deepEqual([...header.tensors.keys()].sort(), ["double", "half", "ids", "single"]);
  assert.deepEqual(header.metadata, { format: "pt" });
  const t = await readSafetensors(path, { names: ["half", "single", "double"] });
  const expected = JSON.parse(await Deno.readTextFile(FIXTURES + "dtypes.expected.json"));
  assert.deepEqual(t.get("half")!.shape, [2, 3]);
  assert.deepEqual([...t.get("half")!.values], expected.half);
  assert.deepEqual([...t.get("single")!.values], [1.5, -3.25]);
  assertClose(t.get("double")!.values[0], 0.1, { rtol: 1e-7 });
});

Deno.test("safetensors: written files follow the format byte for byte", () => {
  const bytes = encodeSafetensors(
    new Map([
      ["b", { shape: [3], values: new Float32Array([1, 2, 3]) }],
      ["a", { shape: [1, 2], values: new Float32Array([-0.5, 4]) }],
    ]),
  );
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, "data section 8-byte aligned");
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(text, / *$/);
  const header = JSON.parse(text);
  assert.deepEqual(header.__metadata__, { format: "pt" });
  assert.deepEqual(header.a, { dtype: "F32", shape: [1, 2], data_offsets: [0, 8] });
  assert.deepEqual(header.b, { dtype: "F32", shape: [3], data_offsets: [8, 20] });
  assert.equal(bytes.byteLength, 8 + n + 20);
  const f = (i: number) => view.getFloat32(8 + n + 4 * i, true);
  assert.deepEqual([0, 1, 2, 3, 4].map(f), [-0.5, 4, 1, 2, 3]);
  assert.throws(
    () => encodeSafetensors(new Map([["x", { shape: [2], values: new Float32Array(3) }]])),
    /'x'/,
  );
});

Deno.test("safetensors: truncated and malformed files are reported with the tensor", async () => {
  const dir = await Deno.makeTempDir();
  const good = encodeSafetensors(
    new Map([
      ["first", { shape: [4], values: new Float32Array(4) }],
      ["second", { shape: [4], values: new Float32Array(4) }],
    ]),
  );
  const cut = `${dir}/cut.safetensors`;
  await Deno.writeFile(cut, good.subarray(0, good.byteLength - 5));
  await assert.rejects(() => readSafetensorsHeader(cut), (e: Error) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /cut\.safetensors.*truncated.*'second'/);
    return true;
  });
  const headerCut = `${dir}/header.safetensors`;
  await Deno.writeFile(headerCut, good.subarray(0, 20));
  await assert.rejects(
    () => readSafetensorsHeader(headerCut),
    /header\.safetensors.*header length/,
  );
  const tiny = `${dir}/tiny.safetensors`;
  await Deno.writeFile(tiny, new Uint8Array(3));
  await assert.rejects(() => readSafetensorsHeader(tiny), /tiny\.safetensors.*too short/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "safetensors: a Python (numpy) reader reads what we write",
  ignore: new Deno.Command("python3", { args: ["-c", "import numpy"] }).outputSync().code !== 0,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/w.safetensors`;
    const values = new Float32Array([0.25, -1, 3.5, 7, 1e-8, -2.5]);
    await Deno.writeFile(
      path,
      encodeSafetensors(new Map([["layer.weight", { shape: [2, 3], values }]])),
    );
    const out = new Deno.Command("python3", {
      args: [FIXTURES + "read_safetensors.py", path],
    }).outputSync();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(r.__metadata__, { format: "pt" });
    assert.equal(r.aligned, true);
    assert.deepEqual(r.tensors["layer.weight"].shape, [2, 3]);
    assertClose(r.tensors["layer.weight"].sum, 7.25 + 1e-8, { rtol: 1e-7 });
    await Deno.remove(dir, { recursive: true });
  },
});
