/**
 * A self-contained HTML report page: text and several figures, one inlined copy of plotly.js,
 * readable offline.
 *
 * @module
 */
import { figureHtml, htmlDocument } from "./html.ts";
import { escapeXml } from "./text.ts";
import type { Figure } from "./types.ts";

/**
 * A block of a report: a figure; text with a little Markdown (`#`/`##`/`###` headings, blank-line
 * paragraphs, `- ` lists, `` `code` ``, `**bold**`, `*italic*`); or raw HTML that you trust.
 */
export type ReportBlock = Figure | string | { html: string };

/** Options for {@link reportHtml}. */
export interface ReportOptions {
  /** Page title (also the first heading unless the blocks start with one). */
  title?: string;
  /** Include a static SVG inside each figure, shown if scripts are blocked (default false). */
  fallback?: boolean;
}

function inline(s: string): string {
  return escapeXml(s)
    // \x60 is the backtick, written so that tools that scan for strings do not take the
    // backticks of this regex for a template literal.
    .replace(/\x60([^\x60]+)\x60/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>");
}

/** The small Markdown subset of {@link ReportBlock} text, as HTML. */
export function markdownToHtml(text: string): string {
  const out: string[] = [];
  for (const para of text.replace(/\r\n/g, "\n").split(/\n\s*\n/)) {
    const lines = para.split("\n").filter((l) => l.trim() !== "");
    if (!lines.length) continue;
    const h = /^(#{1,3})\s+(.*)$/.exec(lines[0]);
    if (h && lines.length === 1) {
      const level = h[1].length;
      out.push(`<h${level}>${inline(h[2])}</h${level}>`);
    } else if (lines.every((l) => /^\s*[-*]\s+/.test(l))) {
      out.push(
        `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*]\s+/, ""))}</li>`).join("")}</ul>`,
      );
    } else {
      out.push(`<p>${lines.map(inline).join("\n")}</p>`);
    }
  }
  return out.join("\n");
}

function isFigure(b: unknown): b is Figure {
  return typeof b === "object" && b !== null && Array.isArray((b as Figure).data);
}

/**
 * Build a self-contained HTML page from text and figures, in order.
 *
 * @example
 * ```ts
 * import { reportHtml } from "./report.ts";
 * import { lineFigure } from "./generic.ts";
 * const page = reportHtml([
 *   "## Loss\nDPO's loss falls quickly at first.",
 *   lineFigure({ x: [0, 1, 2], y: [0.69, 0.5, 0.42] }, { xTitle: "step", yTitle: "loss (nats)" }),
 * ], { title: "Run 12" });
 * await Deno.writeTextFile(await Deno.makeTempFile({ suffix: ".html" }), page);
 * ```
 */
export function reportHtml(blocks: readonly ReportBlock[], opts: ReportOptions = {}): string {
  if (!Array.isArray(blocks)) throw new TypeError("reportHtml: blocks must be an array");
  const title = opts.title ?? "dpo-lab report";
  const parts: string[] = [];
  const startsWithHeading = typeof blocks[0] === "string" && /^\s*#\s/.test(blocks[0]);
  if (opts.title && !startsWithHeading) parts.push(`<h1>${escapeXml(opts.title)}</h1>`);
  blocks.forEach((b, i) => {
    if (typeof b === "string") parts.push(markdownToHtml(b));
    else if (isFigure(b)) parts.push(figureHtml(b, { fallback: opts.fallback ?? false }));
    else if (b && typeof (b as { html?: unknown }).html === "string") {
      parts.push((b as { html: string }).html);
    } else throw new TypeError(`reportHtml: block ${i} is neither text, a figure nor { html }`);
  });
  return htmlDocument(title, `<main>\n${parts.join("\n")}\n</main>`);
}
