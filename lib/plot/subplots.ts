/**
 * Small multiples: several single-panel figures arranged in a grid as one figure, each panel on
 * its own axis pair (`x`/`y`, `x2`/`y2`, ...), with panel titles and one shared legend.
 *
 * @module
 */
import { AXIS_KEY, isAutoColored, LONG_PALETTE, markAutoColored, PALETTE } from "./style.ts";
import { type DisplayableFigure, makeFigure } from "./figure.ts";
import type { Annotation, Axis, Figure, Layout, Shape, Trace } from "./types.ts";

/** Options for {@link subplots}. */
export interface SubplotOptions {
  /**
   * Panels per row; default min(2, number of figures). Capped at one panel per 330 px of
   * `width` (default 720, the static figure's width) so no panel is narrower than ~300 px of
   * plot; more panels wrap onto further rows.
   */
  columns?: number;
  /** Panel titles; default each figure's own title. */
  titles?: string[];
  /** Figure title. */
  title?: string;
  /** Height of one row of panels, px (default 300). */
  rowHeight?: number;
  /** Figure width, px; default unset (plotly fills the output width, the SVG is 720 wide). */
  width?: number;
  /**
   * Gaps between panels as fractions of the figure (defaults 0.08, or 0.14 when panels keep y
   * titles of their own, and 0.16).
   */
  xgap?: number;
  ygap?: number;
  /** Make all panels share x (or y) ranges. */
  sharedX?: boolean;
  sharedY?: boolean;
}

/** Domains of panel k in a rows x columns grid, row 0 at the top. */
export function gridDomains(
  n: number,
  opts: { columns: number; xgap?: number; ygap?: number },
): Array<{ x: [number, number]; y: [number, number] }> {
  const cols = Math.max(1, Math.min(n, Math.trunc(opts.columns)));
  const rows = Math.ceil(n / cols);
  const xgap = opts.xgap ?? 0.08, ygap = opts.ygap ?? 0.16;
  const w = (1 - (cols - 1) * xgap) / cols;
  const h = (1 - (rows - 1) * ygap) / rows;
  if (!(w > 0) || !(h > 0)) {
    throw new RangeError(
      `gridDomains: gaps ${xgap}/${ygap} leave no room for ${rows}x${cols} panels`,
    );
  }
  const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
  return Array.from({ length: n }, (_, k) => {
    const row = Math.floor(k / cols), col = k % cols;
    const x0 = col * (w + xgap), y1 = 1 - row * (h + ygap);
    return { x: [r4(x0), r4(x0 + w)], y: [r4(y1 - h), r4(y1)] };
  });
}

type Colored = {
  name?: string;
  legendgroup?: string;
  xaxis?: string;
  line?: { color?: unknown };
  marker?: { color?: unknown };
};

function colorOf(t: Colored): string | undefined {
  const c = t.line?.color ?? t.marker?.color;
  return typeof c === "string" ? c : undefined;
}

/**
 * One colour per series across the merged figure: each panel colours its series from the
 * palette's start, so two different series (by legend name) from different panels can arrive in
 * the same colour. The first keeps it; a later one whose colour the library chose (see
 * `markAutoColored`) takes its series' colour from an earlier panel, or else the next palette
 * colour no trace uses. Colours the author pinned are never changed (e.g. "chosen" in blue in
 * two panels under two names), nor choices within one panel (a series and its dotted control).
 */
function distinctColors(data: Trace[]): void {
  const owner = new Map<string, { key: string; panel?: string }>(); // colour -> first series
  const given = new Map<string, string>(); // series -> colour
  const used = new Set(data.map((t) => colorOf(t as Colored)).filter((c) => c !== undefined));
  for (const t of data as unknown as Colored[]) {
    const c = colorOf(t), key = t.legendgroup ?? t.name;
    if (c === undefined || key === undefined) continue;
    const mine = given.get(key), o = owner.get(c);
    const clash = o !== undefined && o.key !== key && o.panel !== t.xaxis;
    if (!isAutoColored(t) || (mine === undefined && !clash)) {
      if (!o) owner.set(c, { key, panel: t.xaxis });
      if (mine === undefined) given.set(key, c);
      continue;
    }
    const free = [...PALETTE, ...LONG_PALETTE].find((p) => !owner.has(p) && !used.has(p));
    const fresh = mine ?? free ?? c;
    if (!owner.has(fresh)) owner.set(fresh, { key, panel: t.xaxis });
    used.add(fresh);
    given.set(key, fresh);
    if (fresh === c) continue;
    if (t.line?.color !== undefined) t.line = { ...t.line, color: fresh };
    if (typeof t.marker?.color === "string") t.marker = { ...t.marker, color: fresh };
  }
}

/** Rename axis references ("x", "y", "x domain") to panel k's axes. */
function remapRef(ref: unknown, suffix: string): unknown {
  if (typeof ref !== "string") return ref;
  const m = /^([xy])(\d*)( domain)?$/.exec(ref);
  if (!m) return ref;
  if (m[2] && m[2] !== "1") {
    throw new RangeError(`subplots: source figures must have a single panel, found axis "${ref}"`);
  }
  return `${m[1]}${suffix}${m[3] ?? ""}`;
}

/**
 * Arrange single-panel figures in a grid. Traces with the same name across panels share one
 * legend entry (toggling it hides them in every panel). Only the first heatmap keeps its
 * colorbar, so panels that show heatmaps should use a common `zmin`/`zmax`.
 * Axis titles repeated on every panel are kept only on the bottom row (x) and first column (y).
 *
 * @example
 * ```ts
 * import { lineFigure } from "./generic.ts";
 * import { subplots } from "./subplots.ts";
 * const a = lineFigure({ x: [0, 1], y: [0, 1] }, { title: "A", xTitle: "step" });
 * const b = lineFigure({ x: [0, 1], y: [1, 0] }, { title: "B", xTitle: "step" });
 * const grid = subplots([a, b], { columns: 2 });
 * console.log(grid.data.map((t) => t.xaxis)); // ["x", "x2"]
 * ```
 */
export function subplots(figs: Figure[], opts: SubplotOptions = {}): DisplayableFigure {
  const grid = planGrid(figs, opts);
  const layout: Layout = {
    height: Math.round((opts.rowHeight ?? 300) * grid.rows + 60 + 70),
    ...(opts.width ? { width: opts.width } : {}),
    margin: { t: opts.title ? 90 : 60, b: 70 },
    ...(opts.title ? { title: { text: opts.title } } : {}),
    annotations: [],
    shapes: [],
  };
  const data: Trace[] = [];
  const legend = { seen: new Set<string>(), colorbarShown: false };
  figs.forEach((f, k) => {
    const panel: Panel = { k, s: k === 0 ? "" : String(k + 1), d: grid.domains[k] };
    checkSinglePanel(f, k);
    placeAxes(layout, f, panel, grid, opts);
    for (const t of f.data) data.push(panelTrace(t, panel, legend));
    const title = opts.titles?.[k] ?? f.layout?.title?.text;
    if (title) layout.annotations!.push(panelTitle(title, panel.d));
    for (const a of (f.layout?.annotations ?? []) as Annotation[]) {
      layout.annotations!.push(panelAnnotation(a, panel));
    }
    for (const sh of (f.layout?.shapes ?? []) as Shape[]) {
      layout.shapes!.push(panelShape(sh, panel));
    }
  });
  const first = figs[0];
  distinctColors(data);
  return makeFigure({ data, layout, config: first.config });
}

type Domain = { x: [number, number]; y: [number, number] };

/** Panel k: its axis suffix ("", "2", ...) and its domain. */
interface Panel {
  k: number;
  s: string;
  d: Domain;
}

/** The grid the panels go in, and which axis titles every panel shares. */
interface Grid {
  n: number;
  columns: number;
  rows: number;
  domains: Domain[];
  axisTitles: { x: Set<string>; y: Set<string> };
}

function planGrid(figs: Figure[], opts: SubplotOptions): Grid {
  if (!Array.isArray(figs) || figs.length === 0) {
    throw new RangeError("subplots: need at least one figure");
  }
  const n = figs.length;
  const widest = Math.max(1, Math.floor((opts.width ?? 720) / 330));
  const columns = Math.max(1, Math.min(n, widest, Math.trunc(opts.columns ?? 2)));
  if (opts.titles && opts.titles.length !== n) {
    throw new RangeError(`subplots: ${opts.titles.length} titles for ${n} figures`);
  }
  const rows = Math.ceil(n / columns);
  // Panels with y titles of their own need room for ticks and title between them.
  const ownYTitles =
    new Set(figs.map((f) => (f.layout?.yaxis as Axis | undefined)?.title?.text ?? ""))
      .size > 1;
  const domains = gridDomains(n, {
    columns,
    xgap: opts.xgap ?? (ownYTitles ? 0.14 : 0.08),
    ygap: opts.ygap ?? (rows > 1 ? 0.16 : 0),
  });
  const axisTitles = { x: new Set<string>(), y: new Set<string>() };
  for (const f of figs) {
    axisTitles.x.add((f.layout?.xaxis as Axis | undefined)?.title?.text ?? "");
    axisTitles.y.add((f.layout?.yaxis as Axis | undefined)?.title?.text ?? "");
  }
  return { n, columns, rows, domains, axisTitles };
}

function checkSinglePanel(f: Figure, k: number): void {
  for (const key of Object.keys(f.layout ?? {})) {
    if (AXIS_KEY.test(key) && !/^[xy]axis1?$/.test(key)) {
      throw new RangeError(
        `subplots: figure ${k} has several panels ("${key}"); pass single-panel figures`,
      );
    }
  }
}

/** Panel k's x and y axes; a title every panel shares stays on the bottom row / first column. */
function placeAxes(layout: Layout, f: Figure, p: Panel, g: Grid, opts: SubplotOptions): void {
  const row = Math.floor(p.k / g.columns), col = p.k % g.columns;
  const bottom = row === g.rows - 1 || p.k + g.columns >= g.n;
  for (const dir of ["x", "y"] as const) {
    const src = { ...((f.layout?.[`${dir}axis`] as Axis | undefined) ?? {}) };
    for (const ref of ["anchor", "matches", "scaleanchor", "overlaying"]) {
      if (ref in src) src[ref] = remapRef(src[ref], p.s);
    }
    const shared = dir === "x" ? g.axisTitles.x.size === 1 : g.axisTitles.y.size === 1;
    const keepTitle = !shared || (dir === "x" ? bottom : col === 0);
    const axis: Axis = {
      ...src,
      domain: dir === "x" ? p.d.x : p.d.y,
      anchor: `${dir === "x" ? "y" : "x"}${p.s}`,
      ...(keepTitle ? {} : { title: { ...(src.title ?? {}), text: "" } }),
    };
    if (p.k > 0 && (dir === "x" ? opts.sharedX : opts.sharedY)) axis.matches = dir;
    layout[`${dir}axis${p.s}`] = axis;
  }
}

/** A trace moved onto panel k's axes: one legend entry per name, one heatmap colorbar. */
function panelTrace(
  t: Trace,
  p: Panel,
  legend: { seen: Set<string>; colorbarShown: boolean },
): Trace {
  const copy = { ...t, xaxis: `x${p.s}`, yaxis: `y${p.s}` } as Trace;
  if (isAutoColored(t)) markAutoColored(copy);
  if (copy.type === "heatmap") {
    if (legend.colorbarShown || copy.showscale === false) copy.showscale = false;
    else legend.colorbarShown = true;
  }
  const key = copy.legendgroup ?? copy.name;
  if (key !== undefined && copy.showlegend !== false) {
    copy.legendgroup = key;
    if (legend.seen.has(key)) copy.showlegend = false;
    legend.seen.add(key);
  }
  return copy;
}

function panelTitle(title: string, d: Domain): Annotation {
  return {
    text: `<b>${title}</b>`,
    x: (d.x[0] + d.x[1]) / 2,
    y: d.y[1],
    xref: "paper",
    yref: "paper",
    xanchor: "center",
    yanchor: "bottom",
    showarrow: false,
    font: { size: 13 },
  };
}

function panelAnnotation(a: Annotation, p: Panel): Annotation {
  const { s, d } = p;
  return a.xref === "paper" || a.yref === "paper" || a.xref === undefined
    ? {
      ...a,
      // Paper coordinates of the source figure become coordinates inside panel k.
      x: a.xref === "paper" || a.xref === undefined ? d.x[0] + a.x * (d.x[1] - d.x[0]) : a.x,
      y: a.yref === "paper" || a.yref === undefined ? d.y[0] + a.y * (d.y[1] - d.y[0]) : a.y,
      xref: a.xref === "paper" || a.xref === undefined ? "paper" : remapRef(a.xref, s) as string,
      yref: a.yref === "paper" || a.yref === undefined ? "paper" : remapRef(a.yref, s) as string,
    }
    : { ...a, xref: remapRef(a.xref, s) as string, yref: remapRef(a.yref, s) as string };
}

function panelShape(sh: Shape, p: Panel): Shape {
  const { s, d } = p;
  const paperX = sh.xref === "paper", paperY = sh.yref === "paper";
  return {
    ...sh,
    xref: paperX ? "paper" : remapRef(sh.xref ?? "x", s) as string,
    yref: paperY ? "paper" : remapRef(sh.yref ?? "y", s) as string,
    ...(paperX
      ? { x0: d.x[0] + sh.x0 * (d.x[1] - d.x[0]), x1: d.x[0] + sh.x1 * (d.x[1] - d.x[0]) }
      : {}),
    ...(paperY
      ? { y0: d.y[0] + sh.y0 * (d.y[1] - d.y[0]), y1: d.y[0] + sh.y1 * (d.y[1] - d.y[0]) }
      : {}),
  };
}
