/**
 * Gradient fields of preference objectives over the (u_w, u_l) plane of chosen/rejected sequence
 * scores: a heatmap (gradient norm, or any background such as the loss) with arrows drawn as
 * line segments, and small multiples comparing objectives.
 *
 * @module
 */
import { type DisplayableFigure, makeFigure } from "./figure.ts";
import { gapped } from "./records.ts";
import { COLORSCALES } from "./style.ts";
import { subplots } from "./subplots.ts";
import type { Colorscale, HeatmapTrace, ScatterTrace, Shape } from "./types.ts";

/**
 * An objective's loss gradient sampled on a grid; rows follow `uL`, columns follow `uW`. This is
 * the shape `gradientField(objective, spec)` of the objectives area returns, so its result can
 * be passed straight in.
 */
export interface GradientFieldData {
  /** Chosen-score grid values (x axis), ascending. */
  uW: ArrayLike<number>;
  /** Rejected-score grid values (y axis), ascending. */
  uL: ArrayLike<number>;
  /** `gW[i][j]` = dL/du_w at (uW[j], uL[i]). */
  gW: ArrayLike<number>[];
  /** `gL[i][j]` = dL/du_l at (uW[j], uL[i]). */
  gL: ArrayLike<number>[];
  /** Loss on the grid, same shape (used when `background: "loss"`). */
  loss?: ArrayLike<number>[];
}

/** Options for {@link gradientFieldFigure}. */
export interface GradientFieldOptions {
  /** Arrows point along `-grad` (where gradient descent moves the scores; default) or `+grad`. */
  direction?: "descent" | "gradient";
  /** At most this many arrows along each axis (default 13); the grid is subsampled evenly. */
  arrows?: number;
  /** `"max"` (default): length proportional to the gradient norm, longest = one arrow cell;
   * `"unit"`: all arrows one cell long (direction only; the heatmap shows the size). */
  normalize?: "max" | "unit";
  /** Arrow length as a fraction of the arrow cell (default 0.85). */
  arrowScale?: number;
  /** Heatmap under the arrows: the gradient norm (default), the loss, or any grid of the same
   * shape. */
  background?: "norm" | "loss" | ArrayLike<number>[];
  /** Colorbar title; default "‖∇L‖", "loss (nats)" or "background". */
  backgroundTitle?: string;
  colorscale?: "viridis" | "diverging" | "greys" | Colorscale;
  zmin?: number;
  zmax?: number;
  /** Draw the u_w = u_l diagonal (zero margin), default true. */
  diagonal?: boolean;
  xTitle?: string;
  yTitle?: string;
  title?: string;
}

function checkGrid(name: string, g: ArrayLike<number>[] | undefined, rows: number, cols: number) {
  if (!Array.isArray(g) || g.length !== rows) {
    throw new RangeError(
      `gradientFieldFigure: ${name} must have ${rows} rows (one per uL), got ${g?.length}`,
    );
  }
  g.forEach((r, i) => {
    if (r.length !== cols) {
      throw new RangeError(
        `gradientFieldFigure: ${name}[${i}] has ${r.length} values, expected ${cols} (one per uW)`,
      );
    }
  });
}

/** Mean spacing of an ascending grid (1 for a single point). */
function spacing(v: number[]): number {
  return v.length > 1 ? (v[v.length - 1] - v[0]) / (v.length - 1) : 1;
}

/** Indices 0, s, 2s, ... chosen so at most `max` remain, centred in the grid. */
function subsample(n: number, max: number): number[] {
  const stride = Math.max(1, Math.ceil(n / max));
  const count = Math.floor((n - 1) / stride) + 1;
  const start = Math.floor((n - 1 - (count - 1) * stride) / 2);
  return Array.from({ length: count }, (_, k) => start + k * stride);
}

/**
 * Arrow segments for a vector field: for each sampled grid point a shaft from the point along
 * the vector, plus two head strokes at ±25° from the tip, each 30% of the shaft; segments are
 * separated by nulls (one plotly trace draws them all). Exposed for testing and custom plots.
 *
 * @example
 * ```ts
 * import { quiverSegments } from "./field.ts";
 * const s = quiverSegments({ uW: [0], uL: [0], gW: [[-1]], gL: [[0]] }, { arrows: 1, arrowScale: 1 });
 * console.log(s.x.slice(0, 2), s.y.slice(0, 2)); // [0, 1] [0, 0] (descent: -grad = (+1, 0))
 * ```
 */
export function quiverSegments(
  field: GradientFieldData,
  opts: Pick<GradientFieldOptions, "direction" | "arrows" | "normalize" | "arrowScale"> = {},
): { x: Array<number | null>; y: Array<number | null> } {
  const uw = Array.from(field.uW), ul = Array.from(field.uL);
  checkGrid("gW", field.gW, ul.length, uw.length);
  checkGrid("gL", field.gL, ul.length, uw.length);
  const sign = (opts.direction ?? "descent") === "descent" ? -1 : 1;
  const maxArrows = opts.arrows ?? 13;
  if (!Number.isInteger(maxArrows) || maxArrows < 1) {
    throw new RangeError(
      `gradientFieldFigure: arrows must be a positive integer, got ${maxArrows}`,
    );
  }
  const scale = opts.arrowScale ?? 0.85;
  const cols = subsample(uw.length, maxArrows), rows = subsample(ul.length, maxArrows);
  const strideW = cols.length > 1 ? cols[1] - cols[0] : uw.length;
  const strideL = rows.length > 1 ? rows[1] - rows[0] : ul.length;
  const cell = Math.min(
    Math.abs(spacing(uw)) * (uw.length > 1 ? strideW : 1),
    Math.abs(spacing(ul)) * (ul.length > 1 ? strideL : 1),
  );
  let maxNorm = 0;
  for (const i of rows) {
    for (const j of cols) {
      const n = Math.hypot(field.gW[i][j], field.gL[i][j]);
      if (Number.isFinite(n)) maxNorm = Math.max(maxNorm, n);
    }
  }
  const x: Array<number | null> = [], y: Array<number | null> = [];
  const head = (25 * Math.PI) / 180;
  for (const i of rows) {
    for (const j of cols) {
      const vx = sign * field.gW[i][j], vy = sign * field.gL[i][j];
      const norm = Math.hypot(vx, vy);
      if (!(norm > 0) || !Number.isFinite(norm) || !(maxNorm > 0)) continue;
      const len = scale * cell * ((opts.normalize ?? "max") === "unit" ? 1 : norm / maxNorm);
      const dx = vx / norm, dy = vy / norm;
      const x0 = uw[j], y0 = ul[i], x1 = x0 + len * dx, y1 = y0 + len * dy;
      const h = 0.3 * len;
      x.push(x0, x1, null);
      y.push(y0, y1, null);
      for (const a of [head, -head]) {
        // Rotate the reversed direction (-dx, -dy) by ±25° for the two head strokes.
        const hx = -dx * Math.cos(a) + dy * Math.sin(a);
        const hy = -dx * Math.sin(a) - dy * Math.cos(a);
        x.push(x1, x1 + h * hx, null);
        y.push(y1, y1 + h * hy, null);
      }
    }
  }
  return { x, y };
}

/** The heatmap grid and its colorbar title for a field and options. */
function backgroundOf(
  field: GradientFieldData,
  opts: GradientFieldOptions,
): { z: Array<Array<number | null>>; title: string } {
  const rows = field.gW.length, cols = Array.from(field.uW).length;
  const bg = opts.background ?? "norm";
  if (bg === "norm") {
    return {
      z: field.gW.map((r, i) => gapped(Array.from(r, (g, j) => Math.hypot(g, field.gL[i][j])))),
      title: opts.backgroundTitle ?? "‖∇L‖",
    };
  }
  if (bg === "loss") {
    if (!field.loss) {
      throw new TypeError('gradientFieldFigure: background "loss" needs field.loss');
    }
    checkGrid("loss", field.loss, rows, cols);
    return { z: field.loss.map((r) => gapped(r)), title: opts.backgroundTitle ?? "loss (nats)" };
  }
  checkGrid("background", bg, rows, cols);
  return { z: bg.map((r) => gapped(r)), title: opts.backgroundTitle ?? "background" };
}

/**
 * Gradient field of an objective over (u_w, u_l): heatmap of the gradient norm (or the loss)
 * with arrows in the descent direction, and the zero-margin diagonal. Axes keep equal scale so
 * arrow angles are true.
 *
 * @example
 * ```ts
 * import { gradientFieldFigure } from "./field.ts";
 * // DPO with beta = 1: L = -log sigmoid(u_w - u_l), so dL/du_w = -sigmoid(u_l - u_w).
 * const grid = [-2, -1, 0, 1, 2];
 * const sig = (z: number) => 1 / (1 + Math.exp(-z));
 * const gW = grid.map((ul) => grid.map((uw) => -sig(ul - uw)));
 * const gL = gW.map((row) => row.map((g) => -g));
 * const fig = gradientFieldFigure({ uW: grid, uL: grid, gW, gL }, { title: "DPO" });
 * console.log(fig.data[0].type, fig.data[1].type); // heatmap scatter
 * ```
 */
export function gradientFieldFigure(
  field: GradientFieldData,
  opts: GradientFieldOptions = {},
): DisplayableFigure {
  const uw = Array.from(field?.uW ?? []), ul = Array.from(field?.uL ?? []);
  if (uw.length < 1 || ul.length < 1) {
    throw new RangeError("gradientFieldFigure: uW and uL need at least one value each");
  }
  const seg = quiverSegments(field, opts);
  const { z, title: zTitle } = backgroundOf(field, opts);
  const scale = opts.colorscale ?? "viridis";
  const heat: HeatmapTrace = {
    type: "heatmap",
    x: uw,
    y: ul,
    z,
    colorscale: typeof scale === "string" ? COLORSCALES[scale] : scale,
    colorbar: {
      title: { text: zTitle },
    },
    ...(opts.zmin !== undefined ? { zmin: opts.zmin } : {}),
    ...(opts.zmax !== undefined ? { zmax: opts.zmax } : {}),
    hovertemplate: "u<sub>w</sub> %{x:.3g}<br>u<sub>l</sub> %{y:.3g}<br>%{z:.3g}<extra></extra>",
  };
  const name = (opts.direction ?? "descent") === "descent" ? "descent direction" : "gradient";
  // A dark, wider stroke under a white one reads on both ends of the colour scale.
  const stroke = (line: { color: string; width: number }, opacity?: number): ScatterTrace => ({
    type: "scatter",
    mode: "lines",
    x: seg.x,
    y: seg.y,
    name,
    legendgroup: name,
    showlegend: false,
    line,
    ...(opacity !== undefined ? { opacity } : {}),
    hoverinfo: "skip",
  });
  const halo = stroke({ color: "#000000", width: 3 }, 0.55);
  const arrows = stroke({ color: "#FFFFFF", width: 1.4 });
  const lo = Math.max(Math.min(...uw), Math.min(...ul)),
    hi = Math.min(Math.max(...uw), Math.max(...ul));
  const shapes: Shape[] = (opts.diagonal ?? true) && hi > lo
    ? [{
      type: "line",
      x0: lo,
      y0: lo,
      x1: hi,
      y1: hi,
      xref: "x",
      yref: "y",
      line: { color: "#FFFFFF", width: 1.2, dash: "dash" },
    }]
    : [];
  // Each axis spans its grid plus half a cell on both ends, so edge cells show whole.
  const axis = (title: string, u: number[]) => {
    const half = (u.length > 1 ? Math.abs(spacing(u)) : 1) / 2;
    return {
      title: { text: title },
      range: [Math.min(...u) - half, Math.max(...u) + half],
      showgrid: false,
      zeroline: false,
    };
  };
  return makeFigure({
    data: [heat, halo, arrows],
    layout: {
      title: { text: opts.title ?? "Gradient field" },
      // Fixed size so the square (equal-scale) plot area fills the figure.
      width: 600,
      height: 520,
      xaxis: {
        ...axis(opts.xTitle ?? "u<sub>w</sub>: chosen score (nats)", uw),
        constrain: "domain",
      },
      yaxis: {
        ...axis(opts.yTitle ?? "u<sub>l</sub>: rejected score (nats)", ul),
        scaleanchor: "x",
        scaleratio: 1,
        constrain: "domain",
      },
      shapes,
    },
  });
}

/** Pixels between rows of field panels: x tick labels (~20 px) and the next panel's title. */
const ROW_GAP_PX = 64;

/** One objective's field for {@link objectiveFields}. */
export interface NamedField {
  name: string;
  field: GradientFieldData;
}

/** Options for {@link objectiveFields}. */
export interface ObjectiveFieldsOptions extends GradientFieldOptions {
  /** Panels per row (default 3). */
  columns?: number;
  /** Use one colour range for every panel (default true), so backgrounds compare directly. */
  sharedScale?: boolean;
}

/**
 * Small multiples of gradient fields, one panel per objective, with a shared colour range.
 *
 * @example
 * ```ts
 * import { objectiveFields } from "./field.ts";
 * const g = [-1, 0, 1];
 * const field = (k: number) => ({
 *   uW: g, uL: g,
 *   gW: g.map(() => g.map(() => -k)),
 *   gL: g.map(() => g.map(() => k)),
 * });
 * const fig = objectiveFields([{ name: "A", field: field(1) }, { name: "B", field: field(2) }]);
 * console.log(fig.layout.annotations?.map((a) => a.text)); // ["<b>A</b>", "<b>B</b>"]
 * ```
 */
export function objectiveFields(
  panels: readonly NamedField[],
  opts: ObjectiveFieldsOptions = {},
): DisplayableFigure {
  if (!Array.isArray(panels) || panels.length === 0) {
    throw new RangeError("objectiveFields: need at least one { name, field }");
  }
  let { zmin, zmax } = opts;
  if (opts.sharedScale ?? true) {
    let lo = Infinity, hi = -Infinity;
    for (const { field } of panels) {
      for (const row of backgroundOf(field, opts).z) {
        for (const v of row) {
          if (v !== null) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
        }
      }
    }
    if (Number.isFinite(lo)) {
      zmin ??= lo;
      zmax ??= hi;
    }
  }
  const figs = panels.map((p) =>
    gradientFieldFigure(p.field, {
      ...opts,
      zmin,
      zmax,
      title: p.name,
      xTitle: opts.xTitle ?? "u<sub>w</sub> (nats)",
      yTitle: opts.yTitle ?? "u<sub>l</sub> (nats)",
    })
  );
  const asked = Math.max(1, Math.min(panels.length, Math.trunc(opts.columns ?? 3)));
  const width = 260 * asked + 200;
  // subplots() wraps to at most one panel per 330 px of width; take the same count here, so
  // the rows (and the room between them for titles) are the rows it draws.
  const columns = Math.max(1, Math.min(asked, Math.floor(width / 330)));
  const rows = Math.ceil(panels.length / columns);
  // Size the figure so square panels (equal axis scales) fill their cells: the plot area's
  // width minus margins (80 + 30) and colorbar (~80) split into columns with 10% gaps. Rows are
  // a fixed ROW_GAP_PX apart (room for tick labels and the next panel's title); a gap given as
  // a fraction of a tall figure left ~250 px of white between rows.
  const panelPx = ((width - 190) * (1 - (columns - 1) * 0.1)) / columns;
  const plotPx = rows * panelPx + (rows - 1) * ROW_GAP_PX;
  const ygap = rows > 1 ? ROW_GAP_PX / plotPx : 0;
  const title = opts.title ?? "Gradient fields by objective";
  const fig = subplots(figs, { columns, rowHeight: panelPx, width, xgap: 0.1, ygap, title });
  const m = fig.layout.margin ?? {};
  fig.layout.height = Math.round(plotPx + (m.t ?? 0) + (m.b ?? 0));
  return fig;
}
