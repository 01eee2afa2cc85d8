/**
 * The SVG renderer's axes: which axes a figure has, their type (linear, log, category), their
 * ranges (given, or the data's extent with plotly's padding, shared by `matches`), their pixel
 * placement in the plot area (domains, `scaleanchor`), and the mapping of data values to pixels.
 *
 * @module
 */
import type { Axis, BarTrace, Figure } from "../types.ts";
import {
  axisKey,
  type AxisState,
  type Box,
  type Dir,
  heatmapEdges,
  isNum,
  isScatter,
  type Prepared,
  scatterMode,
} from "./model.ts";

/**
 * Every axis of the figure, typed, ranged and placed in `plot`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildAxes } from "./axes.ts";
 * import { prepare } from "./prepare.ts";
 * const fig = { data: [{ type: "scatter" as const, x: [0, 10], y: [0, 1] }], layout: {}, config: {} };
 * const axes = buildAxes(fig, prepare(fig), { l: 100, t: 0, r: 200, b: 50 });
 * assert.deepEqual(axes.get("x")!.px, [100, 200]);
 * assert.deepEqual(axes.get("y")!.px, [50, 0]);
 * assert.equal(axes.get("x")!.range[0] < 0, true); // markers: padded by 5%
 * ```
 */
export function buildAxes(fig: Figure, prepared: Prepared[], plot: Box): Map<string, AxisState> {
  const ids = axisIds(fig, prepared);
  const axes = new Map<string, AxisState>();
  for (const id of ids) axes.set(id, newAxis(id, ids, fig, prepared));
  for (const group of matchGroups(axes).values()) {
    const range = groupRange(group, prepared);
    for (const ax of group) ax.range = range;
  }
  for (const ax of axes.values()) placeAxis(ax, plot);
  for (const ax of axes.values()) applyScaleAnchor(ax, axes);
  return axes;
}

/** The ids of the axes the traces use and the layout names (`x`, `y` when there are none). */
function axisIds(fig: Figure, prepared: Prepared[]): Set<string> {
  const ids = new Set<string>();
  for (const p of prepared) {
    ids.add(p.xa);
    ids.add(p.ya);
  }
  for (const k of Object.keys(fig.layout)) {
    const m = /^([xy])axis(\d*)$/.exec(k);
    if (m) ids.add(m[1] + m[2]);
  }
  if (ids.size === 0) {
    ids.add("x");
    ids.add("y");
  }
  return ids;
}

/** Axis `id` typed (log, category when its traces give strings, else linear) and anchored. */
function newAxis(id: string, ids: Set<string>, fig: Figure, prepared: Prepared[]): AxisState {
  const dir = id[0] as Dir;
  const spec = (fig.layout[axisKey(id)] as Axis | undefined) ?? {};
  const users = prepared.filter((p) => (dir === "x" ? p.xa : p.ya) === id);
  const categories: string[] = [];
  if (dir === "x") {
    for (const p of users) {
      const xs = isScatter(p.trace) || p.trace.type === "bar" ? p.trace.x ?? [] : [];
      for (const x of xs) {
        if (typeof x === "string" && !categories.includes(x)) categories.push(x);
      }
    }
  }
  const type = spec.type === "log"
    ? "log"
    : spec.type === "category" || categories.length
    ? "category"
    : "linear";
  const suffix = id.slice(1);
  const other = dir === "x" ? "y" : "x";
  const anchor = typeof spec.anchor === "string" && spec.anchor !== "free"
    ? spec.anchor
    : ids.has(other + suffix)
    ? other + suffix
    : undefined;
  return { id, dir, spec, type, categories, range: [0, 1], px: [0, 0], anchor };
}

/** Axes that `matches` another share one range: grouped by the root of the chain. */
function matchGroups(axes: Map<string, AxisState>): Map<string, AxisState[]> {
  const root = (id: string): string => {
    const seen = new Set<string>();
    let cur = id;
    while (!seen.has(cur)) {
      seen.add(cur);
      const m = axes.get(cur)?.spec.matches;
      if (typeof m !== "string" || !axes.has(m)) break;
      cur = m;
    }
    return cur;
  };
  const groups = new Map<string, AxisState[]>();
  for (const ax of axes.values()) {
    const r = root(ax.id);
    groups.set(r, [...(groups.get(r) ?? []), ax]);
  }
  return groups;
}

/** A group's range: the one given, else its traces' extent, padded as plotly pads it. */
function groupRange(group: AxisState[], prepared: Prepared[]): [number, number] {
  const lead = group.find((a) => a.spec.range) ?? group[0];
  if (lead.spec.range && isNum(lead.spec.range[0]) && isNum(lead.spec.range[1])) {
    return [lead.spec.range[0], lead.spec.range[1]];
  }
  const vals: number[] = [];
  let pad = false;
  for (const ax of group) {
    for (const p of prepared) {
      if ((ax.dir === "x" ? p.xa : p.ya) !== ax.id) continue;
      const e = extentOf(p, ax.dir, ax);
      vals.push(...e.vals);
      pad ||= e.pad;
    }
  }
  if (lead.spec.rangemode === "tozero") vals.push(0);
  let lo = vals.length ? Math.min(...vals) : 0;
  let hi = vals.length ? Math.max(...vals) : 1;
  // Categories sit at 0..n-1 with half a slot of room on each side, as in plotly.
  if (lead.type === "category" && lead.categories.length) {
    [lo, hi] = [-0.5, lead.categories.length - 0.5];
    pad = false;
  }
  if (hi === lo) {
    const d = Math.abs(lo) * 0.1 || 1;
    lo -= d;
    hi += d;
  } else if (pad) {
    const d = (hi - lo) * 0.05;
    lo -= d;
    hi += d;
  }
  return lead.spec.autorange === "reversed" ? [hi, lo] : [lo, hi];
}

/** The axis' pixel span: its domain's share of the plot area. */
function placeAxis(ax: AxisState, plot: Box): void {
  const [d0, d1] = ax.spec.domain ?? [0, 1];
  ax.px = ax.dir === "x"
    ? [plot.l + d0 * (plot.r - plot.l), plot.l + d1 * (plot.r - plot.l)]
    : [plot.b - d0 * (plot.b - plot.t), plot.b - d1 * (plot.b - plot.t)];
}

/**
 * scaleanchor: equal data-to-pixel scale on both axes (plotly's constrain: "domain"), shrinking
 * whichever axis has more pixels per unit, about its centre.
 */
function applyScaleAnchor(ax: AxisState, axes: Map<string, AxisState>): void {
  const other = typeof ax.spec.scaleanchor === "string" ? axes.get(ax.spec.scaleanchor) : undefined;
  if (!other || ax.type !== "linear" || other.type !== "linear") return;
  const ratio = isNum(ax.spec.scaleratio) ? ax.spec.scaleratio : 1;
  const ppu = (a: AxisState) => Math.abs(a.px[1] - a.px[0]) / Math.abs(a.range[1] - a.range[0]);
  const shrink = (a: AxisState, target: number) => {
    const mid = (a.px[0] + a.px[1]) / 2, dir = Math.sign(a.px[1] - a.px[0]);
    const half = (target * Math.abs(a.range[1] - a.range[0])) / 2;
    a.px = [mid - dir * half, mid + dir * half];
  };
  if (ppu(ax) > ppu(other) * ratio) shrink(ax, ppu(other) * ratio);
  else shrink(other, ppu(ax) / ratio);
}

/** Collect the values a trace contributes to one axis, and whether it wants padding. */
function extentOf(p: Prepared, dir: Dir, ax: AxisState): { vals: number[]; pad: boolean } {
  const t = p.trace;
  const toUnits = (v: number | string | null): number | null => {
    if (v === null) return null;
    if (ax.type === "category") {
      const i = ax.categories.indexOf(String(v));
      return i >= 0 ? i : null;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) return null;
    if (ax.type === "log") return v > 0 ? Math.log10(v) : null;
    return v;
  };
  const vals: number[] = [];
  const add = (v: number | string | null) => {
    const u = toUnits(v);
    if (u !== null) vals.push(u);
  };
  if (isScatter(t)) {
    const mode = scatterMode(t);
    if (dir === "x") t.x.forEach(add);
    else {
      (p.ys ?? t.y).forEach(add);
      (p.base ?? []).forEach(add);
      if (t.fill === "tozeroy" || t.stackgroup) add(0);
    }
    return { vals, pad: dir === "y" || mode.includes("markers") || mode.includes("text") };
  }
  if (t.type === "heatmap") {
    const z = t.z;
    const edges = dir === "x"
      ? heatmapEdges(t.x, Math.max(0, ...z.map((r) => r.length)))
      : heatmapEdges(t.y, z.length);
    edges.forEach(add);
    return { vals, pad: false };
  }
  if (t.type === "bar") {
    if (dir === "y") {
      (p.ys ?? t.y).forEach(add);
      add(0);
      return { vals, pad: true };
    }
    const xs = t.x.map((v) => toUnits(v)).filter((v): v is number => v !== null);
    const w = barWidth(t, xs, ax);
    xs.forEach((x) => vals.push(x - w / 2, x + w / 2));
    return { vals, pad: false };
  }
  return { vals, pad: false };
}

/**
 * A bar's width in axis units: its own, 0.8 of a category slot, or 0.8 of the smallest gap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { barWidth } from "./axes.ts";
 * const ax = { id: "x", dir: "x" as const, spec: {}, type: "linear" as const, categories: [],
 *   range: [0, 1] as [number, number], px: [0, 1] as [number, number] };
 * assert.equal(barWidth({ type: "bar", x: [0, 2, 3], y: [1, 1, 1] }, [0, 2, 3], ax), 0.8);
 * ```
 */
export function barWidth(t: BarTrace, xs: number[], ax: AxisState): number {
  if (isNum(t.width)) return t.width;
  if (ax.type === "category") return 0.8;
  const s = [...xs].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < s.length; i++) if (s[i] > s[i - 1]) gap = Math.min(gap, s[i] - s[i - 1]);
  return 0.8 * (Number.isFinite(gap) ? gap : 1);
}

/**
 * Map a data value to a pixel on an axis; null when it cannot be placed (gap, log of <= 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toPx } from "./axes.ts";
 * const ax = { id: "x", dir: "x" as const, spec: {}, type: "linear" as const, categories: [],
 *   range: [0, 10] as [number, number], px: [100, 200] as [number, number] };
 * assert.equal(toPx(ax, 5), 150);
 * assert.equal(toPx(ax, null), null);
 * ```
 */
export function toPx(ax: AxisState, v: number | string | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  let u: number;
  if (ax.type === "category") {
    const i = ax.categories.indexOf(String(v));
    if (i < 0) {
      if (typeof v !== "number") return null;
      u = v;
    } else u = i;
  } else {
    if (typeof v !== "number" || !Number.isFinite(v)) return null;
    if (ax.type === "log") {
      if (v <= 0) return null;
      u = Math.log10(v);
    } else u = v;
  }
  return unitsToPx(ax, u);
}

/**
 * Pixel of a position given in axis units (log10 / category index already applied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unitsToPx } from "./axes.ts";
 * const ax = { id: "x", dir: "x" as const, spec: {}, type: "linear" as const, categories: [],
 *   range: [0, 10] as [number, number], px: [100, 200] as [number, number] };
 * assert.equal(unitsToPx(ax, 10), 200);
 * ```
 */
export function unitsToPx(ax: AxisState, u: number): number {
  const [r0, r1] = ax.range;
  return ax.px[0] + ((u - r0) / (r1 - r0)) * (ax.px[1] - ax.px[0]);
}

/**
 * Pixel range of an axis' domain, ordered low to high.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { span } from "./axes.ts";
 * const ax = { id: "x", dir: "x" as const, spec: {}, type: "linear" as const, categories: [],
 *   range: [0, 10] as [number, number], px: [100, 200] as [number, number] };
 * assert.deepEqual(span({ ...ax, px: [300, 50] }), [50, 300]);
 * ```
 */
export function span(ax: AxisState): [number, number] {
  return [Math.min(...ax.px), Math.max(...ax.px)];
}

/**
 * A pixel on the axis clamped to its span; a gap (null) is the axis' low end (bottom for y).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clampPx } from "./axes.ts";
 * const ax = { id: "x", dir: "x" as const, spec: {}, type: "linear" as const, categories: [],
 *   range: [0, 10] as [number, number], px: [100, 200] as [number, number] };
 * assert.equal(clampPx(ax, 500), 200);
 * assert.equal(clampPx(ax, null), 100);
 * ```
 */
export function clampPx(ax: AxisState, v: number | null): number {
  const [lo, hi] = span(ax);
  return v === null ? (ax.dir === "y" ? hi : lo) : Math.min(hi, Math.max(lo, v));
}

/**
 * A position in a shape's or annotation's frame (`paper` or an axis id) as a pixel; null for an
 * unknown axis or a value the axis cannot place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refPx } from "./axes.ts";
 * const plot = { l: 0, t: 0, r: 200, b: 100 };
 * assert.equal(refPx("paper", "x", 0.5, new Map(), plot), 100);
 * assert.equal(refPx(undefined, "y", 1, new Map(), plot), 0);
 * assert.equal(refPx("x9", "x", 1, new Map(), plot), null);
 * ```
 */
export function refPx(
  ref: string | undefined,
  dir: Dir,
  v: number,
  axes: Map<string, AxisState>,
  plot: Box,
): number | null {
  if (!ref || ref === "paper") {
    return dir === "x" ? plot.l + v * (plot.r - plot.l) : plot.b - v * (plot.b - plot.t);
  }
  const ax = axes.get(ref);
  return ax ? toPx(ax, v) : null;
}
