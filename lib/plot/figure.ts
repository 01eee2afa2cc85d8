/**
 * Making figures: the house style applied to a plotly spec, and a display hook so a figure that
 * is the value of a notebook cell shows itself in a live frontend (headless runs may drop such a
 * late value: notebooks use `await show(fig)`).
 *
 * @module
 */
import { mimeBundle } from "./display/bundle.ts";
import { noteFigure } from "./display/session.ts";
import { styledLayout } from "./style.ts";
import { pinLogTicks } from "./log_axes.ts";
import type { Config, Figure, Layout, Trace } from "./types.ts";

/**
 * The symbol the Deno Jupyter kernel looks up on a cell's value (`Deno.jupyter.$display`), as a
 * registered symbol so it exists outside the kernel too.
 */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** A figure that renders itself when it is the value of a Jupyter cell. */
export interface DisplayableFigure extends Figure {
  [JUPYTER_DISPLAY](): Record<string, unknown>;
}

/** Input of {@link makeFigure}: any plotly figure spec. */
export interface FigureSpec {
  data: Trace[];
  layout?: Layout;
  config?: Config;
}

/** Options for {@link makeFigure}. */
export interface MakeFigureOptions {
  /** Fill in the house style under the layout (default true). */
  style?: boolean;
}

const CONFIG_DEFAULTS: Config = {
  responsive: true,
  displaylogo: false,
  // The toolbar sits over the title's right end: show it only while the pointer is on the figure.
  displayModeBar: "hover",
  // Exported PNGs from the modebar should be as sharp as `save()`'s.
  toImageButtonOptions: { format: "png", scale: 2 },
};

/**
 * Turn a plotly spec into a displayable {@link Figure}: house style under the layout (log axes
 * get the static renderer's decade ticks, see {@link pinLogTicks}), sensible
 * config, and the Jupyter display hook. The hook is an enumerable symbol property, so
 * `{...fig, layout}` copies keep displaying, while `JSON.stringify(fig)` is plain plotly JSON.
 *
 * @example
 * ```ts
 * import { makeFigure } from "./figure.ts";
 * const fig = makeFigure({
 *   data: [{ type: "scatter", mode: "lines", x: [0, 1, 2], y: [0.7, 0.5, 0.4], name: "loss" }],
 *   layout: { title: { text: "Loss" }, xaxis: { title: { text: "step" } } },
 * });
 * console.log(JSON.parse(JSON.stringify(fig)).layout.title.text); // "Loss"
 * ```
 */
export function makeFigure(spec: FigureSpec, opts: MakeFigureOptions = {}): DisplayableFigure {
  if (!spec || !Array.isArray(spec.data)) {
    throw new TypeError("makeFigure: spec.data must be an array of plotly traces");
  }
  const layout = opts.style === false
    ? { ...(spec.layout ?? {}) }
    : pinLogTicks(styledLayout(spec.layout ?? {}), spec.data);
  return {
    data: spec.data,
    layout,
    config: { ...CONFIG_DEFAULTS, ...(spec.config ?? {}) },
    [JUPYTER_DISPLAY]() {
      // The Deno kernel can send a cell's value after the cell has finished, and headless runs
      // then drop it: noted in the census as "value" so tests can tell; use `await show(fig)`.
      return mimeBundle(this, { figureId: noteFigure(this, "value") });
    },
  };
}
