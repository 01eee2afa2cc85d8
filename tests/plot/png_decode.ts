/**
 * A small PNG decoder for tests (8-bit greyscale, RGB and RGBA, non-interlaced), inflating with
 * the platform's `DecompressionStream("deflate")`. Written from the PNG specification, so it
 * checks the library's encoder and Chromium's screenshots independently.
 *
 * @module
 */

/** Decoded image: RGBA bytes, row-major. */
export interface Image {
  width: number;
  height: number;
  rgba: Uint8Array;
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decode a PNG file; throws on anything outside the supported subset. */
export async function decodePng(bytes: Uint8Array): Promise<Image> {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => bytes[i] === b)) throw new Error("not a PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, depth = 0, type = 0, interlace = 0;
  const idat: Uint8Array[] = [];
  for (let o = 8; o < bytes.length;) {
    const len = view.getUint32(o);
    const kind = String.fromCharCode(...bytes.subarray(o + 4, o + 8));
    const body = bytes.subarray(o + 8, o + 8 + len);
    if (kind === "IHDR") {
      const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = v.getUint32(0);
      height = v.getUint32(4);
      depth = body[8];
      type = body[9];
      interlace = body[12];
    } else if (kind === "IDAT") idat.push(body);
    else if (kind === "IEND") break;
    o += 12 + len;
  }
  const channels = ({ 0: 1, 2: 3, 6: 4 } as Record<number, number>)[type];
  if (depth !== 8 || !channels || interlace !== 0) {
    throw new Error(`unsupported PNG: depth ${depth}, colour type ${type}, interlace ${interlace}`);
  }
  const joined = new Uint8Array(idat.reduce((s, c) => s + c.length, 0));
  let off = 0;
  for (const c of idat) {
    joined.set(c, off);
    off += c.length;
  }
  const raw = await inflate(joined);
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error("PNG data too short");
  const pix = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pix[y * stride + x - channels] : 0;
      const b = y > 0 ? pix[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pix[(y - 1) * stride + x - channels] : 0;
      const pred = filter === 0
        ? 0
        : filter === 1
        ? a
        : filter === 2
        ? b
        : filter === 3
        ? (a + b) >> 1
        : filter === 4
        ? paeth(a, b, c)
        : NaN;
      if (Number.isNaN(pred)) throw new Error(`bad filter ${filter} on row ${y}`);
      pix[y * stride + x] = (line[x] + pred) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = pix.subarray(i * channels, i * channels + channels);
    rgba[i * 4] = s[0];
    rgba[i * 4 + 1] = channels >= 3 ? s[1] : s[0];
    rgba[i * 4 + 2] = channels >= 3 ? s[2] : s[0];
    rgba[i * 4 + 3] = channels === 4 ? s[3] : 255;
  }
  return { width, height, rgba };
}
