/**
 * The model card (README.md) of the shipped tiny model, rendered from a pretraining report.
 *
 * @module
 */
import type { PretrainReport } from "./export.ts";

/**
 * Render the model card as Markdown from measured numbers only.
 *
 * @example
 * ```ts ignore
 * import { renderCard } from "./card.ts";
 * const report = JSON.parse(await Deno.readTextFile("data/models/tiny/pretrain_report.json"));
 * console.log(renderCard(report).split("\n")[0]); // # tiny-brown-gpt2
 * ```
 */
export function renderCard(r: PretrainReport): string {
  const c = r.config;
  const f = (x: number, d = 4) => x.toFixed(d);
  return `# tiny-brown-gpt2\n\nsteps ${r.steps}, held-out loss ${f(r.heldOut.loss)} (ppl ${
    f(r.heldOut.perplexity, 1)
  }) vs unigram ${f(r.unigram.loss)} (ppl ${f(r.unigram.perplexity, 1)}), seed ${c.seed}\n`;
}
