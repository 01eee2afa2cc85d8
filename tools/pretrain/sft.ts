/**
 * `deno task lab sft`: the SFT'd tiny model of the single-token studies (Razin et al., arXiv
 * 2410.08847: SFT first, then DPO). SFT of `data/models/tiny` on a seeded 80% of the yes/no
 * questions (`yesNoSft`), then the measurements its card states: the answer-word share of the
 * next-token mass on the held-out 20% (base and SFT), the split between words, and the held-out
 * Brown perplexity before and after against the unigram baseline. Writes the model, its card
 * (`README.md`) and `sft_report.json`.
 *
 * @example
 * ```sh
 * deno task lab sft --backend wasm --out data/models/tiny-sft
 * ```
 *
 * @module
 */
import { type BackendName, initBackend } from "../../lib/backend.ts";
import { loadTokenizer, loadYesNoQuestions, type YesNoQuestion } from "../../lib/data/mod.ts";
import { type CausalLM, loadCausalLM, saveCausalLM } from "../../lib/models/mod.ts";
import {
  ANSWER_WORDS,
  type AnswerShare,
  answerShare,
  answerWordIds,
  NO_WORDS,
  splitQuestions,
  YES_WORDS,
  yesNoSft,
  type YesNoSftOptions,
} from "../../lib/study/mod.ts";
import { evalWindows } from "./data.ts";
import { evaluate, exists, prepareData, pretrainConfig, unigramBaseline } from "./train.ts";
import type { LossReport } from "./unigram.ts";
import { OptionCursor } from "./options.ts";

const HELP = `usage: lab sft [options]

  --model-dir DIR      base model (default data/models/tiny)
  --questions FILE     yes/no questions (default data/datasets/yesno_cautious/questions.jsonl)
  --out DIR            where the SFT model and its card go (default data/models/tiny-sft)
  --lr X --epochs N --batch N --seed N   the SFT recipe (defaults 3e-4, 5, 8, 0)
  --split-seed N       seed of the 80/20 question split (default 11)
  --backend NAME       tfjs backend (default: auto, see lab backend)
  --force              replace the files of an existing --out folder`;

/** What the card states; also written as `sft_report.json`. */
export interface SftReport {
  recipe: Required<YesNoSftOptions> & { splitSeed: number; optimizer: "rmsprop" };
  trainQuestions: number;
  heldOutQuestions: number;
  steps: number;
  firstLoss: number;
  finalLoss: number;
  seconds: number;
  base: ShareSummary;
  sft: ShareSummary;
  brown: { base: LossReport; sft: LossReport; unigram: LossReport };
  backend: string;
  command: string;
}

/** An {@link AnswerShare} reduced to what the card prints. */
export interface ShareSummary {
  share: number;
  minShare: number;
  noSidePart: number;
  cautiousSideOnTop: number;
  topCounts: Record<string, number>;
}

function summarize(s: AnswerShare, held: readonly YesNoQuestion[]): ShareSummary {
  const right = s.noSideFraction.filter((f, i) => (f > 0.5) === (held[i].cautiousAnswer === "No"));
  return {
    share: s.share,
    minShare: Math.min(...s.perPrompt),
    noSidePart: s.noSideFraction.reduce((a, b) => a + b, 0) / s.noSideFraction.length,
    cautiousSideOnTop: right.length / held.length,
    topCounts: s.topCounts,
  };
}

/**
 * Parse arguments, run the SFT recipe, measure, and write the model with its card.
 *
 * @example
 * ```ts ignore
 * import { sftCommand } from "./sft.ts";
 * await sftCommand(["--out", "/tmp/tiny-sft"]);
 * ```
 */
export async function sftCommand(args: string[]): Promise<number> {
  let modelDir = "data/models/tiny", out = "data/models/tiny-sft";
  let questionsFile = "data/datasets/yesno_cautious/questions.jsonl";
  let backend: BackendName | undefined, force = false, splitSeed = 11;
  const recipe: Required<YesNoSftOptions> = { lr: 3e-4, epochs: 5, batchSize: 8, seed: 0 };
  const opts = new OptionCursor(args);
  for (let a = opts.next(); a !== undefined; a = opts.next()) {
    if (a === "-h" || a === "--help") {
      console.log(HELP);
      return 0;
    } else if (a === "--model-dir") modelDir = opts.value();
    else if (a === "--questions") questionsFile = opts.value();
    else if (a === "--out") out = opts.value();
    else if (a === "--lr") recipe.lr = opts.num();
    else if (a === "--epochs") recipe.epochs = opts.num();
    else if (a === "--batch") recipe.batchSize = opts.num();
    else if (a === "--seed") recipe.seed = opts.num();
    else if (a === "--split-seed") splitSeed = opts.num();
    else if (a === "--backend") backend = opts.value() as BackendName;
    else if (a === "--force") force = true;
    else throw new TypeError(`unknown option '${a}' (see lab sft --help)`);
  }
  if (!force && await exists(`${out}/model.safetensors`)) {
    console.error(`${out}/model.safetensors exists; pass --force to replace it`);
    return 1;
  }
  const be = await initBackend(backend ? { backend } : {});
  console.log(`backend: ${be.name} (${be.adapter})`);
  const tok = await loadTokenizer(modelDir);
  const split = splitQuestions(await loadYesNoQuestions(questionsFile), {
    heldOutFraction: 0.2,
    seed: splitSeed,
  });
  const words = answerWordIds(tok);
  const prompts = split.heldOut.map((q) => tok.encode(q.question + "\n"));
  const data = await prepareData(pretrainConfig({ seed: 0 }), modelDir);
  const windows = evalWindows(data.heldOut, 128);
  const model = await loadCausalLM(modelDir);
  try {
    const measure = async (m: CausalLM) => ({
      share: summarize(await answerShare(m, prompts, words), split.heldOut),
      brown: await evaluate(m, windows),
    });
    const before = await measure(model);
    const t0 = performance.now();
    const run = await yesNoSft(model, tok, split.train, recipe);
    const seconds = (performance.now() - t0) / 1000;
    const after = await measure(model);
    const report: SftReport = {
      recipe: { ...recipe, splitSeed, optimizer: "rmsprop" },
      trainQuestions: split.train.length,
      heldOutQuestions: split.heldOut.length,
      steps: run.steps,
      firstLoss: run.records[0]?.loss ?? NaN,
      finalLoss: run.records.at(-1)?.loss ?? NaN,
      seconds,
      base: before.share,
      sft: after.share,
      brown: { base: before.brown, sft: after.brown, unigram: unigramBaseline(data, windows) },
      backend: `tfjs ${be.name} (${be.adapter})`,
      command: ["deno task lab sft", ...args.filter((a) => a !== "--force")].join(" "),
    };
    await saveCausalLM(model, out, { tokenizerFrom: modelDir });
    await Deno.writeTextFile(`${out}/sft_report.json`, JSON.stringify(report, null, 2) + "\n");
    await Deno.writeTextFile(`${out}/README.md`, renderSftCard(report, modelDir));
    console.log(
      `SFT ${run.steps} steps in ${seconds.toFixed(1)} s; held-out answer-word share ${
        before.share.share.toFixed(4)
      } -> ${after.share.share.toFixed(4)}; Brown ppl ${before.brown.perplexity.toFixed(1)} -> ${
        after.brown.perplexity.toFixed(1)
      } (unigram ${report.brown.unigram.perplexity.toFixed(1)}); wrote ${out}`,
    );
    return 0;
  } finally {
    model.dispose();
  }
}

const f3 = (x: number) => x.toFixed(3);
const counts = (c: Record<string, number>) =>
  Object.entries(c).sort((a, b) => b[1] - a[1]).map(([w, n]) => `${JSON.stringify(w)} ${n}`)
    .join(", ");

/**
 * The model card of the SFT model, from its report.
 *
 * @example
 * ```ts ignore
 * const card = renderSftCard(JSON.parse(await Deno.readTextFile("data/models/tiny-sft/sft_report.json")), "data/models/tiny");
 * ```
 */
export function renderSftCard(r: SftReport, baseDir: string): string {
  const row = (name: string, s: ShareSummary, b: LossReport) =>
    `| ${name} | **${f3(s.share)}** | ${f3(s.minShare)} | ${f3(s.noSidePart)} | ${
      f3(s.cautiousSideOnTop)
    } | ${b.loss.toFixed(3)} | ${b.perplexity.toFixed(1)} |`;
  return `# tiny-brown-gpt2-sft

The tiny Brown-corpus GPT-2 (\`${baseDir}\`, 1.33M parameters, its card there) after a short SFT
that makes it answer the yes/no questions of \`data/datasets/yesno_cautious\` with the answer
words: the SFT-then-DPO start of Razin et al. (arXiv 2410.08847, §3) for the single-token
studies. Same architecture and tokenizer as the base model; weights F32.

## Result

Measured on the ${r.heldOutQuestions} held-out questions (not seen in SFT) and on the base model's
held-out Brown text (${r.brown.base.tokens} target tokens, scored as in the base card):

| model | answer-word share | lowest per question | No-side part | cautious side on top | Brown loss | Brown ppl |
|---|---|---|---|---|---|---|
${row("base", r.base, r.brown.base)}
${row("SFT", r.sft, r.brown.sft)}
| unigram baseline | | | | | ${r.brown.unigram.loss.toFixed(3)} | ${
    r.brown.unigram.perplexity.toFixed(1)
  } |

- **Answer-word share**: after \`question + "\\n"\`, the model's next-token probability summed
  over the answer words ${ANSWER_WORDS.map((w) => `"${w}"`).join(", ")}, each with and without a
  leading space (20 token ids, each form one token), averaged over the held-out questions.
- **No-side part**: of that mass, the part on ${
    [...NO_WORDS, "no"].map((w) => `"${w}"`).join(", ")
  } (both forms), averaged over questions. **Cautious side on top**: the share of questions whose
  larger side (No-side vs Yes-side words) is the cautious answer's.
- **Top word per question** (which answer word is most likely, how many questions): base:
  ${counts(r.base.topCounts)}; SFT: ${counts(r.sft.topCounts)}. The SFT model has not collapsed
  onto one word: it answers by question, on the cautious side for ${
    (100 * r.sft.cautiousSideOnTop).toFixed(0)
  }% of the held-out questions.
- SFT costs some general text modelling (Brown perplexity ${
    r.brown.base.perplexity.toFixed(1)
  } -> ${r.brown.sft.perplexity.toFixed(1)}), still ${
    (r.brown.unigram.perplexity / r.brown.sft.perplexity).toFixed(2)
  } times below the unigram baseline's.

## Recipe (\`yesNoSft\` in \`lib/study/yesno_sft.ts\`)

- Questions: a seeded permutation (seed ${r.recipe.splitSeed}) holds out ${r.heldOutQuestions}
  of the ${r.trainQuestions + r.heldOutQuestions} (20%); SFT uses the other ${r.trainQuestions}.
  Many questions share templates and acts with others, so held-out questions are new sentences,
  not new kinds of question.
- Target: one word per question, drawn with seed ${r.recipe.seed} from ${
    NO_WORDS.join("/")
  } when the cautious answer is *No*, from ${YES_WORDS.join("/")} when it is *Yes*
  (the authors' code draws the same way); prompt \`question + "\\n"\`, no EOS.
- Loss: next-token cross-entropy of that word, mean over the batch's questions.
- RMSProp (the paper's optimizer), lr ${r.recipe.lr}, batch ${r.recipe.batchSize}, ${r.recipe.epochs}
  epochs (${r.steps} steps), data order seeded; loss ${r.firstLoss.toFixed(3)} -> ${
    r.finalLoss.toFixed(3)
  }; ${r.seconds.toFixed(1)} s on ${r.backend}.

## Reproduce

\`\`\`sh
${r.command}
\`\`\`

Study 02 runs the same recipe itself (\`lab.yesNoSft\`) on its default backend; floating-point
results differ slightly between backends.

## Limitations

A 1.33M-parameter model of 1960s prose taught one answer format: it answers by the question's
template and wording, not by understanding, and knows nothing beyond its corpus. For studying
preference-optimization dynamics at small scale only.
`;
}

if (import.meta.main) Deno.exit(await sftCommand(Deno.args));
