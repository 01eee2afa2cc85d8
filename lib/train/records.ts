/**
 * Run records: the directory a training run writes, and one reader for it and for Hugging Face
 * `trainer_state.json` files (TRL runs made elsewhere).
 *
 * A run directory holds:
 * - `config.json`: the run's configuration and the backend report;
 * - `steps.jsonl`: one line per optimizer step (`step`, `epoch`, `lr`, `loss`, `grad_norm`,
 *   TRL's `rewards/*` and `logps/*`, `time_s`, `step_time_s`, `pairs`, tracker metrics), appended
 *   and flushed each step; trackers may add a `step: 0` line with the initial state;
 * - `evals.jsonl`: one line per evaluation, same key names as `steps.jsonl` (no `eval_` prefix);
 * - `examples.jsonl` and other tracker files: per-pair / per-prompt rows, each with its `step`;
 * - `summary.json` (at the end), `status.json` (`running`, `completed`, `stopped` or `diverged`
 *   with a message);
 * - `checkpoints/step-NNNNNN/`: weights, optimizer state and trainer state for resuming.
 *
 * @module
 */
import { ownedEntries, prepareRunDir, registerRunFile, RUN_MARKER, runDirKind } from "./run_dir.ts";
import { parsePythonJson } from "./py_json.ts";
import { pathExists } from "../output.ts";

/** One line of `steps.jsonl` or `evals.jsonl`. Non-finite values are stored as `null`. */
export interface RunStepRecord {
  step: number;
  epoch?: number;
  [key: string]: number | null | undefined;
}

/** A run loaded by {@link readRun}, whatever wrote it. */
export interface RunRecord {
  /** `dpo-lab` for a run directory written here, `trl` for a Hugging Face `trainer_state.json`. */
  source: "dpo-lab" | "trl";
  /** The directory or file read. */
  path: string;
  /** `config.json` (for TRL: the trainer state's fields other than `log_history`). */
  config: Record<string, unknown>;
  /** Training records in step order. TRL `learning_rate` is copied to `lr` (and kept). */
  steps: RunStepRecord[];
  /** Evaluation records; TRL's `eval_` prefix is removed (`eval_loss` → `loss`). */
  evals: RunStepRecord[];
  /** End-of-run summary (`train_runtime`, `train_loss`, ...), empty when the run did not end. */
  summary: Record<string, unknown>;
  /** `status.json` of a run written here (absent for TRL). */
  status?: RunStatus;
}

/** Contents of `status.json`. */
export interface RunStatus {
  /**
   * `stopped`: ended early on request, resumable from its last checkpoint; `interrupted`: the
   * same, on SIGINT/SIGTERM (`message` names the signal and step).
   */
  state: "running" | "completed" | "stopped" | "diverged" | "interrupted";
  /** Last completed optimizer step. */
  step: number;
  message?: string;
  /** Source pair indices involved in a divergence. */
  pairs?: number[];
}

function join(dir: string, file: string): string {
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

/** JSON with non-finite numbers as null (what `JSON.stringify` does), one line. */
function line(obj: unknown): string {
  return JSON.stringify(obj) + "\n";
}

const ROW_FILE = /^[A-Za-z0-9_-]+$/;

/**
 * Writes a run directory. Every append is a synchronous write that reaches the operating system
 * before the call returns, so a crash loses at most the step in flight.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RunWriter } from "./records.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RunWriter.create(dir, { config: { lr: 0.1 } });
 * w.appendStep({ step: 1, epoch: 0.5, loss: 0.69 });
 * assert.equal(await Deno.readTextFile(`${dir}/steps.jsonl`), '{"step":1,"epoch":0.5,"loss":0.69}\n');
 * ```
 */
export class RunWriter {
  readonly dir: string;
  /** Row files already registered in the run marker (see `run_dir.ts`). */
  private rowFiles = new Set<string>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Start a run directory: creates it, writes `config.json` and empty `steps.jsonl` /
   * `evals.jsonl` (removing records of an earlier run there), or, with `resumeStep`, keeps the
   * records and drops every line whose `step` is after `resumeStep`.
   */
  static async create(
    dir: string,
    opts: { config: Record<string, unknown>; resumeStep?: number },
  ): Promise<RunWriter> {
    const w = new RunWriter(dir);
    if (opts.resumeStep === undefined) {
      await startRecords(dir);
      await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(opts.config, null, 2));
      await Deno.writeTextFile(join(dir, "steps.jsonl"), "");
      await Deno.writeTextFile(join(dir, "evals.jsonl"), "");
    } else {
      await truncateRecords(dir, opts.resumeStep);
      try {
        await Deno.remove(join(dir, "summary.json"));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    return w;
  }

  /** Append one line to `steps.jsonl`. */
  appendStep(record: RunStepRecord): void {
    Deno.writeTextFileSync(join(this.dir, "steps.jsonl"), line(record), { append: true });
  }

  /** Append one line to `evals.jsonl`. */
  appendEval(record: RunStepRecord): void {
    Deno.writeTextFileSync(join(this.dir, "evals.jsonl"), line(record), { append: true });
  }

  /** Append rows to `<file>.jsonl`, adding `step` to each (see `RunRows`). */
  appendRows(file: string, step: number, rows: Record<string, unknown>[]): void {
    if (!ROW_FILE.test(file) || file === "steps" || file === "evals") {
      throw new TypeError(`bad row file name '${file}' (letters, digits, _ and - only)`);
    }
    if (rows.length === 0) return;
    if (!this.rowFiles.has(file)) {
      registerRunFile(this.dir, `${file}.jsonl`);
      this.rowFiles.add(file);
    }
    const text = rows.map((r) => line({ step, ...r })).join("");
    Deno.writeTextFileSync(join(this.dir, `${file}.jsonl`), text, { append: true });
  }

  /** Write `summary.json`. */
  writeSummary(summary: Record<string, unknown>): void {
    Deno.writeTextFileSync(join(this.dir, "summary.json"), JSON.stringify(summary, null, 2));
  }

  /** Write `status.json`. */
  writeStatus(status: RunStatus): void {
    RunWriter.status(this.dir, status);
  }

  /** Write `status.json` of the run in `dir` (replaced atomically: never half written). */
  static status(dir: string, status: RunStatus): void {
    const path = join(dir, "status.json");
    Deno.writeTextFileSync(`${path}.tmp`, JSON.stringify(status, null, 2));
    Deno.renameSync(`${path}.tmp`, path);
  }
}

/**
 * Claim `dir` for the records of a new run: a missing, empty or older-format run folder is
 * prepared (see `run_dir.ts`), a folder of other files refused; in a run of ours the record
 * files of an earlier run are removed (only those it registered) and the new ones registered.
 */
async function startRecords(dir: string): Promise<void> {
  const kind = await runDirKind(dir);
  if (kind !== "run") await prepareRunDir(dir, { overwrite: true });
  else {
    for (const f of ownedEntries(dir)) {
      if (f.endsWith(".jsonl") || f === "summary.json" || f === "status.json") {
        await Deno.remove(join(dir, f)).catch((e) => {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        });
      }
    }
  }
  for (const f of RECORD_FILES) registerRunFile(dir, f);
}

const RECORD_FILES = ["config.json", "steps.jsonl", "evals.jsonl", "summary.json", "status.json"];

/** Drop every JSONL line of a run directory whose `step` is after `step`. */
async function truncateRecords(dir: string, step: number): Promise<void> {
  // Only files this run wrote; a run folder from before markers: every JSONL file (as before).
  const owned = new Set(ownedEntries(dir));
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".jsonl")) continue;
    if (owned.size > 0 && !owned.has(e.name)) continue;
    const path = join(dir, e.name);
    const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim() !== "");
    const keep: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      let rec: { step?: unknown };
      try {
        rec = JSON.parse(lines[i]);
      } catch {
        // A line cut short by a crash mid-write: everything from here on is after the checkpoint.
        break;
      }
      if (typeof rec.step === "number" && rec.step > step) continue;
      keep.push(lines[i]);
    }
    await Deno.writeTextFile(path, keep.map((l) => l + "\n").join(""));
  }
}

/**
 * Parse a JSONL file; a final line cut short by a crash is ignored, any other bad line is an
 * error naming the file and line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJsonl } from "./records.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, '{"step":1}\n{"step":2}\n');
 * assert.deepEqual(await readJsonl(path), [{ step: 1 }, { step: 2 }]);
 * ```
 */
export async function readJsonl<T = Record<string, unknown>>(path: string): Promise<T[]> {
  const lines = (await Deno.readTextFile(path)).split("\n");
  const out: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    try {
      out.push(JSON.parse(lines[i]));
    } catch (e) {
      const last = lines.slice(i + 1).every((l) => l.trim() === "");
      if (last) break;
      throw new SyntaxError(`${path}:${i + 1}: ${(e as Error).message}`);
    }
  }
  return out;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function readJsonIfPresent(path: string): Promise<unknown> {
  return await isFile(path) ? JSON.parse(await Deno.readTextFile(path)) : undefined;
}

/**
 * Load a run: a run directory written here, a Hugging Face `trainer_state.json`, or a Hugging
 * Face output directory holding one (directly or in its latest `checkpoint-N/`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRun } from "./records.ts";
 * const run = await readRun("data/runs/trl_sample/trainer_state.json");
 * assert.deepEqual([run.source, run.steps.length, run.evals.length], ["trl", 12, 3]);
 * ```
 */
export async function readRun(path: string): Promise<RunRecord> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new TypeError(`${path}: no such run`);
    throw e;
  }
  if (stat.isFile) return parseTrainerState(await Deno.readTextFile(path), path);
  if (await isFile(join(path, "steps.jsonl"))) {
    const config = (await readJsonIfPresent(join(path, "config.json")) ?? {}) as Record<
      string,
      unknown
    >;
    const evalsPath = join(path, "evals.jsonl");
    return {
      source: "dpo-lab",
      path,
      config,
      steps: await readJsonl<RunStepRecord>(join(path, "steps.jsonl")),
      evals: await isFile(evalsPath) ? await readJsonl<RunStepRecord>(evalsPath) : [],
      summary: (await readJsonIfPresent(join(path, "summary.json")) ?? {}) as Record<
        string,
        unknown
      >,
      status: await readJsonIfPresent(join(path, "status.json")) as RunStatus | undefined,
    };
  }
  if (await isFile(join(path, "trainer_state.json"))) {
    return await readRun(join(path, "trainer_state.json"));
  }
  let latest: { n: number; name: string } | undefined;
  for await (const e of Deno.readDir(path)) {
    const m = e.isDirectory ? /^checkpoint-(\d+)$/.exec(e.name) : null;
    if (m && (!latest || Number(m[1]) > latest.n)) latest = { n: Number(m[1]), name: e.name };
  }
  if (latest && await isFile(join(join(path, latest.name), "trainer_state.json"))) {
    return await readRun(join(join(path, latest.name), "trainer_state.json"));
  }
  throw new TypeError(
    `${path}: neither a run directory (steps.jsonl) nor a Hugging Face output (trainer_state.json)`,
  );
}

/** Keys of a `log_history` entry that mark the end-of-training summary. */
const SUMMARY_KEYS = ["train_runtime", "train_loss", "total_flos"];

/**
 * Convert the text of a Hugging Face `trainer_state.json` into a {@link RunRecord}: entries of
 * `log_history` with `eval_*` keys become evals (prefix removed), the entry with `train_runtime`
 * becomes the summary, the rest are training steps (`learning_rate` also copied to `lr`); TRL's
 * token metrics (`entropy`, `mean_token_accuracy`, `num_tokens`, `logits/*`) pass through.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTrainerState } from "./records.ts";
 * const run = parseTrainerState(JSON.stringify({ global_step: 1, log_history: [
 *   { step: 1, epoch: 0.1, loss: 0.69, learning_rate: 1e-6, "rewards/chosen": 0.01 },
 *   { step: 1, epoch: 0.1, eval_loss: 0.68, "eval_rewards/chosen": 0.02 },
 * ] }), "trainer_state.json");
 * assert.deepEqual([run.steps[0].lr, run.evals[0].loss], [1e-6, 0.68]);
 * ```
 */
export function parseTrainerState(text: string, path: string): RunRecord {
  // Python's json writes NaN/Infinity as bare tokens; they are read as those numbers.
  const state = parsePythonJson(text, path);
  if (!state || typeof state !== "object" || !Array.isArray((state as Rec).log_history)) {
    throw new TypeError(`${path}: no log_history array (not a trainer_state.json)`);
  }
  const { log_history: history, ...config } = state as Rec & { log_history: unknown[] };
  const steps: RunStepRecord[] = [];
  const evals: RunStepRecord[] = [];
  let summary: Record<string, unknown> = {};
  history.forEach((raw, i) => {
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
      throw new TypeError(`${path}: log_history[${i}] is not an object`);
    }
    const entry = raw as Rec;
    if (typeof entry.step !== "number") {
      throw new TypeError(`${path}: log_history[${i}].step is missing or not a number`);
    }
    if (SUMMARY_KEYS.some((k) => k in entry)) {
      summary = { ...entry };
      return;
    }
    const isEval = Object.keys(entry).some((k) => k.startsWith("eval_"));
    const rec: RunStepRecord = { step: entry.step };
    for (const [k, v] of Object.entries(entry)) {
      if (k === "step") continue;
      if (v !== null && typeof v !== "number") continue; // e.g. a string field some callbacks add
      const key = isEval
        ? (k.startsWith("eval_") ? k.slice(5) : k)
        : (k === "learning_rate" ? "lr" : k);
      rec[key] = v;
      // TRL's own name is kept too, so TRL's metric set reads the same as in runs made here.
      if (!isEval && key === "lr") rec.learning_rate = v;
    }
    (isEval ? evals : steps).push(rec);
  });
  return { source: "trl", path, config: config as Record<string, unknown>, steps, evals, summary };
}

type Rec = Record<string, unknown>;

/**
 * Write a {@link RunRecord} (e.g. a TRL run read by {@link readRun}) as a run directory here:
 * `config.json`, `steps.jsonl`, `evals.jsonl`, `summary.json`. A folder of other files is
 * refused; a previous run of ours there is replaced (only its files) unless `overwrite` is false
 * (then refused, naming `flag`, the option that replaces it).
 *
 * @example
 * ```ts
 * import { readRun, writeRun } from "./records.ts";
 * const run = await readRun("data/runs/trl_sample/trainer_state.json");
 * await writeRun(run, await Deno.makeTempDir());
 * ```
 */
export async function writeRun(
  run: RunRecord,
  dir: string,
  opts: { overwrite?: boolean; flag?: string } = {},
): Promise<void> {
  // Claimed first (a folder of other files is refused before any work), written in a sibling
  // temporary folder, then moved in file by file, so a kill never leaves a half-written record.
  await prepareRunDir(dir, { overwrite: opts.overwrite ?? true, flag: opts.flag });
  const tmp = `${dir.replace(/\/+$/, "")}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const w = await RunWriter.create(tmp, {
      config: run.source === "trl"
        ? { source: "trl", imported_from: run.path, trainer_state: run.config }
        : run.config,
    });
    for (const s of run.steps) w.appendStep(s);
    for (const s of run.evals) w.appendEval(s);
    if (Object.keys(run.summary).length > 0) w.writeSummary(run.summary);
    for (const f of ownedEntries(tmp)) {
      if (f === RUN_MARKER || !(await pathExists(join(tmp, f), { followLinks: false }))) continue;
      registerRunFile(dir, f);
      await Deno.rename(join(tmp, f), join(dir, f));
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
