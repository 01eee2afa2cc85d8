import assert from "node:assert/strict";
import { renderSftCard, type SftReport } from "../../tools/pretrain/sft.ts";

const share = (s: number, topCounts: Record<string, number>) => ({
  share: s,
  minShare: s / 2,
  noSidePart: 0.5,
  cautiousSideOnTop: 0.75,
  topCounts,
});
const loss = (l: number) => ({ loss: l, perplexity: Math.exp(l), tokens: 1000 });

Deno.test("renderSftCard states the measured shares, the word split and the perplexity ratio", () => {
  const r: SftReport = {
    recipe: { lr: 3e-4, epochs: 5, batchSize: 8, seed: 0, splitSeed: 11, optimizer: "rmsprop" },
    trainQuestions: 155,
    heldOutQuestions: 39,
    steps: 100,
    firstLoss: 10.5,
    finalLoss: 1.5,
    seconds: 12.3,
    base: share(0.0021, { "No": 39 }),
    sft: share(0.9110, { "No": 20, "Yes": 11, "Sure": 8 }),
    brown: { base: loss(5.456), sft: loss(5.657), unigram: loss(6.854) },
    backend: "tfjs wasm",
    command: "deno task lab sft --backend wasm",
  };
  const card = renderSftCard(r, "data/models/tiny");
  assert.match(card, /\| base \| \*\*0\.002\*\* \| 0\.001 \|/);
  assert.match(
    card,
    /\| SFT \| \*\*0\.911\*\* \| 0\.456 \| 0\.500 \| 0\.750 \| 5\.657 \| 286\.3 \|/,
  );
  // exp(6.854) / exp(5.657) = exp(1.197) = 3.31
  assert.match(card, /3\.31 times below the unigram/);
  assert.match(card, /SFT: "No" 20, "Yes" 11, "Sure" 8/);
  assert.match(card, /cautious side for 75%/);
  assert.match(card, /holds out 39\s+of the 194/);
  assert.match(card, /deno task lab sft --backend wasm/);
});
