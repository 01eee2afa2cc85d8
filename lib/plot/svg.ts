/**
 * A small, pure-TypeScript SVG renderer for the plotly figures dpo-lab builds. plotly.js needs a
 * DOM and cannot run in the kernel, yet GitHub and untrusted notebooks show only static images;
 * this renderer draws scatter lines/markers, filled and stacked areas, heatmaps, bars, line
 * segments, shapes and annotations on cartesian subplots, with nice ticks, titles, a legend and
 * a colorbar. It aims at "readable", not at pixel parity with plotly.
 *
 * @module
 */
import { colorAt, parseColor, resolveColorscale, withAlpha } from "./color.ts";
import { encodePng, toBase64 } from "./png.ts";
import { FONT_FAMILY, PALETTE } from "./style.ts";
import { escapeXml, svgText, textWidth } from "./text.ts";
import { formatTick, linearTicks, logTicks, niceStep } from "./ticks.ts";
import type {
  Axis,
  BarTrace,
  Colorscale,
  Figure,
  HeatmapTrace,
  Layout,
  ScatterTrace,
  Trace,
} from "./types.ts";

/** Options for {@link figureToSvg}. */
export interface SvgOptions {
  /** Width in px; default `layout.width`, else 720. */
  width?: number;
  /** Height in px; default `layout.height`, else 440. */
  height?: number;
}

type Dir = "x" | "y";

interface AxisState {
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

interface Prepared {
  trace: Trace;
  color: string;
  xa: string;
  ya: string;
  /** Heights to draw (stack tops for stacked traces). */
  ys?: Array<number | null>;
  /** Bottom of a stacked band, same length as ys. */
  base?: Array<number | null>;
}

interface Box {
  l: number;
  t: number;
  r: number;
  b: number;
}

const n2 = (v: number) => String(Math.round(v * 100) / 100);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** `"x2"` -> `"xaxis2"`. */
function axisKey(id: string): string {
  return `${id[0]}axis${id.slice(1)}`;
}

function traceAxes(t: Trace): [string, string] {
  return [t.xaxis ?? "x", t.yaxis ?? "y"];
}

function isScatter(t: Trace): t is ScatterTrace {
  return t.type === "scatter" || t.type === "scattergl";
}

function scatterMode(t: ScatterTrace): string {
  return t.mode ?? (t.x.length < 20 ? "lines+markers" : "lines");
}

/** Stack traces sharing a stackgroup (and axes), aligning points by x value. */
function prepare(fig: Figure): Prepared[] {
  const colorway = (fig.layout.colorway as string[] | undefined) ?? [...PALETTE];
  const sums = new Map<string, Map<string | number, number>>();
  const bars = new Map<string, { up: number; down: number }>();
  return fig.data.map((trace, i) => {
    const [xa, ya] = traceAxes(trace);
    const own = isScatter(trace)
      ? trace.line?.color ??
        (typeof trace.marker?.color === "string" ? trace.marker.color : undefined)
      : trace.type === "bar" && typeof trace.marker?.color === "string"
      ? trace.marker.color
      : undefined;
    const p: Prepared = { trace, color: own ?? colorway[i % colorway.length], xa, ya };
    if (isScatter(trace) && trace.stackgroup) {
      const key = `${trace.stackgroup}|${xa}|${ya}`;
      const acc = sums.get(key) ?? new Map<string | number, number>();
      sums.set(key, acc);
      p.ys = [];
      p.base = [];
      trace.x.forEach((x, j) => {
        const y = trace.y[j];
        if (x === null || !isNum(y)) {
          p.ys!.push(null);
          p.base!.push(null);
          return;
        }
        const b = acc.get(x) ?? 0;
        acc.set(x, b + y);
        p.base!.push(b);
        p.ys!.push(b + y);
      });
    }
    if (trace.type === "bar" && stacksBars(fig)) stackBar(p, bars);
    return p;
  });
}

/** Whether bars on one subplot stack (plotly's `barmode` "stack" or "relative"). */
function stacksBars(fig: Figure): boolean {
  const mode = (fig.layout as { barmode?: string }).barmode;
  return mode === "stack" || mode === "relative";
}

/** Stack a bar trace on those before it on its axes: positives up, negatives down, per x. */
function stackBar(p: Prepared, sums: Map<string, { up: number; down: number }>): void {
  const t = p.trace as BarTrace;
  p.ys = [];
  p.base = [];
  t.x.forEach((x, j) => {
    const y = t.y[j];
    if (x === null || !isNum(y)) {
      p.ys!.push(null);
      p.base!.push(null);
      return;
    }
    const key = `${p.xa}|${p.ya}|${x}`;
    const acc = sums.get(key) ?? { up: 0, down: 0 };
    sums.set(key, acc);
    const b = y >= 0 ? acc.up : acc.down;
    if (y >= 0) acc.up += y;
    else acc.down += y;
    p.base!.push(b);
    p.ys!.push(b + y);
  });
}

function heatmapEdges(centres: number[] | undefined, n: number): number[] {
  const c = centres && centres.length === n ? centres : Array.from({ length: n }, (_, i) => i);
  if (n === 1) return [c[0] - 0.5, c[0] + 0.5];
  const e = [c[0] - (c[1] - c[0]) / 2];
  for (let i = 0; i < n - 1; i++) e.push((c[i] + c[i + 1]) / 2);
  e.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2);
  return e;
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

function barWidth(t: BarTrace, xs: number[], ax: AxisState): number {
  if (isNum(t.width)) return t.width;
  if (ax.type === "category") return 0.8;
  const s = [...xs].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < s.length; i++) if (s[i] > s[i - 1]) gap = Math.min(gap, s[i] - s[i - 1]);
  return 0.8 * (Number.isFinite(gap) ? gap : 1);
}

function buildAxes(fig: Figure, prepared: Prepared[], plot: Box): Map<string, AxisState> {
  const layout = fig.layout;
  const ids = new Set<string>();
  for (const p of prepared) {
    ids.add(p.xa);
    ids.add(p.ya);
  }
  for (const k of Object.keys(layout)) {
    const m = /^([xy])axis(\d*)$/.exec(k);
    if (m) ids.add(m[1] + m[2]);
  }
  if (ids.size === 0) {
    ids.add("x");
    ids.add("y");
  }
  const axes = new Map<string, AxisState>();
  for (const id of ids) {
    const dir = id[0] as Dir;
    const spec = (layout[axisKey(id)] as Axis | undefined) ?? {};
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
    axes.set(id, { id, dir, spec, type, categories, range: [0, 1], px: [0, 0], anchor });
  }
  // Axes that `matches` another share one range: group by the root of the chain.
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
  for (const group of groups.values()) {
    const lead = group.find((a) => a.spec.range) ?? group[0];
    let range: [number, number];
    if (lead.spec.range && isNum(lead.spec.range[0]) && isNum(lead.spec.range[1])) {
      range = [lead.spec.range[0], lead.spec.range[1]];
    } else {
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
      range = lead.spec.autorange === "reversed" ? [hi, lo] : [lo, hi];
    }
    for (const ax of group) ax.range = range;
  }
  for (const ax of axes.values()) {
    const [d0, d1] = ax.spec.domain ?? [0, 1];
    ax.px = ax.dir === "x"
      ? [plot.l + d0 * (plot.r - plot.l), plot.l + d1 * (plot.r - plot.l)]
      : [plot.b - d0 * (plot.b - plot.t), plot.b - d1 * (plot.b - plot.t)];
  }
  // scaleanchor: equal data-to-pixel scale on both axes (plotly's constrain: "domain"),
  // shrinking whichever axis has more pixels per unit, about its centre.
  for (const ax of axes.values()) {
    const other = typeof ax.spec.scaleanchor === "string"
      ? axes.get(ax.spec.scaleanchor)
      : undefined;
    if (!other || ax.type !== "linear" || other.type !== "linear") continue;
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
  return axes;
}

/** Map a data value to a pixel on an axis; null when it cannot be placed (gap, log of <= 0). */
function toPx(ax: AxisState, v: number | string | null | undefined): number | null {
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

/** Pixel of a position given in axis units (log10 / category index already applied). */
function unitsToPx(ax: AxisState, u: number): number {
  const [r0, r1] = ax.range;
  return ax.px[0] + ((u - r0) / (r1 - r0)) * (ax.px[1] - ax.px[0]);
}

/** Pixel range of an axis' domain, ordered low to high. */
function span(ax: AxisState): [number, number] {
  return [Math.min(...ax.px), Math.max(...ax.px)];
}

function dashArray(dash: string | undefined, width: number): string {
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

function pathOf(pts: Array<[number, number]>, step: boolean): string {
  let d = `M${n2(pts[0][0])},${n2(pts[0][1])}`;
  for (let i = 1; i < pts.length; i++) {
    if (step) d += `H${n2(pts[i][0])}`;
    d += `L${n2(pts[i][0])},${n2(pts[i][1])}`;
  }
  return d;
}

/** Runs of consecutive drawable points (gaps at nulls unless connectgaps). */
function runs(
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

function clampPx(ax: AxisState, v: number | null): number {
  const [lo, hi] = span(ax);
  return v === null ? (ax.dir === "y" ? hi : lo) : Math.min(hi, Math.max(lo, v));
}

function drawScatter(
  p: Prepared,
  prev: Prepared | undefined,
  axes: Map<string, AxisState>,
  clip: string,
): string {
  const t = p.trace as ScatterTrace;
  const xa = axes.get(p.xa)!, ya = axes.get(p.ya)!;
  const mode = scatterMode(t);
  const xs = t.x.map((v) => toPx(xa, v));
  const ys = (p.ys ?? t.y).map((v) => toPx(ya, v));
  const out: string[] = [];
  const lineW = isNum(t.line?.width) ? t.line.width : 2;
  const stacked = Boolean(t.stackgroup);
  const fill = stacked ? (t.fill && t.fill !== "none" ? t.fill : "tonexty") : t.fill ?? "none";
  if (fill !== "none") {
    const fc = t.fillcolor ?? withAlpha(p.color, 0.5);
    for (const run of runs(xs, ys, Boolean(t.connectgaps))) {
      const top: Array<[number, number]> = run.map(([x, y]) => [x, y]);
      // The way back along the bottom edge of the band, right to left.
      let back: Array<[number, number]>;
      if (stacked) {
        back = run.map(([x, , i]) => [x, clampPx(ya, toPx(ya, p.base![i]))] as [number, number])
          .reverse();
      } else if (fill === "tonexty" && prev && isScatter(prev.trace)) {
        const pt = prev.trace;
        const pys = (prev.ys ?? pt.y).map((v) => toPx(ya, v));
        back = pt.x.map((v, i) => [toPx(xa, v), pys[i]])
          .filter((q): q is [number, number] => q[0] !== null && q[1] !== null)
          .reverse();
      } else if (fill === "toself") {
        back = [];
      } else {
        const y0 = clampPx(ya, toPx(ya, ya.type === "log" ? null : 0));
        back = [[top[top.length - 1][0], y0], [top[0][0], y0]];
      }
      const poly = [...top, ...back];
      if (poly.length >= 3) {
        out.push(
          `<path d="${pathOf(poly, false)}Z" fill="${escapeXml(fc)}" stroke="none"/>`,
        );
      }
    }
  }
  if (mode.includes("lines") && lineW > 0) {
    const dash = dashArray(t.line?.dash, lineW);
    for (const run of runs(xs, ys, Boolean(t.connectgaps))) {
      if (run.length < 2) continue;
      out.push(
        `<path d="${pathOf(run.map(([x, y]) => [x, y]), t.line?.shape === "hv")}" fill="none" ` +
          `stroke="${escapeXml(p.color)}" stroke-width="${n2(lineW)}" stroke-linejoin="round" ` +
          `stroke-linecap="round"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`,
      );
    }
  }
  if (mode.includes("markers")) {
    const m = t.marker ?? {};
    const r = (isNum(m.size) ? m.size : 6) / 2;
    const op = isNum(m.opacity) ? ` fill-opacity="${m.opacity}"` : "";
    const stroke = m.line?.width
      ? ` stroke="${escapeXml(m.line.color ?? "#FFFFFF")}" stroke-width="${n2(m.line.width)}"`
      : "";
    xs.forEach((x, i) => {
      const y = ys[i];
      if (x === null || y === null) return;
      const c = Array.isArray(m.color) ? m.color[i] ?? p.color : m.color ?? p.color;
      out.push(
        `<circle cx="${n2(x)}" cy="${n2(y)}" r="${n2(r)}" fill="${escapeXml(c)}"${op}${stroke}/>`,
      );
    });
  }
  if (mode.includes("text") && t.text !== undefined) {
    xs.forEach((x, i) => {
      const y = ys[i];
      const s = Array.isArray(t.text) ? t.text[i] : t.text;
      if (x === null || y === null || !s) return;
      out.push(svgText(x, y - 8, s, { size: 11, anchor: "middle", baseline: "bottom" }));
    });
  }
  const op = isNum(t.opacity) && t.opacity < 1 ? ` opacity="${t.opacity}"` : "";
  return `<g clip-path="url(#${clip})"${op}>${out.join("")}</g>`;
}

function evenlySpaced(c: number[] | undefined): boolean {
  if (!c || c.length < 3) return true;
  const d = c[1] - c[0];
  return c.every((v, i) => i === 0 || Math.abs(v - c[i - 1] - d) <= 1e-6 * Math.abs(d));
}

function heatRange(t: HeatmapTrace): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const row of t.z) {
    for (const v of row) {
      if (isNum(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  const zmin = isNum(t.zmin) ? t.zmin : Number.isFinite(lo) ? lo : 0;
  const zmax = isNum(t.zmax) ? t.zmax : Number.isFinite(hi) ? hi : 1;
  return zmax > zmin ? [zmin, zmax] : [zmin - 0.5, zmin + 0.5];
}

function drawHeatmap(p: Prepared, axes: Map<string, AxisState>, clip: string): string {
  const t = p.trace as HeatmapTrace;
  const xa = axes.get(p.xa)!, ya = axes.get(p.ya)!;
  const ny = t.z.length;
  const nx = Math.max(0, ...t.z.map((r) => r.length));
  if (!nx || !ny) return "";
  const scale = resolveColorscale(t.colorscale);
  const [zmin, zmax] = heatRange(t);
  const rgba = (v: number | null | undefined) => {
    if (!isNum(v)) return null;
    const f = (v - zmin) / (zmax - zmin);
    return colorAt(scale, t.reversescale ? 1 - f : f);
  };
  const xe = heatmapEdges(t.x, nx).map((v) => toPx(xa, v));
  const ye = heatmapEdges(t.y, ny).map((v) => toPx(ya, v));
  const linear = xa.type === "linear" && ya.type === "linear";
  if (linear && evenlySpaced(t.x) && evenlySpaced(t.y) && xe.every(isNum) && ye.every(isNum)) {
    // One image, columns/rows in pixel order so it is never flipped by reversed axes.
    const xRev = (xe[nx] as number) < (xe[0] as number);
    const yRev = (ye[ny] as number) < (ye[0] as number);
    const px = new Uint8Array(nx * ny * 4);
    for (let r = 0; r < ny; r++) {
      for (let c = 0; c < nx; c++) {
        const col = rgba(t.z[yRev ? ny - 1 - r : r]?.[xRev ? nx - 1 - c : c]);
        const o = (r * nx + c) * 4;
        if (col) {
          px[o] = Math.round(col.r);
          px[o + 1] = Math.round(col.g);
          px[o + 2] = Math.round(col.b);
          px[o + 3] = Math.round(col.a * 255);
        }
      }
    }
    const x0 = Math.min(xe[0] as number, xe[nx] as number);
    const y0 = Math.min(ye[0] as number, ye[ny] as number);
    const w = Math.abs((xe[nx] as number) - (xe[0] as number));
    const h = Math.abs((ye[ny] as number) - (ye[0] as number));
    const href = `data:image/png;base64,${toBase64(encodePng(nx, ny, px))}`;
    return `<g clip-path="url(#${clip})"><image x="${n2(x0)}" y="${n2(y0)}" width="${n2(w)}" ` +
      `height="${n2(h)}" preserveAspectRatio="none" image-rendering="optimizeSpeed" ` +
      `style="image-rendering:pixelated" xlink:href="${href}"/></g>`;
  }
  const cells: string[] = [];
  for (let r = 0; r < ny; r++) {
    for (let c = 0; c < nx; c++) {
      const col = rgba(t.z[r]?.[c]);
      const [xa0, xa1, ya0, ya1] = [xe[c], xe[c + 1], ye[r], ye[r + 1]];
      if (!col || xa0 === null || xa1 === null || ya0 === null || ya1 === null) continue;
      const hex = `rgb(${Math.round(col.r)},${Math.round(col.g)},${Math.round(col.b)})`;
      cells.push(
        `<rect x="${n2(Math.min(xa0, xa1))}" y="${n2(Math.min(ya0, ya1))}" ` +
          `width="${n2(Math.abs(xa1 - xa0))}" height="${n2(Math.abs(ya1 - ya0))}" fill="${hex}"` +
          `${col.a < 1 ? ` fill-opacity="${n2(col.a)}"` : ""}/>`,
      );
    }
  }
  return `<g clip-path="url(#${clip})" shape-rendering="crispEdges">${cells.join("")}</g>`;
}

function drawBar(
  p: Prepared,
  slot: [number, number],
  axes: Map<string, AxisState>,
  clip: string,
): string {
  const t = p.trace as BarTrace;
  const xa = axes.get(p.xa)!, ya = axes.get(p.ya)!;
  const units = t.x.map((v) =>
    xa.type === "category" ? xa.categories.indexOf(String(v)) : (v as number)
  );
  const w = barWidth(t, units.filter(isNum), xa);
  const [k, n] = slot;
  const zero = clampPx(ya, toPx(ya, ya.type === "log" ? null : 0));
  const out: string[] = [];
  units.forEach((u, i) => {
    const top = p.ys ? p.ys[i] : t.y[i];
    if (!isNum(u) || !isNum(top)) return;
    const c0 = u - w / 2 + (k * w) / n;
    const a = unitsToPx(xa, c0);
    const b = unitsToPx(xa, c0 + w / n);
    const yv = toPx(ya, top);
    const base = p.base?.[i];
    const y0 = isNum(base) && base !== 0 ? clampPx(ya, toPx(ya, base)) : zero;
    if (yv === null) return;
    const fill = Array.isArray(t.marker?.color) ? t.marker.color[i] ?? p.color : p.color;
    out.push(
      `<rect x="${n2(Math.min(a, b))}" y="${n2(Math.min(y0, yv))}" width="${
        n2(Math.abs(b - a))
      }" ` +
        `height="${n2(Math.abs(y0 - yv))}" fill="${escapeXml(fill)}"/>`,
    );
  });
  return `<g clip-path="url(#${clip})">${out.join("")}</g>`;
}

interface Tick {
  px: number;
  label: string;
  value: number;
}

/** "1e−12" for a power of ten (shorter than "1.0e−12", so decades stay apart), else as formatTick. */
function decadeLabel(v: number): string {
  const k = Math.round(Math.log10(v));
  if (Math.abs(v / 10 ** k - 1) > 1e-9) return formatTick(v, v / 10);
  return `1e${k < 0 ? "\u2212" : ""}${Math.abs(k)}`;
}

function ticksFor(ax: AxisState): Tick[] {
  const [lo, hi] = [Math.min(...ax.range), Math.max(...ax.range)];
  const lenPx = Math.abs(ax.px[1] - ax.px[0]);
  const target = Math.max(2, Math.round(lenPx / (ax.dir === "x" ? 90 : 55)));
  if (ax.type === "category") {
    const every = Math.max(1, Math.ceil(ax.categories.length / Math.max(2, lenPx / 40)));
    return ax.categories.flatMap((c, i) =>
      i % every === 0 && i >= lo && i <= hi ? [{ px: toPx(ax, c)!, label: c, value: i }] : []
    );
  }
  if (ax.type === "log") {
    return logTicks(lo, hi).map((v) => ({
      px: toPx(ax, v)!,
      value: v,
      label: v >= 1e4 || v < 1e-3 ? decadeLabel(v) : formatTick(v, v < 1 ? v : 1),
    }));
  }
  const step = niceStep(hi - lo, target);
  return linearTicks(lo, hi, target).map((v) => ({
    px: toPx(ax, v)!,
    value: v,
    label: formatTick(v, step),
  }));
}

interface Legend {
  entries: Array<{ name: string; p: Prepared }>;
  width: number;
}

function legendOf(layout: Layout, prepared: Prepared[], fs: number): Legend {
  const entries: Array<{ name: string; p: Prepared }> = [];
  const groups = new Set<string>();
  for (const p of prepared) {
    const t = p.trace;
    if (t.showlegend === false || !t.name || t.type === "heatmap") continue;
    if (t.legendgroup) {
      if (groups.has(t.legendgroup)) continue;
      groups.add(t.legendgroup);
    }
    entries.push({ name: t.name, p });
  }
  const show = layout.showlegend ?? entries.length >= 2;
  if (!show || !entries.length) return { entries: [], width: 0 };
  const w = Math.max(...entries.map((e) => textWidth(e.name, fs)));
  return { entries, width: Math.min(260, 10 + 30 + 6 + w + 10) };
}

function drawLegend(legend: Legend, x: number, y: number, fs: number): string {
  const out: string[] = [];
  const row = fs * 1.5;
  legend.entries.forEach(({ name, p }, i) => {
    const cy = y + row * i + row / 2;
    const t = p.trace;
    const sx = x + 10;
    if (t.type === "bar" || (isScatter(t) && (t.stackgroup || (t.fill && t.fill !== "none")))) {
      const fc = isScatter(t) && t.fillcolor ? t.fillcolor : p.color;
      out.push(
        `<rect x="${n2(sx)}" y="${n2(cy - fs * 0.4)}" width="30" height="${n2(fs * 0.8)}" ` +
          `fill="${escapeXml(fc)}" stroke="${escapeXml(p.color)}" stroke-width="1"/>`,
      );
    } else if (isScatter(t)) {
      const mode = scatterMode(t);
      const lw = isNum(t.line?.width) ? t.line.width : 2;
      if (mode.includes("lines") && lw > 0) {
        const dash = dashArray(t.line?.dash, lw);
        out.push(
          `<line x1="${n2(sx)}" y1="${n2(cy)}" x2="${n2(sx + 30)}" y2="${n2(cy)}" ` +
            `stroke="${escapeXml(p.color)}" stroke-width="${n2(Math.min(4, lw))}"` +
            `${dash ? ` stroke-dasharray="${dash}"` : ""}${
              isNum(t.opacity) ? ` stroke-opacity="${t.opacity}"` : ""
            }/>`,
        );
      }
      if (mode.includes("markers")) {
        const c = typeof t.marker?.color === "string" ? t.marker.color : p.color;
        out.push(`<circle cx="${n2(sx + 15)}" cy="${n2(cy)}" r="4" fill="${escapeXml(c)}"/>`);
      }
    }
    out.push(svgText(sx + 36, cy, name, { size: fs, baseline: "middle" }));
  });
  return `<g class="legend">${out.join("")}</g>`;
}

interface ColorbarSpec {
  trace: HeatmapTrace;
  scale: Colorscale;
  range: [number, number];
  width: number;
}

function colorbarOf(prepared: Prepared[], fs: number): ColorbarSpec | null {
  const p = prepared.find((q) => q.trace.type === "heatmap" && q.trace.showscale !== false);
  if (!p) return null;
  const t = p.trace as HeatmapTrace;
  const range = heatRange(t);
  const step = niceStep(range[1] - range[0], 5);
  const labels = linearTicks(range[0], range[1], 5).map((v) => formatTick(v, step));
  const title = t.colorbar?.title?.text ?? "";
  const w = Math.max(
    14 + 6 + Math.max(0, ...labels.map((l) => textWidth(l, fs * 0.9))),
    textWidth(title, fs * 0.9),
  );
  return { trace: t, scale: resolveColorscale(t.colorscale), range, width: w + 24 };
}

function drawColorbar(cb: ColorbarSpec, x: number, plot: Box, fs: number, uid: string): string {
  const t = cb.trace;
  const len = isNum(t.colorbar?.len) ? t.colorbar.len : 1;
  const yc = isNum(t.colorbar?.y) ? t.colorbar.y : 0.5;
  const title = t.colorbar?.title?.text ?? "";
  const titleH = title ? fs * 1.6 : 0;
  const fullTop = plot.b - (yc + len / 2) * (plot.b - plot.t);
  const top = fullTop + titleH;
  const bottom = plot.b - (yc - len / 2) * (plot.b - plot.t);
  const h = Math.max(10, bottom - top);
  const id = `${uid}-cb`;
  const stops = cb.scale.map(([f, c]) => {
    const col = parseColor(c);
    const off = t.reversescale ? f : 1 - f;
    return { off, c: `rgb(${col.r},${col.g},${col.b})`, a: col.a };
  }).sort((a, b) => a.off - b.off)
    .map((s) =>
      `<stop offset="${n2(s.off)}" stop-color="${s.c}"${s.a < 1 ? ` stop-opacity="${s.a}"` : ""}/>`
    );
  const out = [
    `<defs><linearGradient id="${id}" x1="0" y1="0" x2="0" y2="1">${
      stops.join("")
    }</linearGradient></defs>`,
    `<rect x="${n2(x)}" y="${n2(top)}" width="14" height="${
      n2(h)
    }" fill="url(#${id})" stroke="#444444" stroke-width="0.5"/>`,
  ];
  const [lo, hi] = cb.range;
  const step = niceStep(hi - lo, 5);
  for (const v of linearTicks(lo, hi, 5)) {
    const y = bottom - ((v - lo) / (hi - lo)) * h;
    out.push(
      `<line x1="${n2(x + 14)}" y1="${n2(y)}" x2="${n2(x + 18)}" y2="${n2(y)}" stroke="#444444"/>`,
    );
    out.push(svgText(x + 21, y, formatTick(v, step), { size: fs * 0.9, baseline: "middle" }));
  }
  if (title) out.push(svgText(x, fullTop + fs * 0.2, title, { size: fs * 0.9, baseline: "top" }));
  return `<g class="colorbar">${out.join("")}</g>`;
}

function refPx(
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

/** Small deterministic hash so ids differ between figures yet output stays reproducible. */
function hashId(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * Render a figure as a standalone SVG document (a static fallback for where plotly.js cannot run:
 * GitHub, untrusted notebooks, write-ups).
 *
 * @example
 * ```ts
 * import { figureToSvg } from "./svg.ts";
 * const svg = figureToSvg({
 *   data: [{ type: "scatter", mode: "lines", x: [0, 1, 2], y: [0, 1, 4], name: "y = x²" }],
 *   layout: { title: { text: "demo" } },
 *   config: {},
 * });
 * console.log(svg.startsWith("<svg")); // true
 * ```
 */
export function figureToSvg(fig: Figure, opts: SvgOptions = {}): string {
  const layout = fig.layout ?? {};
  const W = opts.width ?? (isNum(layout.width) ? layout.width : 720);
  const H = opts.height ?? (isNum(layout.height) ? layout.height : 440);
  if (!(W > 0) || !(H > 0)) throw new RangeError(`figureToSvg: bad size ${W}x${H}`);
  const fs = layout.font?.size ?? 12;
  const family = layout.font?.family ?? FONT_FAMILY;
  const ink = layout.font?.color ?? "#222222";
  const supported = fig.data.filter((t) =>
    isScatter(t) || t.type === "heatmap" || t.type === "bar"
  );
  const prepared = prepare({ ...fig, data: supported });
  const uid = `f${hashId(JSON.stringify(fig.data).slice(0, 20000) + JSON.stringify(layout))}`;

  const m = { l: 80, r: 30, t: 60, b: 64, ...(layout.margin ?? {}) };
  const legend = legendOf(layout, prepared, fs);
  const cbar = colorbarOf(prepared, fs);
  const rightReserve = (legend.width ? legend.width + 8 : 0) + (cbar ? cbar.width : 0);
  const plot: Box = { l: m.l, t: m.t, r: Math.max(m.l + 40, W - m.r - rightReserve), b: H - m.b };
  const axes = buildAxes({ ...fig, data: supported }, prepared, plot);

  const out: string[] = [];
  const bg = layout.paper_bgcolor ?? "#FFFFFF";
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="${escapeXml(bg)}"/>`);

  // Subplots: every (x, y) pair a trace uses, plus anchored axis pairs without traces.
  const pairs = new Map<string, [AxisState, AxisState]>();
  for (const p of prepared) pairs.set(`${p.xa}|${p.ya}`, [axes.get(p.xa)!, axes.get(p.ya)!]);
  for (const ax of axes.values()) {
    if (ax.dir === "x" && ax.anchor && axes.has(ax.anchor)) {
      pairs.set(`${ax.id}|${ax.anchor}`, [ax, axes.get(ax.anchor)!]);
    }
  }
  const defs: string[] = [];
  const clipOf = new Map<string, string>();
  let k = 0;
  for (const [key, [xa, ya]] of pairs) {
    const [x0, x1] = span(xa), [y0, y1] = span(ya);
    const id = `${uid}-c${k++}`;
    clipOf.set(key, id);
    defs.push(
      `<clipPath id="${id}"><rect x="${n2(x0)}" y="${n2(y0)}" width="${n2(x1 - x0)}" height="${
        n2(y1 - y0)
      }"/></clipPath>`,
    );
    const pbg = layout.plot_bgcolor ?? "#FFFFFF";
    out.push(
      `<rect x="${n2(x0)}" y="${n2(y0)}" width="${n2(x1 - x0)}" height="${n2(y1 - y0)}" fill="${
        escapeXml(pbg)
      }"/>`,
    );
  }
  out.unshift(`<defs>${defs.join("")}</defs>`);

  // Grid and zero lines, drawn across the perpendicular anchor axis' domain.
  const gridOut: string[] = [];
  const tickCache = new Map<string, Tick[]>();
  for (const ax of axes.values()) {
    const anchor = ax.anchor ? axes.get(ax.anchor) : undefined;
    const [c0, c1] = anchor ? span(anchor) : ax.dir === "x" ? [plot.t, plot.b] : [plot.l, plot.r];
    const ticks = ticksFor(ax);
    tickCache.set(ax.id, ticks);
    const grid = (ax.spec.gridcolor as string | undefined) ?? "#E5E5E5";
    const line = (v: number, color: string, w: number) =>
      ax.dir === "x"
        ? `<line x1="${n2(v)}" y1="${n2(c0)}" x2="${n2(v)}" y2="${
          n2(c1)
        }" stroke="${color}" stroke-width="${w}"/>`
        : `<line x1="${n2(c0)}" y1="${n2(v)}" x2="${n2(c1)}" y2="${
          n2(v)
        }" stroke="${color}" stroke-width="${w}"/>`;
    if (ax.spec.showgrid !== false) { for (const t of ticks) gridOut.push(line(t.px, grid, 1)); }
    if (ax.spec.zeroline !== false && ax.type === "linear") {
      const z = toPx(ax, 0);
      const [lo, hi] = span(ax);
      const zc = (ax.spec.zerolinecolor as string | undefined) ?? "#B0B0B0";
      if (z !== null && z > lo + 0.5 && z < hi - 0.5) gridOut.push(line(z, zc, 1));
    }
  }
  out.push(`<g class="grid">${gridOut.join("")}</g>`);

  const shapes = layout.shapes ?? [];
  const drawShapes = (layer: "below" | "above") =>
    shapes.filter((s) => (s.layer ?? "above") === layer).map((s) => {
      const x0 = refPx(s.xref, "x", s.x0, axes, plot), x1 = refPx(s.xref, "x", s.x1, axes, plot);
      const y0 = refPx(s.yref, "y", s.y0, axes, plot), y1 = refPx(s.yref, "y", s.y1, axes, plot);
      if (x0 === null || x1 === null || y0 === null || y1 === null) return "";
      const lw = s.line?.width ?? 1.5;
      const stroke = `stroke="${escapeXml(s.line?.color ?? "#444444")}" stroke-width="${n2(lw)}"`;
      const dash = dashArray(s.line?.dash, lw);
      const da = dash ? ` stroke-dasharray="${dash}"` : "";
      if (s.type === "rect") {
        return `<rect x="${n2(Math.min(x0, x1))}" y="${n2(Math.min(y0, y1))}" width="${
          n2(Math.abs(x1 - x0))
        }" height="${n2(Math.abs(y1 - y0))}" fill="${escapeXml(s.fillcolor ?? "none")}" ${
          lw > 0 ? stroke : `stroke="none"`
        }${da}/>`;
      }
      return `<line x1="${n2(x0)}" y1="${n2(y0)}" x2="${n2(x1)}" y2="${n2(y1)}" ${stroke}${da}/>`;
    }).join("");
  out.push(drawShapes("below"));

  // Traces, in order; bars on one subplot sit side by side.
  const barSlots = new Map<string, Prepared[]>();
  for (const p of prepared) {
    if (p.trace.type === "bar") {
      const key = `${p.xa}|${p.ya}`;
      barSlots.set(key, [...(barSlots.get(key) ?? []), p]);
    }
  }
  const lastOnAxes = new Map<string, Prepared>();
  for (const p of prepared) {
    const key = `${p.xa}|${p.ya}`;
    const clip = clipOf.get(key)!;
    if (isScatter(p.trace)) out.push(drawScatter(p, lastOnAxes.get(key), axes, clip));
    else if (p.trace.type === "heatmap") out.push(drawHeatmap(p, axes, clip));
    else if (p.trace.type === "bar") {
      const slots = barSlots.get(key)!;
      // Stacked bars share the full slot; grouped ones sit side by side.
      const slot: [number, number] = p.base ? [0, 1] : [slots.indexOf(p), slots.length];
      out.push(drawBar(p, slot, axes, clip));
    }
    if (isScatter(p.trace)) lastOnAxes.set(key, p);
  }

  // Axis lines, ticks, tick labels, titles.
  const axOut: string[] = [];
  for (const ax of axes.values()) {
    const anchor = ax.anchor ? axes.get(ax.anchor) : undefined;
    const pos = ax.dir === "x"
      ? (anchor ? span(anchor)[1] : plot.b)
      : anchor
      ? span(anchor)[0]
      : plot.l;
    const [a0, a1] = span(ax);
    const lc = (ax.spec.linecolor as string | undefined) ?? "#444444";
    if (ax.spec.showline !== false) {
      axOut.push(
        ax.dir === "x"
          ? `<line x1="${n2(a0)}" y1="${n2(pos)}" x2="${n2(a1)}" y2="${n2(pos)}" stroke="${lc}"/>`
          : `<line x1="${n2(pos)}" y1="${n2(a0)}" x2="${n2(pos)}" y2="${n2(a1)}" stroke="${lc}"/>`,
      );
    }
    const ticks = tickCache.get(ax.id) ?? [];
    const showLabels = ax.spec.showticklabels !== false;
    let labelExtent = 0;
    for (const t of ticks) {
      if (ax.dir === "x") {
        axOut.push(
          `<line x1="${n2(t.px)}" y1="${n2(pos)}" x2="${n2(t.px)}" y2="${
            n2(pos + 5)
          }" stroke="${lc}"/>`,
        );
        if (showLabels) {
          axOut.push(
            svgText(t.px, pos + 8, t.label, { size: fs, anchor: "middle", baseline: "top" }),
          );
        }
      } else {
        axOut.push(
          `<line x1="${n2(pos - 5)}" y1="${n2(t.px)}" x2="${n2(pos)}" y2="${
            n2(t.px)
          }" stroke="${lc}"/>`,
        );
        if (showLabels) {
          axOut.push(
            svgText(pos - 8, t.px, t.label, { size: fs, anchor: "end", baseline: "middle" }),
          );
          labelExtent = Math.max(labelExtent, textWidth(t.label, fs));
        }
      }
    }
    const title = ax.spec.title?.text;
    if (title) {
      const tfs = ax.spec.title?.font?.size ?? fs;
      if (ax.dir === "x") {
        axOut.push(
          svgText((a0 + a1) / 2, pos + 8 + (showLabels ? fs * 1.4 : 0), title, {
            size: tfs,
            anchor: "middle",
            baseline: "top",
          }),
        );
      } else {
        const x = pos - 8 - labelExtent - 6;
        axOut.push(
          svgText(x, (a0 + a1) / 2, title, {
            size: tfs,
            anchor: "middle",
            baseline: "bottom",
            rotate: -90,
          }),
        );
      }
    }
  }
  out.push(`<g class="axes">${axOut.join("")}</g>`);
  out.push(drawShapes("above"));

  for (const a of layout.annotations ?? []) {
    const x = refPx(a.xref, "x", a.x, axes, plot), y = refPx(a.yref, "y", a.y, axes, plot);
    if (x === null || y === null) continue;
    const anchor = a.xanchor === "left" ? "start" : a.xanchor === "right" ? "end" : "middle";
    const baseline = a.yanchor === "top" ? "top" : a.yanchor === "middle" ? "middle" : "bottom";
    const size = a.font?.size ?? fs;
    const base = a.yanchor === undefined || a.yanchor === "auto" ? "middle" : baseline;
    if (typeof a.bgcolor === "string") {
      const w = textWidth(a.text, size) + 8;
      const h = size * (1.2 * a.text.split(/<br\s*\/?>/i).length) + 4;
      const left = anchor === "start" ? x - 4 : anchor === "end" ? x - w + 4 : x - w / 2;
      const top = base === "top" ? y - 2 : base === "middle" ? y - h / 2 : y - h + 2;
      out.push(
        `<rect x="${n2(left)}" y="${n2(top)}" width="${n2(w)}" height="${n2(h)}" fill="${
          escapeXml(a.bgcolor)
        }"/>`,
      );
    }
    out.push(svgText(x, y, a.text, { size, color: a.font?.color, anchor, baseline: base }));
  }

  const title = layout.title?.text;
  if (title) {
    const tx = isNum(layout.title?.x) ? layout.title.x : 0.5;
    const xa = layout.title?.xanchor;
    const anchor = xa === "left"
      ? "start"
      : xa === "right"
      ? "end"
      : xa === "center"
      ? "middle"
      : tx < 1 / 3
      ? "start"
      : tx > 2 / 3
      ? "end"
      : "middle";
    out.push(
      svgText(tx * W, Math.max(fs, m.t / 2), title, {
        size: layout.title?.font?.size ?? fs * 1.3,
        anchor,
        baseline: "middle",
      }),
    );
  }

  // Equal-scale axes may end short of the plot area; keep the colorbar next to them.
  const xEnd = Math.max(
    ...[...axes.values()].filter((a) => a.dir === "x").map((a) => span(a)[1]),
    plot.l,
  );
  let rx = cbar ? Math.min(plot.r, xEnd + 12) + 8 : plot.r + 8;
  if (cbar) {
    out.push(drawColorbar(cbar, rx + 8, plot, fs, uid));
    rx += cbar.width;
  }
  if (legend.width) out.push(drawLegend(legend, rx, plot.t, fs));

  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
    `width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${escapeXml(family)}" ` +
    `fill="${escapeXml(ink)}">${out.join("")}</svg>`;
}
