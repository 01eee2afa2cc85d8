/**
 * The SFT phase of the real-model single-token studies (Razin et al., arXiv 2410.08847, §3: SFT
 * first, then DPO on one prompt), and the measurement that says whether it worked: the share of
 * the next-token mass, right after a yes/no question, that lands on the answer words.
 *
 * As in the authors' code, each question's SFT target is one word drawn (seeded) from the words
 * of its answer's meaning (`NO_WORDS` for a cautious *No*, `YES_WORDS` for *Yes*), and the loss
 * is the next-token cross-entropy of that word after `question + "\n"`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { permutation } from "../core/rng.ts";
import { singleTokenPairs, type YesNoQuestion } from "../data/persona.ts";
import { tokenizePairs } from "../data/tokenize.ts";
import type { HfTokenizer } from "../data/tokenizer.ts";
import type { CausalLM } from "../models/types.ts";
import { sft } from "../objectives/trl.ts";
import { lmScorer } from "../scoring/lm.ts";
import { preferenceData } from "../train/train_data.ts";
import { train } from "../train/trainer.ts";
import type { TrainResult } from "../train/train_options.ts";

/** Words meaning *No*; a cautious *No* question's SFT word is drawn from these. */
export const NO_WORDS: readonly string[] = ["No", "Never", "Maybe", "Perhaps"];
/** Words meaning *Yes*; a cautious *Yes* question's SFT word is drawn from these. */
export const YES_WORDS: readonly string[] = ["Yes", "Sure", "Certainly", "Absolutely"];
/**
 * The answer words whose share is measured: the SFT words plus lower-case "yes" and "no". Each
 * counts with and without a leading space (20 token ids for the tiny model's tokenizer).
 */
export const ANSWER_WORDS: readonly string[] = [...YES_WORDS, ...NO_WORDS, "yes", "no"];

/** Token ids of the answer words. */
export interface AnswerWordIds {
  /** Every form's id (word and " " + word), no duplicates. */
  ids: number[];
  /** The ids whose word means *No* (`NO_WORDS` and "no"). */
  noSide: Set<number>;
  /** The form (e.g. `" Yes"`) of each id. */
  form: Map<number, string>;
}

/**
 * Token ids of {@link ANSWER_WORDS}, each with and without a leading space; every form must be
 * one token (else the share would miss part of it).
 *
 * @example
 * ```ts
 * import { answerWordIds } from "./yesno_sft.ts";
 * const vocab = new Map<string, number>();
 * const tok = { encode: (t: string) => [vocab.get(t) ?? vocab.set(t, vocab.size).get(t)!] };
 * const w = answerWordIds(tok);
 * console.log(w.ids.length, w.form.get(w.ids[1]), w.noSide.has(vocab.get(" Never")!)); // 20 " Yes" true
 * ```
 */
export function answerWordIds(tok: { encode(text: string): number[] }): AnswerWordIds {
  const out: AnswerWordIds = { ids: [], noSide: new Set(), form: new Map() };
  for (const word of ANSWER_WORDS) {
    for (const form of [word, " " + word]) {
      const ids = tok.encode(form);
      if (ids.length !== 1) {
        throw new RangeError(
          `answer word ${JSON.stringify(form)} is ${ids.length} tokens, not one`,
        );
      }
      if (out.form.has(ids[0])) continue;
      out.ids.push(ids[0]);
      out.form.set(ids[0], form);
      if (NO_WORDS.includes(word) || word === "no") out.noSide.add(ids[0]);
    }
  }
  return out;
}

/**
 * A seeded split of the questions into SFT (train) and held-out questions (the first
 * `round(n · heldOutFraction)` of a seeded permutation are held out).
 *
 * @example
 * ```ts
 * import { splitQuestions } from "./yesno_sft.ts";
 * const s = splitQuestions([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { heldOutFraction: 0.2, seed: 1 });
 * console.log(s.train.length, s.heldOut.length, [...s.train, ...s.heldOut].sort((a, b) => a - b).join()); // 8 2 1,2,3,4,5,6,7,8,9,10
 * ```
 */
export function splitQuestions<T>(
  questions: readonly T[],
  opts: { heldOutFraction?: number; seed?: number } = {},
): { train: T[]; heldOut: T[] } {
  const f = opts.heldOutFraction ?? 0.2;
  if (!(f >= 0 && f < 1)) throw new RangeError(`heldOutFraction ${f} is not in [0, 1)`);
  const perm = permutation(questions.length, opts.seed ?? 11);
  const n = Math.round(questions.length * f);
  return {
    train: perm.slice(n).map((i) => questions[i]),
    heldOut: perm.slice(0, n).map((i) => questions[i]),
  };
}

/** Options of {@link yesNoSft}; the defaults are the recipe of `data/models/tiny-sft`. */
export interface YesNoSftOptions {
  /** RMSProp learning rate (default 3e-4). */
  lr?: number;
  /** Passes over the questions (default 5). */
  epochs?: number;
  /** Questions per step (default 8). */
  batchSize?: number;
  /** Seed of the word draw and of the data order (default 0). */
  seed?: number;
}

/**
 * SFT in place: next-token cross-entropy of one answer word per question (drawn from
 * `NO_WORDS`/`YES_WORDS` by the question's cautious answer, seeded) after `question + "\n"`,
 * RMSProp, the mean over the batch's questions.
 *
 * @example
 * ```ts ignore
 * import { loadCausalLM, loadTokenizer } from "../mod.ts";
 * const model = await loadCausalLM("data/models/tiny");
 * const tok = await loadTokenizer("data/models/tiny");
 * const result = await yesNoSft(model, tok, questions);
 * console.log(result.steps); // 100 for 155 questions
 * ```
 */
export async function yesNoSft(
  model: CausalLM,
  tok: HfTokenizer,
  questions: readonly YesNoQuestion[],
  opts: YesNoSftOptions = {},
): Promise<TrainResult> {
  const seed = opts.seed ?? 0;
  const draw = permutation(questions.length, seed + 7);
  const word = (q: YesNoQuestion, i: number) =>
    (q.cautiousAnswer === "No" ? NO_WORDS : YES_WORDS)[draw[i] % 4];
  const words = new Map(questions.map((q, i) => [q, word(q, i)]));
  const rows = singleTokenPairs(questions, {
    chosen: (q) => words.get(q)!,
    rejected: (q) => words.get(q)!, // the SFT loss reads only the chosen word
  });
  const pairs = tokenizePairs(rows, tok, { appendEos: false }).pairs;
  return await train({
    policy: lmScorer(model),
    data: preferenceData(pairs, { padId: tok.padId }),
    objective: sft({ nll: "token" }),
    optimizer: { name: "rmsprop" },
    lr: opts.lr ?? 3e-4,
    batchSize: opts.batchSize ?? 8,
    epochs: opts.epochs ?? 5,
    seed,
    progress: false,
    examplesEvery: false,
  });
}

/** What {@link answerShare} measures, per prompt and summed up. */
export interface AnswerShare {
  /** Mean over prompts of the answer words' total next-token probability. */
  share: number;
  /** Per prompt: that total. */
  perPrompt: number[];
  /** Per prompt: the *No*-side words' part of the answer-word mass (0..1). */
  noSideFraction: number[];
  /** Per prompt: the answer-word form with the highest probability. */
  topForm: string[];
  /** How many prompts each form is the top answer word of. */
  topCounts: Record<string, number>;
}

/**
 * The share of the next-token mass after each prompt that lands on the answer words, with the
 * split between *No*- and *Yes*-side words and the top word per prompt (a collapsed model puts
 * the same word on top for every question, whatever it asks).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { answerShare } from "./yesno_sft.ts";
 * const model = createGPT2({ vocab_size: 8, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const ids = { ids: [1, 2], noSide: new Set([2]), form: new Map([[1, "Yes"], [2, "No"]]) };
 * const s = await answerShare(model, [[3, 4]], ids);
 * console.log(s.share > 0 && s.share < 1, s.perPrompt.length); // true 1
 * model.dispose();
 * ```
 */
export async function answerShare(
  model: CausalLM,
  prompts: readonly (readonly number[])[],
  words: AnswerWordIds,
): Promise<AnswerShare> {
  const out: AnswerShare = {
    share: 0,
    perPrompt: [],
    noSideFraction: [],
    topForm: [],
    topCounts: {},
  };
  for (const prompt of prompts) {
    const probs = tf.tidy(() => {
      const x = tf.tensor2d([Array.from(prompt)], [1, prompt.length], "int32");
      const { logits } = model.forward(x);
      const last = tf.slice(logits, [0, prompt.length - 1, 0], [1, 1, model.vocabSize]);
      return tf.softmax(tf.reshape(last, [model.vocabSize]));
    });
    const p = await probs.data();
    probs.dispose();
    let total = 0, no = 0, top = words.ids[0];
    for (const id of words.ids) {
      total += p[id];
      if (words.noSide.has(id)) no += p[id];
      if (p[id] > p[top]) top = id;
    }
    out.perPrompt.push(total);
    out.noSideFraction.push(total > 0 ? no / total : NaN);
    const form = words.form.get(top)!;
    out.topForm.push(form);
    out.topCounts[form] = (out.topCounts[form] ?? 0) + 1;
  }
  out.share = out.perPrompt.reduce((a, b) => a + b, 0) / Math.max(1, prompts.length);
  return out;
}
