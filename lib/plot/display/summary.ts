/**
 * A figure as text: title, traces with sizes and value ranges, axis titles; what terminals, logs
 * and text-only frontends show.
 *
 * @module
 */
import { plainText } from "../text.ts";
import type { Figure, HeatmapTrace } from "../types.ts";

function rangeText(ys: unknown[]): string {
  const v = ys.filter((y): y is number => typeof y === "number" && Number.isFinite(y));
  if (!v.length) return "no finite values";
  const f = (x: number) => Number(x.toPrecision(4)).toString();
  return `y ${f(Math.min(...v))} .. ${f(Math.max(...v))}`;
}

/**
 * A short text description of a figure: title, traces with sizes and value ranges, axis titles.
 * What terminals, logs and text-only frontends show.
 *
 * @example
 * ```ts
 * import { summarize } from "./summary.ts";
 * const text = summarize({
 *   data: [{ type: "scatter", x: [0, 1], y: [2, 3], name: "loss" }],
 *   layout: { title: { text: "Loss" } },
 *   config: {},
 * });
 * console.log(text.split("\n")[0]); // Figure "Loss" (1 trace)
 * ```
 */
export function summarize(fig: Figure): string {
  const title = plainText(fig.layout?.title?.text ?? "");
  const n = fig.data.length;
  const lines = [`Figure${title ? ` "${title}"` : ""} (${n} trace${n === 1 ? "" : "s"})`];
  const shown = fig.data.slice(0, 12);
  for (const t of shown) {
    const name = t.name ? plainText(t.name) : "(unnamed)";
    if (t.type === "heatmap") {
      const z = (t as HeatmapTrace).z;
      lines.push(
        `  - ${name}: heatmap ${z.length} x ${z[0]?.length ?? 0}, ${rangeText(z.flat())}`.replace(
          " y ",
          " z ",
        ),
      );
    } else {
      const ys = (t as { y?: unknown[] }).y ?? [];
      lines.push(`  - ${name}: ${t.type}, ${ys.length} points, ${rangeText(ys)}`);
    }
  }
  if (n > shown.length) lines.push(`  ... and ${n - shown.length} more`);
  const axes = Object.keys(fig.layout ?? {}).filter((k) => /^[xy]axis\d*$/.test(k)).sort()
    .map((k) => {
      const text = (fig.layout[k] as { title?: { text?: string } })?.title?.text;
      return text ? `${k}: ${plainText(text)}` : "";
    }).filter(Boolean);
  if (axes.length) lines.push(`  axes: ${axes.join("; ")}`);
  return lines.join("\n");
}
