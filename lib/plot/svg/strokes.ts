/**
 * Stroke geometry shared by traces, legend keys and shapes: dash patterns scaled to the line
 * width, polyline paths, and runs of drawable points between gaps.
 *
 * @module
 */
import { n2 } from "./model.ts";

/**
 * An SVG `stroke-dasharray` for a plotly dash name at line width `width` ("" for solid).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dashArray } from "./strokes.ts";
 * assert.equal(dashArray("dash", 2), "8,4");
 * assert.equal(dashArray(undefined, 2), "");
 * ```
 */
export function dashArray(dash: string | undefined, width: number): string {
  const w = Math.max(1, width);
  switch (dash) {
    case "dot":
      return `${n2(w)},${n2(2 * w)}`;
    case "dash":
      return `${n2(4 * w)},${n2(2 * w)}`;
    case "longdash":
      return `${n2(8 * w)},${n2(2 * w)}`;
    case "dashdot":
      return `${n2(4 * w)},${n2(2 * w)},${n2(w)},${n2(2 * w)}`;
    default:
      return "";
  }
}

/**
 * An SVG path through `pts`; `step` draws plotly's "hv" steps (across, then up or down).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathOf } from "./strokes.ts";
 * assert.equal(pathOf([[0, 0], [10, 5]], false), "M0,0L10,5");
 * assert.equal(pathOf([[0, 0], [10, 5]], true), "M0,0H10L10,5");
 * ```
 */
export function pathOf(pts: Array<[number, number]>, step: boolean): string {
  let d = `M${n2(pts[0][0])},${n2(pts[0][1])}`;
  for (let i = 1; i < pts.length; i++) {
    if (step) d += `H${n2(pts[i][0])}`;
    d += `L${n2(pts[i][0])},${n2(pts[i][1])}`;
  }
  return d;
}

/**
 * Runs of consecutive drawable points `[x, y, index]` (gaps at nulls unless `connect`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runs } from "./strokes.ts";
 * assert.deepEqual(runs([0, 1, 2], [5, null, 7], false), [[[0, 5, 0]], [[2, 7, 2]]]);
 * assert.deepEqual(runs([0, 1, 2], [5, null, 7], true), [[[0, 5, 0], [2, 7, 2]]]);
 * ```
 */
export function runs(
  xs: Array<number | null>,
  ys: Array<number | null>,
  connect: boolean,
): Array<Array<[number, number, number]>> {
  const out: Array<Array<[number, number, number]>> = [];
  let cur: Array<[number, number, number]> = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i], y = ys[i];
    if (x === null || y === null) {
      if (!connect && cur.length) {
        out.push(cur);
        cur = [];
      }
      continue;
    }
    cur.push([x, y, i]);
  }
  if (cur.length) out.push(cur);
  return out;
}
