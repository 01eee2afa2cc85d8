/**
 * Generic figures for ad-hoc use in notebooks: lines, scatter points, heatmaps, all in the house
 * style.
 *
 * @module
 */
import { COLORSCALES, markAutoColored, seriesColor } from "./style.ts";
import { gapped } from "./records.ts";
import { type DisplayableFigure, makeFigure } from "./figure.ts";
import type { Colorscale, Layout, ScatterTrace } from "./types.ts";

/** One named series. `y` values that are not finite become gaps. */
export interface Series {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  name?: string;
  color?: string;
  dash?: "solid" | "dot" | "dash" | "dashdot" | "longdash";
  /** Line width (lines) or marker diameter (points), px. */
  width?: number;
  /** Series drawn under one legend entry (toggled together); the entry is the first's name. */
  group?: string;
  /** Leave this series out of the legend (e.g. an interval's ends beside their mean). */
  hideInLegend?: boolean;
}

/** Titles and size shared by the generic figures. */
export interface GenericOptions {
  title?: string;
  /** Axis titles; include units, e.g. "optimizer step", "loss (nats)". */
  xTitle?: string;
  yTitle?: string;
  /** Figure height, px (default 440). */
  height?: number;
  logX?: boolean;
  logY?: boolean;
}

function baseLayout(opts: GenericOptions): Layout {
  return {
    ...(opts.title ? { title: { text: opts.title } } : {}),
    ...(opts.height ? { height: opts.height } : {}),
    xaxis: { title: { text: opts.xTitle ?? "" }, ...(opts.logX ? { type: "log" } : {}) },
    yaxis: { title: { text: opts.yTitle ?? "" }, ...(opts.logY ? { type: "log" } : {}) },
  };
}

/** A figure of `series` drawn as `mode` on the axes `opts` describe; `who` names it in errors. */
function seriesFigure(
  series: Series | Series[],
  mode: "lines" | "markers",
  who: string,
  opts: GenericOptions,
): DisplayableFigure {
  return makeFigure({ data: seriesTraces(series, mode, who), layout: baseLayout(opts) });
}

function seriesTraces(
  series: Series | Series[],
  mode: "lines" | "markers",
  who: string,
): ScatterTrace[] {
  const list = Array.isArray(series) ? series : [series];
  return list.map((s, i) => {
    if (!s || s.x === undefined || s.y === undefined) {
      throw new TypeError(`${who}: series ${i} needs x and y arrays`);
    }
    if (s.x.length !== s.y.length) {
      throw new RangeError(
        `${who}: series ${i}${
          s.name ? ` "${s.name}"` : ""
        } has ${s.x.length} x values but ${s.y.length} y values`,
      );
    }
    const color = s.color ?? seriesColor(i, list.length);
    const t: ScatterTrace = {
      type: "scatter",
      mode,
      name: s.name ?? `series ${i + 1}`,
      x: gapped(s.x),
      y: gapped(s.y),
    };
    if (s.group) t.legendgroup = s.group;
    if (s.hideInLegend) t.showlegend = false;
    if (mode === "lines") t.line = { color, width: s.width ?? 2, dash: s.dash ?? "solid" };
    else t.marker = { color, size: s.width ?? 7, opacity: 0.8 };
    return s.color === undefined ? markAutoColored(t) : t;
  });
}

/**
 * Line chart of one or more series.
 *
 * @example
 * ```ts
 * import { lineFigure } from "./generic.ts";
 * const fig = lineFigure(
 *   [{ name: "DPO", x: [0, 1, 2], y: [0.69, 0.52, 0.41] }, { name: "IPO", x: [0, 1, 2], y: [0.69, 0.6, 0.55] }],
 *   { title: "Loss", xTitle: "optimizer step", yTitle: "loss (nats)" },
 * );
 * console.log(fig.data.length); // 2
 * ```
 */
export function lineFigure(
  series: Series | Series[],
  opts: GenericOptions = {},
): DisplayableFigure {
  return seriesFigure(series, "lines", "lineFigure", opts);
}

/**
 * Scatter plot (points) of one or more series.
 *
 * @example
 * ```ts
 * import { scatterFigure } from "./generic.ts";
 * const fig = scatterFigure({ x: [1, 2, 3], y: [2, 1, 3], name: "pairs" }, { xTitle: "a", yTitle: "b" });
 * console.log(fig.data[0].type); // "scatter"
 * ```
 */
export function scatterFigure(
  series: Series | Series[],
  opts: GenericOptions = {},
): DisplayableFigure {
  return seriesFigure(series, "markers", "scatterFigure", opts);
}

/** Grid values for {@link heatmapFigure}: `z[row][col]`, rows along y. */
export interface HeatmapData {
  z: ArrayLike<number>[];
  /** Column centres (default 0..cols-1). */
  x?: ArrayLike<number>;
  /** Row centres (default 0..rows-1). */
  y?: ArrayLike<number>;
}

/** Options for {@link heatmapFigure}. */
export interface HeatmapOptions extends GenericOptions {
  /** Colorbar title, with units. */
  zTitle?: string;
  /** `"viridis"` (default), `"diverging"` (signed data; centred on 0), or explicit stops. */
  colorscale?: "viridis" | "diverging" | "greys" | Colorscale;
  zmin?: number;
  zmax?: number;
}

/**
 * Heatmap of a grid. With the diverging scale the colour range is made symmetric about 0, so
 * white means zero.
 *
 * @example
 * ```ts
 * import { heatmapFigure } from "./generic.ts";
 * const fig = heatmapFigure({ z: [[0, 1], [2, 3]], x: [0.5, 1.5], y: [10, 20] }, { zTitle: "loss (nats)" });
 * console.log(fig.data[0].type); // "heatmap"
 * ```
 */
export function heatmapFigure(data: HeatmapData, opts: HeatmapOptions = {}): DisplayableFigure {
  if (!data || !Array.isArray(data.z) || data.z.length === 0) {
    throw new TypeError("heatmapFigure: data.z must be a non-empty array of rows");
  }
  const cols = data.z[0].length;
  data.z.forEach((row, i) => {
    if (row.length !== cols) {
      throw new RangeError(
        `heatmapFigure: row ${i} of z has ${row.length} values, row 0 has ${cols}`,
      );
    }
  });
  if (data.x && data.x.length !== cols) {
    throw new RangeError(`heatmapFigure: x has ${data.x.length} values but z has ${cols} columns`);
  }
  if (data.y && data.y.length !== data.z.length) {
    throw new RangeError(
      `heatmapFigure: y has ${data.y.length} values but z has ${data.z.length} rows`,
    );
  }
  const z = data.z.map((r) => gapped(r));
  const scale = opts.colorscale ?? "viridis";
  let { zmin, zmax } = opts;
  if (scale === "diverging" && (zmin === undefined || zmax === undefined)) {
    const m = Math.max(0, ...z.flat().filter((v): v is number => v !== null).map(Math.abs)) || 1;
    zmin ??= -m;
    zmax ??= m;
  }
  return makeFigure({
    data: [{
      type: "heatmap",
      z,
      ...(data.x ? { x: Array.from(data.x) } : {}),
      ...(data.y ? { y: Array.from(data.y) } : {}),
      colorscale: typeof scale === "string" ? COLORSCALES[scale] : scale,
      ...(zmin !== undefined ? { zmin } : {}),
      ...(zmax !== undefined ? { zmax } : {}),
      colorbar: { title: { text: opts.zTitle ?? "" } },
    }],
    layout: {
      ...baseLayout(opts),
      xaxis: { title: { text: opts.xTitle ?? "" }, showgrid: false, zeroline: false },
      yaxis: { title: { text: opts.yTitle ?? "" }, showgrid: false, zeroline: false },
    },
  });
}
