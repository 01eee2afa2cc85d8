/**
 * The house style: a colour-blind-safe palette (Okabe & Ito, "Color Universal Design", 2008),
 * colorscales, and the layout defaults every builder starts from, so all figures look alike in
 * the browser (plotly) and in the static SVG fallback.
 *
 * @module
 */
import type { Axis, Colorscale, Layout } from "./types.ts";

/**
 * The eight Okabe-Ito colours, distinguishable under the common colour-vision deficiencies.
 *
 * @example
 * ```ts
 * import { OKABE_ITO } from "./style.ts";
 * console.log(OKABE_ITO.blue); // "#0072B2"
 * ```
 */
export const OKABE_ITO = {
  black: "#000000",
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  bluishGreen: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  reddishPurple: "#CC79A7",
} as const;

/**
 * Series colours in order of use. Yellow comes last: it has little contrast on white.
 *
 * @example
 * ```ts
 * import { PALETTE } from "./style.ts";
 * console.log(PALETTE.length); // 8
 * ```
 */
export const PALETTE: readonly string[] = [
  OKABE_ITO.blue,
  OKABE_ITO.vermillion,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.orange,
  OKABE_ITO.skyBlue,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.black,
  OKABE_ITO.yellow,
];

/**
 * Fixed colours for quantities that recur across figures, so "chosen" is the same blue
 * everywhere in a write-up.
 *
 * @example
 * ```ts
 * import { ROLE_COLORS } from "./style.ts";
 * console.log(ROLE_COLORS.rejected); // "#D55E00"
 * ```
 */
export const ROLE_COLORS = {
  chosen: OKABE_ITO.blue,
  rejected: OKABE_ITO.vermillion,
  margin: OKABE_ITO.bluishGreen,
  accuracy: OKABE_ITO.black,
  /** Background context: non-highlighted pairs, "everything else" mass. */
  context: "#B8B8B8",
} as const;

/**
 * Twenty colours for figures with more series than {@link PALETTE} holds: the palette's first
 * seven, then darker and lighter qualitative colours, no two closer than ΔE*ab 22 in CIELAB.
 *
 * @example
 * ```ts
 * import { LONG_PALETTE } from "./style.ts";
 * console.log(LONG_PALETTE.length, new Set(LONG_PALETTE).size); // 20 20
 * ```
 */
export const LONG_PALETTE: readonly string[] = [
  ...PALETTE.slice(0, 7),
  "#332288", // indigo
  "#882255", // wine
  "#117733", // green
  "#999933", // olive
  "#AA4499", // purple
  "#661100", // brown
  "#888888", // grey
  "#DDCC77", // sand
  OKABE_ITO.yellow,
  "#FB9A99", // pink
  "#8C564B", // red-brown
  "#17BECF", // cyan
  "#CAB2D6", // lavender
];

/**
 * The colour of series `i` of `count` (cycles): {@link PALETTE} for up to 8 series, else
 * {@link LONG_PALETTE}, so a figure of up to 20 series never repeats a colour.
 *
 * @example
 * ```ts
 * import { seriesColor } from "./style.ts";
 * console.log(seriesColor(9)); // "#D55E00" (wraps around the 8 colours)
 * console.log(seriesColor(9, 16)); // "#882255" (16 series: the long palette)
 * ```
 */
export function seriesColor(i: number, count = 0): string {
  const pal = count > PALETTE.length ? LONG_PALETTE : PALETTE;
  const n = pal.length;
  return pal[((Math.trunc(i) % n) + n) % n];
}

/**
 * One colour per series name, to pin: pass every name a study plots (in a fixed order) once and
 * colour each figure's series by `colors[name]`, so a series keeps its colour across figures.
 * Up to 8 names take {@link PALETTE}, more {@link LONG_PALETTE}; repeated names are ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seriesColors } from "./style.ts";
 * const colors = seriesColors(["dpo", "ipo", "dpo"]);
 * assert.deepEqual(colors, { dpo: "#0072B2", ipo: "#D55E00" });
 * ```
 */
export function seriesColors(names: readonly string[]): Record<string, string> {
  const unique = [...new Set(names)];
  return Object.fromEntries(unique.map((n, i) => [n, seriesColor(i, unique.length)]));
}

const AUTO_COLORED = new WeakSet<object>();

/**
 * Mark a trace whose colour the library chose from the palette (the author gave none): only
 * such colours may be changed by `subplots` to keep one colour per series across panels; a
 * colour the author pinned stays.
 *
 * @example
 * ```ts
 * import { isAutoColored, markAutoColored } from "./style.ts";
 * const t = markAutoColored({ line: { color: "#0072B2" } });
 * console.log(isAutoColored(t), isAutoColored({})); // true false
 * ```
 */
export function markAutoColored<T extends object>(trace: T): T {
  AUTO_COLORED.add(trace);
  return trace;
}

/** Whether {@link markAutoColored} marked this trace object. */
export function isAutoColored(trace: object): boolean {
  return AUTO_COLORED.has(trace);
}

/**
 * Colorscales. `viridis` is perceptually uniform and readable with colour-vision deficiencies
 * and in greyscale; `diverging` (blue - white - vermillion) is for signed data centred on 0.
 *
 * @example
 * ```ts
 * import { COLORSCALES } from "./style.ts";
 * console.log(COLORSCALES.viridis[0]); // [0, "#440154"]
 * ```
 */
export const COLORSCALES: Readonly<Record<"viridis" | "diverging" | "greys", Colorscale>> = {
  viridis: [
    [0, "#440154"],
    [1 / 9, "#482878"],
    [2 / 9, "#3E4989"],
    [3 / 9, "#31688E"],
    [4 / 9, "#26828E"],
    [5 / 9, "#1F9E89"],
    [6 / 9, "#35B779"],
    [7 / 9, "#6ECE58"],
    [8 / 9, "#B5DE2B"],
    [1, "#FDE725"],
  ],
  diverging: [
    [0, OKABE_ITO.blue],
    [0.5, "#F7F7F7"],
    [1, OKABE_ITO.vermillion],
  ],
  greys: [
    [0, "#FFFFFF"],
    [1, "#252525"],
  ],
};

/** Font stack shared by plotly and the SVG renderer. */
export const FONT_FAMILY = "Helvetica, Arial, 'DejaVu Sans', sans-serif";

const AXIS_DEFAULTS: Axis = {
  showgrid: true,
  gridcolor: "#E5E5E5",
  zeroline: true,
  zerolinecolor: "#B0B0B0",
  showline: true,
  linecolor: "#444444",
  ticks: "outside",
  tickcolor: "#444444",
  automargin: true,
};

const LAYOUT_DEFAULTS: Layout = {
  font: { family: FONT_FAMILY, size: 13, color: "#222222" },
  paper_bgcolor: "#FFFFFF",
  plot_bgcolor: "#FFFFFF",
  colorway: [...PALETTE],
  height: 440,
  margin: { l: 80, r: 30, t: 60, b: 64 },
  hovermode: "closest",
};

/** Keys of `layout` that hold cartesian axes: `xaxis`, `yaxis3`, ... */
export const AXIS_KEY = /^[xy]axis\d*$/;

/**
 * Fill in the house style under a layout: every axis gets the axis defaults, the layout the
 * page defaults; whatever `layout` sets wins. Nested `font`/`margin`/`title` objects merge.
 *
 * @example
 * ```ts
 * import { styledLayout } from "./style.ts";
 * const layout = styledLayout({ xaxis: { title: { text: "step" } } });
 * console.log(layout.height, (layout.xaxis as { showgrid: boolean }).showgrid); // 440 true
 * ```
 */
export function styledLayout(layout: Layout): Layout {
  const out: Layout = { ...LAYOUT_DEFAULTS, ...layout };
  for (const key of ["font", "margin"] as const) {
    out[key] = { ...LAYOUT_DEFAULTS[key], ...(layout[key] ?? {}) };
  }
  if (!Object.keys(out).some((k) => AXIS_KEY.test(k))) {
    out.xaxis = {};
    out.yaxis = {};
  }
  for (const key of Object.keys(out)) {
    if (AXIS_KEY.test(key)) out[key] = { ...AXIS_DEFAULTS, ...(out[key] as Axis) };
  }
  return out;
}
