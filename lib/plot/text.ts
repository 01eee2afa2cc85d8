/**
 * Plotly's small rich-text dialect (`<b>`, `<i>`, `<sub>`, `<sup>`, `<br>`, entities) turned
 * into SVG `<tspan>`s, plus XML escaping and a rough text-width estimate (no font metrics are
 * available in the kernel).
 *
 * @module
 */

/**
 * Escape text for XML/HTML element content and attribute values.
 *
 * @example
 * ```ts
 * import { escapeXml } from "./text.ts";
 * console.log(escapeXml(`a < b & "c"`)); // "a &lt; b &amp; &quot;c&quot;"
 * ```
 */
export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|nbsp);/gi, (_, e: string) => {
    const k = e.toLowerCase();
    if (k.startsWith("#x")) return String.fromCodePoint(parseInt(k.slice(2), 16));
    if (k.startsWith("#")) return String.fromCodePoint(parseInt(k.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" }[k] ?? "";
  });
}

interface Run {
  text: string;
  bold: boolean;
  italic: boolean;
  shift: "sub" | "super" | null;
}

/** Split rich text into lines of styled runs. Unknown tags are dropped, their text kept. */
export function parseRichText(s: string): Run[][] {
  const lines: Run[][] = [[]];
  const stack: string[] = [];
  const re = /<(\/?)([a-z]+)[^>]*>/gi;
  let last = 0;
  const push = (text: string) => {
    if (!text) return;
    lines[lines.length - 1].push({
      text: decodeEntities(text),
      bold: stack.includes("b") || stack.includes("strong"),
      italic: stack.includes("i") || stack.includes("em"),
      shift: stack.includes("sub") ? "sub" : stack.includes("sup") ? "super" : null,
    });
  };
  for (let m = re.exec(s); m; m = re.exec(s)) {
    push(s.slice(last, m.index));
    last = m.index + m[0].length;
    const tag = m[2].toLowerCase();
    if (tag === "br") lines.push([]);
    else if (m[1]) {
      const i = stack.lastIndexOf(tag);
      if (i >= 0) stack.splice(i, 1);
    } else stack.push(tag);
  }
  push(s.slice(last));
  return lines;
}

/**
 * The visible characters of rich text, lines joined by spaces.
 *
 * @example
 * ```ts
 * import { plainText } from "./text.ts";
 * console.log(plainText("u<sub>w</sub> (nats)<br>step")); // "uw (nats) step"
 * ```
 */
export function plainText(s: string): string {
  return parseRichText(s).map((l) => l.map((r) => r.text).join("")).join(" ");
}

/** Approximate rendered width in px of rich text at `size` px (average glyph ~0.58 em). */
export function textWidth(s: string, size: number): number {
  const widest = Math.max(
    0,
    ...parseRichText(s).map((l) =>
      l.reduce((w, r) => w + [...r.text].length * (r.shift ? 0.7 : 1), 0)
    ),
  );
  return widest * size * 0.58;
}

/** Options for {@link svgText}. */
export interface SvgTextOptions {
  size: number;
  family?: string;
  color?: string;
  anchor?: "start" | "middle" | "end";
  /** Where (x, y) sits relative to the text block. */
  baseline?: "top" | "middle" | "bottom";
  /** Degrees, counter-clockwise is negative as in SVG. */
  rotate?: number;
  weight?: "normal" | "bold";
}

const n2 = (v: number) => String(Math.round(v * 100) / 100);

/**
 * An SVG `<text>` element for rich text, multi-line aware, anchored at (x, y). Vertical placement
 * uses `dy` offsets rather than `dominant-baseline`, which some static renderers ignore.
 */
export function svgText(x: number, y: number, s: string, o: SvgTextOptions): string {
  const lines = parseRichText(s);
  const lh = 1.2;
  // Offset of the first baseline, in em, so the block's ascenders (top) or descenders
  // (bottom) touch y, or its capitals centre on it (middle).
  const first = o.baseline === "top"
    ? 0.8
    : o.baseline === "middle"
    ? 0.35 - ((lines.length - 1) * lh) / 2
    : -0.25 - (lines.length - 1) * lh;
  const attrs = [
    `x="${n2(x)}"`,
    `y="${n2(y)}"`,
    `font-size="${n2(o.size)}"`,
    o.family ? `font-family="${escapeXml(o.family)}"` : "",
    o.color ? `fill="${escapeXml(o.color)}"` : "",
    o.anchor && o.anchor !== "start" ? `text-anchor="${o.anchor}"` : "",
    o.weight === "bold" ? `font-weight="bold"` : "",
    o.rotate ? `transform="rotate(${n2(o.rotate)} ${n2(x)} ${n2(y)})"` : "",
  ].filter(Boolean).join(" ");
  const body = lines.map((runs, i) => {
    const inner = runs.map((r) => {
      const a = [
        r.bold ? `font-weight="bold"` : "",
        r.italic ? `font-style="italic"` : "",
        r.shift ? `baseline-shift="${r.shift}" font-size="70%"` : "",
      ].filter(Boolean).join(" ");
      return a ? `<tspan ${a}>${escapeXml(r.text)}</tspan>` : escapeXml(r.text);
    }).join("");
    const dy = i === 0 ? first : lh;
    return `<tspan x="${n2(x)}" dy="${n2(dy)}em">${inner}</tspan>`;
  }).join("");
  return `<text ${attrs}>${body}</text>`;
}
