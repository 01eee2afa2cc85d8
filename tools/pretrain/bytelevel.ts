/**
 * GPT-2's byte-level alphabet: every byte gets a printable Unicode character, so a BPE
 * vocabulary over these characters can spell any UTF-8 text and never needs an unknown token.
 *
 * Printable Latin-1 bytes (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) stand for themselves; the other 68
 * bytes (controls, space, soft hyphen, ...) map in byte order to U+0100 onwards, which is why
 * a space shows up as `Ġ` (U+0120) and a newline as `Ċ` (U+010A).
 *
 * @module
 */

function buildTable(): string[] {
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
    table[b] = String.fromCodePoint(printable ? b : next++);
  }
  return table;
}

/**
 * The character standing for each byte, indexed by byte value (256 entries).
 *
 * @example
 * ```ts
 * import { BYTE_CHARS } from "./bytelevel.ts";
 * console.log(BYTE_CHARS[32], BYTE_CHARS[10], BYTE_CHARS[65]); // Ġ Ċ A
 * ```
 */
export const BYTE_CHARS: readonly string[] = buildTable();

const CHAR_TO_BYTE = new Map(BYTE_CHARS.map((c, b) => [c, b]));

/**
 * Write text's UTF-8 bytes as byte-level characters.
 *
 * @example
 * ```ts
 * import { toByteLevel } from "./bytelevel.ts";
 * console.log(toByteLevel(" Yes")); // ĠYes
 * ```
 */
export function toByteLevel(text: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(text)) out += BYTE_CHARS[b];
  return out;
}

/**
 * Read byte-level characters back into text (the inverse of {@link toByteLevel}).
 *
 * @example
 * ```ts
 * import { fromByteLevel } from "./bytelevel.ts";
 * console.log(fromByteLevel("ĠYes")); // " Yes"
 * ```
 */
export function fromByteLevel(chars: string): string {
  const bytes: number[] = [];
  for (const c of chars) {
    const b = CHAR_TO_BYTE.get(c);
    if (b === undefined) throw new RangeError(`'${c}' is not a byte-level character`);
    bytes.push(b);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
