/**
 * JSON as Python's `json` module writes it: standard JSON plus the bare tokens `NaN`,
 * `Infinity` and `-Infinity` (Hugging Face writes a diverged loss that way in
 * `trainer_state.json`). They are read as the numbers they name; a real syntax error names its
 * line and column.
 *
 * @module
 */

const TOKENS: Record<string, number> = {
  NaN: NaN,
  Infinity: Infinity,
  "-Infinity": -Infinity,
};

/** Replace bare non-finite tokens (outside strings) by marker strings; returns the markers used. */
function markNonFinite(text: string, tag: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const tok = ["-Infinity", "Infinity", "NaN"].find((t) => text.startsWith(t, i));
    if (tok) {
      out += JSON.stringify(`${tag}${tok}`);
      i += tok.length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** 1-based line and column of a character offset. */
function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos).split("\n");
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/**
 * Offset of the first syntax error in Python-style JSON text (undefined when none is found): a
 * small recursive-descent scan, since the engine's messages do not always give a position.
 */
function syntaxErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    const lit = ["true", "false", "null", "-Infinity", "Infinity", "NaN"].find((t) =>
      text.startsWith(t, i)
    );
    if (lit) return void (i += lit.length);
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\n") fail();
      i += text[i] === "\\" ? 2 : 1;
    }
    if (i >= text.length) fail();
    i++;
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (e) {
    if (typeof e === "number") return Math.min(e, text.length);
    throw e;
  }
}

/**
 * Parse Python-style JSON text; `path` names the source in errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePythonJson } from "./py_json.ts";
 * const v = parsePythonJson('{"a": NaN, "b": [-Infinity], "s": "NaN"}', "x.json") as Record<string, unknown>;
 * assert.ok(Number.isNaN(v.a));
 * assert.deepEqual(v.b, [-Infinity]);
 * assert.equal(v.s, "NaN");
 * assert.throws(() => parsePythonJson('{\n "a": 1,\n "b": }', "x.json"), /x\.json: not JSON at line 3/);
 * ```
 */
export function parsePythonJson(text: string, path: string): unknown {
  const tag = `\u0000nonfinite:${crypto.randomUUID()}:`;
  let marked: string;
  try {
    marked = markNonFinite(text, tag);
    return JSON.parse(marked, (_k, v) => {
      if (typeof v === "string" && v.startsWith(tag)) return TOKENS[v.slice(tag.length)];
      return v;
    });
  } catch (e) {
    const pos = syntaxErrorOffset(text);
    const where = pos === undefined ? "" : ` at ${lineCol(text, pos)}`;
    const why = (e as Error).message.replace(/\s*\n\s*/g, " ");
    throw new SyntaxError(`${path}: not JSON${where} (${why})`);
  }
}
