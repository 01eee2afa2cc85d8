/**
 * Colour parsing and colorscale lookup, shared by the builders (translucent fills) and the SVG
 * renderer (heatmap cells, colorbars).
 *
 * @module
 */
import { COLORSCALES } from "./style.ts";
import type { Colorscale } from "./types.ts";

/** An sRGB colour with 0..255 channels and 0..1 alpha. */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

const NAMED: Record<string, string> = {
  black: "#000000",
  white: "#FFFFFF",
  grey: "#808080",
  gray: "#808080",
  red: "#FF0000",
  green: "#008000",
  blue: "#0000FF",
  transparent: "rgba(0,0,0,0)",
};

/**
 * Parse `#RGB`, `#RRGGBB`, `#RRGGBBAA`, `rgb(...)`, `rgba(...)` or a few CSS names.
 *
 * @example
 * ```ts
 * import { parseColor } from "./color.ts";
 * console.log(parseColor("#0072B2")); // { r: 0, g: 114, b: 178, a: 1 }
 * ```
 */
export function parseColor(color: string): Rgba {
  const c = (NAMED[color.trim().toLowerCase()] ?? color).trim();
  let m = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(c);
  if (m) {
    let hex = m[1];
    if (hex.length === 3) hex = [...hex].map((h) => h + h).join("");
    const n = (i: number) => parseInt(hex.slice(i, i + 2), 16);
    return { r: n(0), g: n(2), b: n(4), a: hex.length === 8 ? n(6) / 255 : 1 };
  }
  m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(c);
  if (m) {
    return { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] };
  }
  throw new TypeError(`parseColor: unsupported colour "${color}" (use #RRGGBB or rgb[a](...))`);
}

/**
 * The colour as `rgba(r,g,b,alpha)`, e.g. a translucent fill matching a line colour.
 *
 * @example
 * ```ts
 * import { withAlpha } from "./color.ts";
 * console.log(withAlpha("#0072B2", 0.3)); // "rgba(0,114,178,0.3)"
 * ```
 */
export function withAlpha(color: string, alpha: number): string {
  const { r, g, b } = parseColor(color);
  return `rgba(${r},${g},${b},${alpha})`;
}

/** `#RRGGBB` of an Rgba (alpha dropped). */
export function toHex({ r, g, b }: Rgba): string {
  const h = (v: number) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, "0");
  return `#${h(r)}${h(g)}${h(b)}`.toUpperCase();
}

/**
 * Resolve a colorscale given as stops or by name (`viridis`, `diverging`, `greys`, also plotly's
 * `RdBu`-style names fall back to viridis; case-insensitive).
 */
export function resolveColorscale(scale: Colorscale | string | undefined): Colorscale {
  if (Array.isArray(scale)) {
    if (scale.length < 2) {
      throw new RangeError(`colorscale needs at least 2 stops, got ${scale.length}`);
    }
    return scale;
  }
  const key = (scale ?? "viridis").toLowerCase();
  return (COLORSCALES as Record<string, Colorscale>)[key] ?? COLORSCALES.viridis;
}

/**
 * Colour at fraction `t` (clamped to 0..1) of a colorscale, linearly interpolated in sRGB.
 *
 * @example
 * ```ts
 * import { colorAt } from "./color.ts";
 * console.log(colorAt([[0, "#000000"], [1, "#FFFFFF"]], 0.5)); // { r: 127.5, g: 127.5, b: 127.5, a: 1 }
 * ```
 */
export function colorAt(scale: Colorscale, t: number): Rgba {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  for (let i = 1; i < scale.length; i++) {
    const [t1, c1] = scale[i];
    if (x <= t1 || i === scale.length - 1) {
      const [t0, c0] = scale[i - 1];
      const f = t1 > t0 ? Math.min(1, Math.max(0, (x - t0) / (t1 - t0))) : 1;
      const a = parseColor(c0), b = parseColor(c1);
      return {
        r: a.r + f * (b.r - a.r),
        g: a.g + f * (b.g - a.g),
        b: a.b + f * (b.b - a.b),
        a: a.a + f * (b.a - a.a),
      };
    }
  }
  return parseColor(scale[scale.length - 1][1]);
}
