/**
 * A pair's completion tokens coloured by their share of its CHES (per-token CHES, see
 * `lib/analysis/ches_tokens.ts`): the tokens in warm colours make the two responses look alike
 * to the model and push the preferred response down.
 *
 * @module
 */
import { type DisplayableFigure, makeFigure } from "./figure.ts";
import { COLORSCALES } from "./style.ts";
import type { Annotation } from "./types.ts";

/** One pair's tokens and their contributions (plain numbers, aligned). */
export interface ChesTokenData {
  chosenTokens: readonly string[];
  rejectedTokens: readonly string[];
  chosen: ArrayLike<number>;
  rejected: ArrayLike<number>;
}

/** Options of {@link chesTokenFigure}. */
export interface ChesTokenFigureOptions {
  title?: string;
  /** Tokens per line before wrapping (default 12). */
  perLine?: number;
  /** Colorbar title (default "contribution to CHES": the tokens' values sum to the pair's CHES). */
  zTitle?: string;
}

/**
 * Printable token text: whitespace made visible, long tokens cut, and `& < >` written as
 * entities, since plotly reads annotation text as rich text (a token "<b>" would be a tag).
 */
function show(t: string): string {
  let s = t.replace(/\n/g, "⏎").replace(/\t/g, "⇥").replace(/^ /, "·");
  if (s.length > 8) s = s.slice(0, 7) + "…";
  return (s || "∅").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The chosen tokens (top block) and the rejected ones (below), wrapped `perLine` to a line,
 * each cell coloured by its contribution on a diverging scale centred on 0 and labelled with
 * its text (a leading space shown as `·`). `layout.meta` holds `{ total, chosenTotal,
 * rejectedTotal }`.
 *
 * @example
 * ```ts
 * import { chesTokenFigure } from "./ches_tokens.ts";
 * const fig = chesTokenFigure({
 *   chosenTokens: [" No", "."], rejectedTokens: [" Never", "."],
 *   chosen: [-5, -1], rejected: [4, 1.5],
 * });
 * console.log((fig.layout.meta as { total: number }).total); // -0.5
 * ```
 */
export function chesTokenFigure(
  d: ChesTokenData,
  opts: ChesTokenFigureOptions = {},
): DisplayableFigure {
  for (const side of ["chosen", "rejected"] as const) {
    const n = d[`${side}Tokens`].length, m = d[side].length;
    if (n !== m) {
      throw new RangeError(`chesTokenFigure: ${n} ${side} tokens but ${m} contributions`);
    }
    if (n === 0) throw new RangeError(`chesTokenFigure: no ${side} tokens`);
  }
  const per = opts.perLine ?? 12;
  if (!Number.isInteger(per) || per < 1) {
    throw new RangeError(`perLine: ${per} is not a positive integer`);
  }
  const lines = (n: number) => Math.ceil(n / per);
  const nc = lines(d.chosen.length), nr = lines(d.rejected.length);
  // Rows from the top: chosen lines, one blank separator row, rejected lines.
  const rows = nc + 1 + nr;
  const z: Array<Array<number | null>> = Array.from(
    { length: rows },
    () => new Array(per).fill(null),
  );
  const annotations: Annotation[] = [];
  const place = (tokens: readonly string[], values: ArrayLike<number>, top: number) => {
    tokens.forEach((t, k) => {
      const row = top + Math.floor(k / per), col = k % per;
      const y = rows - 1 - row;
      z[y][col] = values[k];
      annotations.push({
        text: show(t),
        x: col,
        y,
        xref: "x",
        yref: "y",
        showarrow: false,
        font: { size: 10 },
      });
    });
  };
  place(d.chosenTokens, d.chosen, 0);
  place(d.rejectedTokens, d.rejected, nc + 1);
  const label = (text: string, row: number) =>
    annotations.push({
      text,
      x: -0.6,
      y: rows - 1 - row,
      xref: "x",
      yref: "y",
      xanchor: "right",
      showarrow: false,
    });
  label("y+", 0);
  label("y−", nc + 1);
  const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);
  const chosenTotal = sum(d.chosen), rejectedTotal = sum(d.rejected);
  const m = Math.max(...Array.from(d.chosen, Math.abs), ...Array.from(d.rejected, Math.abs)) || 1;
  return makeFigure({
    data: [{
      type: "heatmap",
      z,
      colorscale: COLORSCALES.diverging,
      zmin: -m,
      zmax: m,
      colorbar: { title: { text: opts.zTitle ?? "contribution to CHES" } },
      hovertemplate: "%{z:.4g}<extra></extra>",
    }],
    layout: {
      title: {
        text: opts.title ??
          `Per-token CHES: y+ ${chosenTotal.toPrecision(3)} + y− ${
            rejectedTotal.toPrecision(3)
          } = ${(chosenTotal + rejectedTotal).toPrecision(3)}`,
      },
      xaxis: { showgrid: false, zeroline: false, showticklabels: false, range: [-1.6, per - 0.5] },
      yaxis: { showgrid: false, zeroline: false, showticklabels: false, range: [-0.5, rows - 0.5] },
      height: 120 + 34 * rows,
      annotations,
      meta: { total: chosenTotal + rejectedTotal, chosenTotal, rejectedTotal },
    },
  });
}
