/**
 * plot: plotly figures for DPO research, shown in the Deno Jupyter kernel and saved for
 * write-ups.
 *
 * - Builders take plain numbers and records (never tensors) and return a {@link Figure}:
 *   {@link rewardCurves}, {@link pairTrajectories}, {@link massEvolution},
 *   {@link displacementVsChes}, {@link gradientFieldFigure}, {@link objectiveFields},
 *   {@link runComparison}; generic {@link lineFigure}, {@link scatterFigure},
 *   {@link heatmapFigure}, and {@link subplots} for small multiples.
 * - Show figures with `await show(fig)`; {@link liveFigure} updates one output in place while a
 *   cell runs. A figure left as a cell's value also displays itself in a live frontend, but the
 *   Deno kernel may send it after the cell finished, and headless runs then drop it.
 * - {@link save} writes HTML, SVG or PNG; {@link reportHtml} builds a page of text and figures.
 *
 * @example Reward curves in a notebook cell
 * ```ts
 * import { rewardCurves, show } from "./mod.ts";
 * const records = [0, 10, 20].map((step) => ({
 *   step, "rewards/chosen": step / 100, "rewards/rejected": -step / 50,
 *   "rewards/margins": (3 * step) / 100, "rewards/accuracies": Math.min(1, 0.5 + step / 40),
 * }));
 * await show(rewardCurves(records)); // outside Jupyter: prints a text summary
 * ```
 *
 * @module
 */
export type {
  Annotation,
  Axis,
  BarTrace,
  Colorscale,
  Config,
  Figure,
  HeatmapTrace,
  Layout,
  ScatterTrace,
  Shape,
  Trace,
} from "./types.ts";
export { COLORSCALES, OKABE_ITO, PALETTE, ROLE_COLORS, seriesColor } from "./style.ts";
export { type DisplayableFigure, type FigureSpec, JUPYTER_DISPLAY, makeFigure } from "./figure.ts";
export {
  type GenericOptions,
  type HeatmapData,
  heatmapFigure,
  type HeatmapOptions,
  lineFigure,
  scatterFigure,
  type Series,
} from "./generic.ts";
export { type SubplotOptions, subplots } from "./subplots.ts";
export { metricSeries, metricTitle, type StepRecord, type XY } from "./records.ts";
export {
  type NamedRun,
  type RewardCurveOptions,
  rewardCurves,
  runComparison,
  type RunComparisonOptions,
} from "./training.ts";
export { pairTrajectories } from "./pair_trajectories.ts";
export type { PairTrajectoryOptions } from "./pair_trajectories.ts";
export { type MassData, massEvolution, type MassOptions, type MassSnapshot } from "./mass.ts";
export { type ChesFigureOptions, displacementVsChes } from "./ches.ts";
export {
  type GradientFieldData,
  gradientFieldFigure,
  type GradientFieldOptions,
  type NamedField,
  objectiveFields,
  type ObjectiveFieldsOptions,
  quiverSegments,
} from "./field.ts";
export { figureToSvg, type SvgOptions } from "./svg.ts";
export { figurePageHtml, plotlyLoaderHtml } from "./html.ts";
export {
  type BundleOptions,
  FIGURE_LOG_ENV,
  FIGURE_MIME,
  type LiveFigure,
  liveFigure,
  type LiveOptions,
  type MimeBundle,
  mimeBundle,
  noteFigure,
  resetPlotlySession,
  show,
  type ShowOptions,
  summarize,
} from "./display.ts";
export {
  findChromium,
  headlessChromiumArgs,
  renderPng,
  save,
  type SaveFigureOptions,
  type SaveFormat,
} from "./save.ts";
export { type ReportBlock, reportHtml, type ReportOptions } from "./report.ts";
export { TRL_EXTRA_KEYS, trlMetricCurves } from "./trl_metrics.ts";
export { type ChesTokenData, chesTokenFigure, type ChesTokenFigureOptions } from "./ches_tokens.ts";
export { type InfluenceData, influenceFigure, type InfluenceFigureOptions } from "./influence.ts";
export { LONG_PALETTE, seriesColors } from "./style.ts";
export { pinLogTicks } from "./log_axes.ts";
