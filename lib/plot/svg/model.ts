/**
 * The SVG renderer's working model, shared by its steps: a trace with its colour, axes and stack
 * heights ({@link Prepared}), an axis placed on the page ({@link AxisState}), the plot area
 * ({@link Box}), and the number format of every coordinate written.
 *
 * @module
 */
import type { Axis, ScatterTrace, Trace } from "../types.ts";

/** An axis direction. */
export type Dir = "x" | "y";

/** An axis with its type, range and pixel placement. */
export interface AxisState {
  id: string;
  dir: Dir;
  spec: Axis;
  type: "linear" | "log" | "category";
  categories: string[];
  /** In axis units: log10 for log axes, category index for category axes. */
  range: [number, number];
  /** Pixel positions of range[0] and range[1]. */
  px: [number, number];
  /** The perpendicular axis this one is drawn against. */
  anchor?: string;
}

/** A trace ready to draw: its colour, its axes and (stacked traces) its band. */
export interface Prepared {
  trace: Trace;
  color: string;
  xa: string;
  ya: string;
  /** Heights to draw (stack tops for stacked traces). */
  ys?: Array<number | null>;
  /** Bottom of a stacked band, same length as ys. */
  base?: Array<number | null>;
}

/** The plot area in pixels: left, top, right, bottom. */
export interface Box {
  l: number;
  t: number;
  r: number;
  b: number;
}

/**
 * A coordinate as written into the SVG: rounded to 2 decimals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { n2 } from "./model.ts";
 * assert.equal(n2(1.23456), "1.23");
 * assert.equal(n2(2), "2");
 * ```
 */
export const n2 = (v: number): string => String(Math.round(v * 100) / 100);

/**
 * Whether `v` is a finite number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNum } from "./model.ts";
 * assert.equal(isNum(1), true);
 * assert.equal(isNum(NaN), false);
 * assert.equal(isNum("1"), false);
 * ```
 */
export const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * The layout key of an axis id: `"x2"` -> `"xaxis2"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { axisKey } from "./model.ts";
 * assert.equal(axisKey("x2"), "xaxis2");
 * assert.equal(axisKey("y"), "yaxis");
 * ```
 */
export function axisKey(id: string): string {
  return `${id[0]}axis${id.slice(1)}`;
}

/**
 * The x and y axis ids a trace is drawn on (default `"x"`, `"y"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { traceAxes } from "./model.ts";
 * assert.deepEqual(traceAxes({ type: "scatter", x: [], y: [], yaxis: "y2" }), ["x", "y2"]);
 * ```
 */
export function traceAxes(t: Trace): [string, string] {
  return [t.xaxis ?? "x", t.yaxis ?? "y"];
}

/**
 * Whether `t` is a scatter trace (`scatter` or `scattergl`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isScatter } from "./model.ts";
 * assert.equal(isScatter({ type: "scattergl", x: [], y: [] }), true);
 * ```
 */
export function isScatter(t: Trace): t is ScatterTrace {
  return t.type === "scatter" || t.type === "scattergl";
}

/**
 * A scatter trace's mode, with plotly's default (markers too for fewer than 20 points).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scatterMode } from "./model.ts";
 * assert.equal(scatterMode({ type: "scatter", x: [0, 1], y: [0, 1] }), "lines+markers");
 * ```
 */
export function scatterMode(t: ScatterTrace): string {
  return t.mode ?? (t.x.length < 20 ? "lines+markers" : "lines");
}

/**
 * The cell edges of a heatmap row or column of `n` cells centred at `centres` (default 0..n-1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heatmapEdges } from "./model.ts";
 * assert.deepEqual(heatmapEdges([0, 2, 4], 3), [-1, 1, 3, 5]);
 * assert.deepEqual(heatmapEdges(undefined, 1), [-0.5, 0.5]);
 * ```
 */
export function heatmapEdges(centres: number[] | undefined, n: number): number[] {
  const c = centres && centres.length === n ? centres : Array.from({ length: n }, (_, i) => i);
  if (n === 1) return [c[0] - 0.5, c[0] + 0.5];
  const e = [c[0] - (c[1] - c[0]) / 2];
  for (let i = 0; i < n - 1; i++) e.push((c[i] + c[i + 1]) / 2);
  e.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2);
  return e;
}
