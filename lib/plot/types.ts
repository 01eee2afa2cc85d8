/**
 * The subset of plotly.js's figure schema that dpo-lab builds and that the static SVG renderer
 * understands. Every interface stays open (`[key: string]: unknown`) so a notebook can set any
 * other plotly attribute; the SVG fallback simply ignores what it does not know.
 *
 * @module
 */

/** A colorscale as plotly takes it: `[fraction in 0..1, CSS colour]` stops, ascending. */
export type Colorscale = Array<[number, string]>;

/** Line styling of a scatter trace or a shape. */
export interface LineStyle {
  color?: string;
  /** Width in px. */
  width?: number;
  dash?: "solid" | "dot" | "dash" | "dashdot" | "longdash";
  shape?: "linear" | "spline" | "hv";
  [key: string]: unknown;
}

/** Marker styling of a scatter trace. */
export interface MarkerStyle {
  color?: string | string[];
  /** Diameter in px. */
  size?: number;
  opacity?: number;
  symbol?: string;
  line?: { color?: string; width?: number };
  [key: string]: unknown;
}

/** Fields every trace type shares. */
export interface TraceBase {
  name?: string;
  showlegend?: boolean;
  legendgroup?: string;
  opacity?: number;
  /** Axis ids, e.g. `"x"`, `"x2"` (plotly's naming). */
  xaxis?: string;
  yaxis?: string;
  hovertemplate?: string;
  [key: string]: unknown;
}

/** `scatter` / `scattergl`: lines, markers, filled and stacked areas, line segments. */
export interface ScatterTrace extends TraceBase {
  type: "scatter" | "scattergl";
  /** `null` entries break the line, which is how quiver arrows become one trace. */
  x: Array<number | string | null>;
  y: Array<number | null>;
  mode?: "lines" | "markers" | "lines+markers" | "text" | "markers+text" | "none";
  line?: LineStyle;
  marker?: MarkerStyle;
  fill?: "none" | "tozeroy" | "tonexty" | "toself";
  fillcolor?: string;
  /** Traces with the same stackgroup are stacked in order (y accumulates). */
  stackgroup?: string;
  text?: string | string[];
  connectgaps?: boolean;
}

/** `heatmap`: `z[row][col]`, rows along y, columns along x; x and y are cell centres. */
export interface HeatmapTrace extends TraceBase {
  type: "heatmap";
  z: Array<Array<number | null>>;
  x?: number[];
  y?: number[];
  colorscale?: Colorscale | string;
  zmin?: number;
  zmax?: number;
  showscale?: boolean;
  reversescale?: boolean;
  colorbar?: {
    title?: { text?: string };
    x?: number;
    y?: number;
    len?: number;
    [k: string]: unknown;
  };
  zsmooth?: false | "fast" | "best";
}

/** `bar`: vertical bars. */
export interface BarTrace extends TraceBase {
  type: "bar";
  x: Array<number | string>;
  y: number[];
  marker?: MarkerStyle;
  width?: number;
}

/** Any trace the library builds. Other plotly traces are allowed but not drawn in SVG. */
export type Trace = ScatterTrace | HeatmapTrace | BarTrace;

/** Text with an optional font, as plotly nests titles. */
export interface TitleSpec {
  text?: string;
  font?: FontSpec;
  x?: number;
  xanchor?: "auto" | "left" | "center" | "right";
  [key: string]: unknown;
}

/** Font settings. */
export interface FontSpec {
  family?: string;
  size?: number;
  color?: string;
}

/** One cartesian axis (`layout.xaxis`, `layout.yaxis2`, ...). */
export interface Axis {
  title?: TitleSpec;
  type?: "linear" | "log" | "category" | "-";
  range?: [number, number];
  autorange?: boolean | "reversed";
  /** Fraction of the paper the axis spans. */
  domain?: [number, number];
  /** The perpendicular axis this one is drawn against, e.g. `"y2"`. */
  anchor?: string;
  /** Share the range with another axis, e.g. `"x"`. */
  matches?: string;
  showgrid?: boolean;
  zeroline?: boolean;
  showticklabels?: boolean;
  rangemode?: "normal" | "tozero" | "nonnegative";
  [key: string]: unknown;
}

/** A text note placed in paper or data coordinates. */
export interface Annotation {
  text: string;
  x: number;
  y: number;
  xref?: string;
  yref?: string;
  xanchor?: "auto" | "left" | "center" | "right";
  yanchor?: "auto" | "top" | "middle" | "bottom";
  showarrow?: boolean;
  font?: FontSpec;
  bgcolor?: string;
  [key: string]: unknown;
}

/** A line or rectangle drawn in paper or data coordinates. */
export interface Shape {
  type: "line" | "rect";
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  xref?: string;
  yref?: string;
  line?: LineStyle;
  fillcolor?: string;
  layer?: "above" | "below";
  [key: string]: unknown;
}

/** Figure layout. Sizes are px. */
export interface Layout {
  title?: TitleSpec;
  width?: number;
  height?: number;
  margin?: { l?: number; r?: number; t?: number; b?: number; pad?: number };
  font?: FontSpec;
  showlegend?: boolean;
  legend?: { x?: number; y?: number; orientation?: "v" | "h"; [key: string]: unknown };
  paper_bgcolor?: string;
  plot_bgcolor?: string;
  annotations?: Annotation[];
  shapes?: Shape[];
  colorway?: string[];
  /** Axes are `xaxis`, `xaxis2`, ..., `yaxis`, `yaxis2`, ... . */
  [key: string]: unknown;
}

/** plotly.js config (interaction options); passed through to the browser untouched. */
export interface Config {
  responsive?: boolean;
  displaylogo?: boolean;
  [key: string]: unknown;
}

/** A plotly figure: what `Plotly.newPlot(el, data, layout, config)` takes. */
export interface Figure {
  data: Trace[];
  layout: Layout;
  config: Config;
}
