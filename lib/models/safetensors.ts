/**
 * A small reader and writer for the safetensors format: an 8-byte little-endian header length
 * N, N bytes of JSON (`{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__}`),
 * then the raw little-endian tensor bytes, offsets relative to the end of the header.
 *
 * Reading decodes F32, F16, BF16 and F64 to `Float32Array` (the models compute in f32) and
 * reads one tensor at a time from disk, so a multi-gigabyte file is never held whole.
 *
 * @module
 */

/** Element types this reader decodes, with their size in bytes. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** [begin, end) byte offsets relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A parsed safetensors header. */
export interface SafetensorsHeader {
  /** Path the header was read from (for error messages). */
  path: string;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** A decoded tensor: f32 values in row-major order and the shape. */
export interface DecodedTensor {
  shape: number[];
  values: Float32Array;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * Read and validate the header of a safetensors file: every entry's dtype, shape and offsets
 * are checked against each other and against the file size (a truncated file is reported
 * with the first tensor that does not fit).
 *
 * @example
 * ```ts ignore
 * const header = await readSafetensorsHeader("model.safetensors");
 * console.log([...header.tensors.keys()]);
 * ```
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    if (size < 8) throw new RangeError(`${path}: file is ${size} bytes, too short for safetensors`);
    const lenBytes = await readExactly(file, 0, 8, path, "header length");
    const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
      throw new RangeError(
        `${path}: header length ${headerLen} does not fit in a ${size}-byte file (truncated or not safetensors)`,
      );
    }
    const jsonBytes = await readExactly(file, 8, headerLen, path, "header");
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(new TextDecoder().decode(jsonBytes));
    } catch (e) {
      throw new TypeError(`${path}: header is not valid JSON (${(e as Error).message})`);
    }
    const dataStart = 8 + headerLen;
    const dataSize = size - dataStart;
    const tensors = new Map<string, SafetensorsEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (name === "__metadata__") {
        metadata = (value ?? {}) as Record<string, string>;
        continue;
      }
      const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const bytes = SAFETENSORS_DTYPE_BYTES[String(v.dtype)];
      if (bytes === undefined) {
        throw new TypeError(`${path}: tensor '${name}' has unsupported dtype ${v.dtype}`);
      }
      const shape = v.shape;
      const offs = v.data_offsets;
      if (
        !Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0) ||
        !Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o))
      ) {
        throw new TypeError(`${path}: tensor '${name}' has a malformed shape or data_offsets`);
      }
      const [begin, end] = offs as [number, number];
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      if (end - begin !== count * bytes || begin < 0) {
        throw new RangeError(
          `${path}: tensor '${name}' data_offsets [${begin}, ${end}] do not hold ${v.dtype} shape [${shape}]`,
        );
      }
      if (end > dataSize) {
        throw new RangeError(
          `${path}: truncated file: tensor '${name}' ends at data byte ${end} but the file holds ${dataSize}`,
        );
      }
      tensors.set(name, {
        dtype: String(v.dtype),
        shape: shape as number[],
        dataOffsets: [begin, end],
      });
    }
    return { path, dataStart, tensors, metadata };
  } finally {
    file.close();
  }
}

/**
 * Read every (or the named) tensor of a safetensors file, decoded to f32.
 *
 * @example
 * ```ts ignore
 * const tensors = await readSafetensors("model.safetensors");
 * console.log(tensors.get("transformer.wte.weight")?.shape);
 * ```
 */
export async function readSafetensors(
  path: string,
  opts: { names?: Iterable<string>; header?: SafetensorsHeader } = {},
): Promise<Map<string, DecodedTensor>> {
  const header = opts.header ?? await readSafetensorsHeader(path);
  const names = opts.names ? [...opts.names] : [...header.tensors.keys()];
  const out = new Map<string, DecodedTensor>();
  const file = await Deno.open(path, { read: true });
  try {
    for (const name of names) {
      const entry = header.tensors.get(name);
      if (!entry) throw new RangeError(`${path}: no tensor named '${name}'`);
      const [begin, end] = entry.dataOffsets;
      const bytes = await readExactly(file, header.dataStart + begin, end - begin, path, name);
      out.set(name, { shape: entry.shape, values: decodeToFloat32(bytes, entry.dtype, name) });
    }
  } finally {
    file.close();
  }
  return out;
}

/**
 * Decode little-endian tensor bytes of a floating dtype to f32. BF16 is the top half of an
 * f32, so it widens exactly; F16 widens exactly too (every half is representable in f32).
 *
 * @example
 * ```ts
 * import { decodeToFloat32 } from "./safetensors.ts";
 * const bf16 = new Uint8Array([0x80, 0x3f]); // 1.0
 * console.log(decodeToFloat32(bf16, "BF16")[0]); // 1
 * ```
 */
export function decodeToFloat32(bytes: Uint8Array, dtype: string, name = "tensor"): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "F32": {
      if (bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN) {
        return new Float32Array(bytes.slice().buffer);
      }
      const out = new Float32Array(bytes.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case "F64": {
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case "BF16": {
      const n = bytes.byteLength / 2;
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return new Float32Array(bits.buffer);
    }
    case "F16": {
      const n = bytes.byteLength / 2;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    default:
      throw new TypeError(
        `tensor '${name}': dtype ${dtype} is not a floating type this loader reads`,
      );
  }
}

/** IEEE 754 binary16 bits to a number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Serialize f32 tensors as a safetensors file (dtype F32, tensors in name order, JSON header
 * padded with spaces to a multiple of 8 bytes so the data section is 8-byte aligned).
 *
 * @example
 * ```ts
 * import { encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(new Map([["w", { shape: [2], values: new Float32Array([1, 2]) }]]));
 * console.log(bytes.byteLength);
 * ```
 */
export function encodeSafetensors(
  tensors: Map<string, DecodedTensor>,
  opts: { metadata?: Record<string, string> } = {},
): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: opts.metadata ?? { format: "pt" } };
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.values.length) {
      throw new RangeError(
        `tensor '${name}': shape [${t.shape}] does not match ${t.values.length} values`,
      );
    }
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const name of names) {
    const v = tensors.get(name)!.values;
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), pos);
    } else {
      for (let i = 0; i < v.length; i++) view.setFloat32(pos + 4 * i, v[i], true);
    }
    pos += v.byteLength;
  }
  return out;
}

async function readExactly(
  file: Deno.FsFile,
  position: number,
  length: number,
  path: string,
  what: string,
): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  await file.seek(position, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) {
      throw new RangeError(
        `${path}: truncated file while reading '${what}' (${got}/${length} bytes)`,
      );
    }
    got += n;
  }
  return buf;
}
