/**
 * `lab analyse-checkpoints`: re-score every checkpoint of a run (a TRL / Hugging Face output
 * folder with `checkpoint-N/` subfolders, or a run directory written here) on a preference file
 * and write per-pair rows in the live trackers' formats (see `checkpoint_series.ts`).
 *
 * ```sh
 * deno task lab analyse-checkpoints --run out/trl_run --data pairs.jsonl \
 *   [--probes probes.jsonl] [--out DIR] [--force] [--batch-size N] [--max-length N] \
 *   [--tokenizer DIR] [--backend NAME]
 * ```
 *
 * The output folder (default `<run>/analysis`) holds `mass.jsonl` (`{step, prompt, label,
 * logp}`: `prompt` is the pair id, `label` is chosen, rejected or a probe label), `displacement.jsonl`
 * (`{step, pair, initial, current, change, displaced, kind?, good_share?}`), `ches.jsonl`
 * (`{step, pair, ches, ches_normalized}`), `steps.jsonl` (per-checkpoint aggregates with the
 * trackers' metric names), `config.json` and `status.json`; `lab.readRun` reads it. It is written
 * to a temporary folder and renamed into place; an existing output folder is replaced only with
 * `--force`.
 *
 * Probe file: JSONL, one response per line, `{"pair": i, "label": "paraphrase", "response":
 * "text", "good": true}` — `pair` is the 0-based row of `--data` whose prompt it answers; `good`
 * (optional) marks a response as good as y+, used to label displacement benign or catastrophic.
 *
 * @module
 */
import { formatBackendReport, initBackend } from "../../lib/backend.ts";
import type { BackendName } from "../../lib/backend.ts";
import { pathExists, replaceDir } from "../../lib/output.ts";
import { parseFlags } from "./flags.ts";
import { loadPreferenceFile } from "../../lib/data/mod.ts";
import type { PreferenceRow } from "../../lib/data/mod.ts";
import { loadTokenizer } from "../../lib/data/mod.ts";
import { tokenizePairs, tokenizeProbes } from "../../lib/data/mod.ts";
import {
  analyseCheckpoints,
  findCheckpoints,
  type SeriesProbe,
  type SeriesRows,
} from "../../lib/analysis/mod.ts";

const USAGE = `usage: lab analyse-checkpoints --run DIR --data FILE [options]

  --run DIR         a TRL / Hugging Face output folder (checkpoint-N/ subfolders) or a dpo-lab
                    run directory (checkpoints/step-N/, model/, config.json naming the base model)
  --data FILE       preference JSONL (TRL formats) whose pairs are scored at every checkpoint
  --probes FILE     optional JSONL of extra responses: {"pair": i, "label": L, "response": T,
                    "good": true|false}; pair = 0-based row of --data, good = as good as y+
  --out DIR         output folder (default <run>/analysis)
  --force           replace an existing output folder
  --batch-size N    pairs per forward pass (default 8)
  --max-length N    token limit per sequence (default: the model's positions)
  --tokenizer DIR   tokenizer folder (default: the first checkpoint holding tokenizer.json)
  --backend NAME    tfjs backend (default auto)`;

const FLAGS = [
  "--run",
  "--data",
  "--probes",
  "--out",
  "--batch-size",
  "--max-length",
  "--tokenizer",
  "--backend",
];

/** Parsed arguments of `lab analyse-checkpoints`. */
export interface AnalyseArgs {
  run: string;
  data: string;
  probes?: string;
  out: string;
  force: boolean;
  batchSize: number;
  maxLength?: number;
  tokenizer?: string;
  backend?: BackendName | "auto";
}

/**
 * Parse `lab analyse-checkpoints` arguments; errors name the flag.
 *
 * @example
 * ```ts
 * import { parseAnalyseArgs } from "./analyse_checkpoints.ts";
 * const a = parseAnalyseArgs(["--run", "r", "--data", "d.jsonl"]);
 * console.log(a.out, a.batchSize, a.force); // r/analysis 8 false
 * ```
 */
export function parseAnalyseArgs(args: readonly string[]): AnalyseArgs {
  const f = parseFlags(args, { flags: FLAGS, switches: ["--force"], usage: USAGE });
  const run = f.need("--run").replace(/\/+$/, "");
  return {
    run,
    data: f.need("--data"),
    probes: f.get("--probes"),
    out: f.get("--out") ?? `${run}/analysis`,
    force: f.has("--force"),
    batchSize: f.int("--batch-size", 1) ?? 8,
    maxLength: f.int("--max-length", 2),
    tokenizer: f.get("--tokenizer"),
    backend: f.get("--backend") as BackendName | "auto" | undefined,
  };
}

/** One line of a probe file, validated. */
interface ProbeLine {
  pair: number;
  label: string;
  response: string;
  good: boolean;
}

/**
 * Parse a probe file's text (see the module docs); errors name the file, line and field.
 *
 * @example
 * ```ts
 * import { parseProbeLines } from "./analyse_checkpoints.ts";
 * const p = parseProbeLines('{"pair": 0, "label": "para", "response": " Yes.", "good": true}\n', "p.jsonl", 1);
 * console.log(p[0].label, p[0].good); // para true
 * ```
 */
export function parseProbeLines(text: string, path: string, pairs: number): ProbeLine[] {
  const out: ProbeLine[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const at = `${path}:${i + 1}`;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new SyntaxError(`${at}: ${(e as Error).message}`);
    }
    if (!Number.isInteger(r.pair) || (r.pair as number) < 0 || (r.pair as number) >= pairs) {
      throw new RangeError(`${at}: field 'pair' must be a row index in [0, ${pairs})`);
    }
    for (const k of ["label", "response"]) {
      if (typeof r[k] !== "string" || r[k] === "") {
        throw new TypeError(`${at}: field '${k}' must be a non-empty string`);
      }
    }
    if (["chosen", "rejected"].includes(r.label as string)) {
      throw new TypeError(
        `${at}: field 'label' '${r.label}' is reserved for the pair's own responses`,
      );
    }
    if (r.good !== undefined && typeof r.good !== "boolean") {
      throw new TypeError(`${at}: field 'good' must be true or false`);
    }
    out.push({
      pair: r.pair as number,
      label: r.label as string,
      response: r.response as string,
      good: r.good === true,
    });
  });
  return out;
}

/**
 * Write the rows as a folder: into a temporary sibling first, then renamed to `out` (an existing
 * `out` is removed only when `force`), so a crash never leaves a half-written folder at `out`.
 *
 * @example
 * ```ts
 * import { writeSeriesFolder } from "./analyse_checkpoints.ts";
 * const out = `${await Deno.makeTempDir()}/analysis`;
 * const rows = { mass: [], displacement: [], ches: [], steps: [{ step: 0, "mass/chosen": -3 }] };
 * await writeSeriesFolder(out, rows, { run: "r" }, false);
 * console.log(await Deno.readTextFile(`${out}/steps.jsonl`)); // {"step":0,"mass/chosen":-3}
 * ```
 */
export async function writeSeriesFolder(
  out: string,
  rows: SeriesRows,
  config: Record<string, unknown>,
  force: boolean,
): Promise<void> {
  await checkSeriesOut(out, force);
  const tmp = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp, { recursive: true });
  try {
    const jsonl = (xs: unknown[]) => xs.map((x) => JSON.stringify(x) + "\n").join("");
    for (const [name, xs] of Object.entries(rows)) {
      await Deno.writeTextFile(`${tmp}/${name}.jsonl`, jsonl(xs));
    }
    await Deno.writeTextFile(`${tmp}/evals.jsonl`, "");
    await Deno.writeTextFile(`${tmp}/config.json`, JSON.stringify(config, null, 2));
    const last = rows.steps.at(-1)?.step ?? 0;
    await Deno.writeTextFile(
      `${tmp}/status.json`,
      JSON.stringify({ state: "completed", step: last }, null, 2),
    );
    await replaceDir(tmp, out);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** The files {@link writeSeriesFolder} writes: only a folder of these may be replaced. */
const SERIES_FILES = [
  "mass.jsonl",
  "displacement.jsonl",
  "ches.jsonl",
  "steps.jsonl",
  "evals.jsonl",
  "config.json",
  "status.json",
];

/**
 * An existing output folder is replaced only with `force`, and only when it holds nothing but
 * an earlier analysis's files: `--force` never deletes a folder of other files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSeriesOut } from "./analyse_checkpoints.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/steps.jsonl`, "");
 * await assert.rejects(checkSeriesOut(dir, false), /--force/);
 * await checkSeriesOut(dir, true);
 * await Deno.writeTextFile(`${dir}/thesis.tex`, "");
 * await assert.rejects(checkSeriesOut(dir, true), /thesis\.tex/);
 * ```
 */
export async function checkSeriesOut(out: string, force: boolean): Promise<void> {
  if (!(await pathExists(out))) return;
  if (!(await Deno.stat(out)).isDirectory) throw new TypeError(`${out}: is a file, not a folder`);
  const foreign = [...Deno.readDirSync(out)].map((e) => e.name)
    .filter((n) => !SERIES_FILES.includes(n)).sort();
  if (foreign.length > 0) {
    throw new TypeError(
      `${out}: holds files lab analyse-checkpoints does not write (${
        foreign.slice(0, 5).join(", ")
      }); choose another --out (nothing was changed)`,
    );
  }
  if (!force) throw new TypeError(`${out}: already exists (use --force to replace it)`);
}

function probeRows(lines: ProbeLine[], rows: readonly PreferenceRow[]) {
  return lines.map((l) => ({
    index: rows[l.pair].index,
    prompt: rows[l.pair].prompt,
    responses: [{ name: l.label, text: l.response }],
  }));
}

/** Entry point of `lab analyse-checkpoints`. */
export async function analyseCheckpointsCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const a = parseAnalyseArgs(args);
  // Refuse before any model is loaded, not after minutes of scoring.
  await checkSeriesOut(a.out, a.force);
  const report = await initBackend(a.backend ? { backend: a.backend } : {});
  console.error(formatBackendReport(report));
  const series = await findCheckpoints(a.run);
  const tokDir = a.tokenizer ?? series.tokenizerDir;
  if (!tokDir) throw new TypeError(`${a.run}: no tokenizer.json found; pass --tokenizer DIR`);
  const tokenizer = await loadTokenizer(tokDir);
  const loaded = await loadPreferenceFile(a.data, { onError: "throw" });
  const config = JSON.parse(
    await Deno.readTextFile(`${series.checkpoints[0].dir}/config.json`)
      .catch(() => "{}"),
  );
  const maxLength = a.maxLength ?? config.n_positions ?? config.max_position_embeddings ?? 1024;
  const tok = tokenizePairs(loaded.rows, tokenizer, { maxLength });
  for (const s of tok.skippedRows) console.error(`${a.data}: pair ${s.index} skipped: ${s.reason}`);
  if (tok.pairs.length === 0) throw new RangeError(`${a.data}: no pair left after tokenization`);
  let probes: SeriesProbe[] | undefined;
  if (a.probes) {
    const lines = parseProbeLines(await Deno.readTextFile(a.probes), a.probes, loaded.rows.length);
    const { probes: tp } = tokenizeProbes(probeRows(lines, loaded.rows), tokenizer, { maxLength });
    const good = new Set(
      lines.flatMap((l) => l.good ? [`${loaded.rows[l.pair].index}/${l.label}`] : []),
    );
    probes = tp.map((p) => ({ ...p, good: good.has(`${p.index}/${p.name}`) }));
  }
  const rows = await analyseCheckpoints(series.checkpoints, {
    pairs: tok.pairs,
    probes,
    padId: tokenizer.padId,
    batchSize: a.batchSize,
    onCheckpoint: (step, done, total) =>
      console.error(`checkpoint step ${step} (${done}/${total})`),
  });
  await writeSeriesFolder(a.out, rows, {
    source: "analyse-checkpoints",
    created: new Date().toISOString(),
    run: a.run,
    run_layout: series.source,
    data: a.data,
    probes: a.probes ?? null,
    checkpoints: series.checkpoints.map((c) => ({ step: c.step, dir: c.dir })),
  }, a.force);
  console.log(
    `${a.out}: ${series.checkpoints.length} checkpoints x ${tok.pairs.length} pairs` +
      (probes ? ` + ${probes.length} probes` : ""),
  );
  return 0;
}
