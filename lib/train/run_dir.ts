/**
 * Ownership of run directories. A run directory holds a marker file, `.dpo-lab-run.json`,
 * listing every file and folder a run wrote there; only those are ever deleted or replaced, so a
 * run pointed at a folder of the user's own files never removes one of them.
 *
 * - A new run starts in a missing or empty folder, or replaces a previous run of ours when told
 *   to (`overwrite`): the listed entries are deleted, nothing else. A run written before the
 *   marker existed (`config.json` and `steps.jsonl`, no marker) is moved aside whole instead.
 * - Any other non-empty folder is refused, naming a few of the files found there.
 *
 * @module
 */

/** Name of the marker file. */
export const RUN_MARKER = ".dpo-lab-run.json";

interface Marker {
  format: "dpo-lab-run/1";
  /** Entries (files or folders, relative names) the run created. */
  files: string[];
}

function join(dir: string, file: string): string {
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

function readMarkerSync(dir: string): Marker | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(dir, RUN_MARKER));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const m = JSON.parse(text) as Marker;
  if (m.format !== "dpo-lab-run/1" || !Array.isArray(m.files)) {
    throw new TypeError(`${join(dir, RUN_MARKER)}: not a dpo-lab run marker`);
  }
  return m;
}

function writeMarkerSync(dir: string, m: Marker): void {
  const path = join(dir, RUN_MARKER);
  const tmp = `${path}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(m, null, 1));
  Deno.renameSync(tmp, path);
}

/**
 * Note that the run owns `name` (a file or folder directly inside `dir`), before creating it, so
 * a later `overwrite` may remove it. Creates the marker when the folder has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ownedEntries, registerRunFile } from "./run_dir.ts";
 * const dir = await Deno.makeTempDir();
 * registerRunFile(dir, "steps.jsonl");
 * registerRunFile(dir, "steps.jsonl");
 * assert.deepEqual(ownedEntries(dir), ["steps.jsonl"]);
 * ```
 */
export function registerRunFile(dir: string, name: string): void {
  if (name.includes("/") || name === "." || name === "..") {
    throw new TypeError(`run file '${name}' must be a plain name inside the run folder`);
  }
  const m = readMarkerSync(dir) ?? { format: "dpo-lab-run/1", files: [] };
  if (m.files.includes(name)) return;
  m.files.push(name);
  writeMarkerSync(dir, m);
}

/**
 * The entries a run registered in `dir` (empty when it has no marker).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ownedEntries } from "./run_dir.ts";
 * assert.deepEqual(ownedEntries(await Deno.makeTempDir()), []);
 * ```
 */
export function ownedEntries(dir: string): string[] {
  return readMarkerSync(dir)?.files ?? [];
}

async function entries(dir: string): Promise<string[] | undefined> {
  try {
    const out: string[] = [];
    for await (const e of Deno.readDir(dir)) out.push(e.name);
    return out.sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Error && /Not a directory/i.test(e.message)) {
      throw new TypeError(`${dir}: is a file, not a run folder`);
    }
    throw e;
  }
}

/** What a folder is, as far as runs are concerned. */
export type RunDirKind = "missing" | "empty" | "run" | "legacy-run" | "foreign";

/**
 * Classify a folder: missing, empty, a run of ours (marker), a run written before markers
 * (`config.json` + `steps.jsonl`), or anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runDirKind } from "./run_dir.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await runDirKind(dir), "empty");
 * await Deno.writeTextFile(`${dir}/pairs.jsonl`, "{}\n");
 * assert.equal(await runDirKind(dir), "foreign");
 * ```
 */
export async function runDirKind(dir: string): Promise<RunDirKind> {
  const names = await entries(dir);
  if (names === undefined) return "missing";
  if (names.length === 0) return "empty";
  if (names.includes(RUN_MARKER)) return "run";
  if (names.includes("config.json") && names.includes("steps.jsonl")) return "legacy-run";
  return "foreign";
}

function describeForeign(dir: string, names: string[]): string {
  const shown = names.slice(0, 5).join(", ") + (names.length > 5 ? `, ... (${names.length})` : "");
  return `${dir}: not empty and not a dpo-lab run folder (holds ${shown}); ` +
    `nothing was written there. Choose a new or empty folder`;
}

/**
 * Make `dir` ready for a new run and claim it: create it when missing; refuse a non-empty folder
 * that is not a run of ours; refuse a previous run of ours unless `overwrite`, which deletes only
 * the entries that run registered (a run from before markers is moved aside to
 * `<dir>.replaced-<time>`). Returns a note for the user when something was replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareRunDir, registerRunFile } from "./run_dir.ts";
 * const dir = await Deno.makeTempDir();
 * await prepareRunDir(dir, { overwrite: false });
 * registerRunFile(dir, "steps.jsonl");
 * await Deno.writeTextFile(`${dir}/steps.jsonl`, "{}\n");
 * await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
 * await assert.rejects(prepareRunDir(dir, { overwrite: false }), /--overwrite/);
 * await prepareRunDir(dir, { overwrite: true });
 * assert.equal(await Deno.readTextFile(`${dir}/notes.txt`), "mine");
 * await assert.rejects(Deno.stat(`${dir}/steps.jsonl`), Deno.errors.NotFound);
 * ```
 */
export async function prepareRunDir(
  dir: string,
  opts: { overwrite: boolean; flag?: string },
): Promise<string | undefined> {
  const kind = await runDirKind(dir);
  let note: string | undefined;
  if (kind === "foreign") throw new TypeError(describeForeign(dir, (await entries(dir))!));
  if (kind === "run" || kind === "legacy-run") {
    if (!opts.overwrite) {
      throw new TypeError(
        `${dir}: holds a previous run${await statusText(dir)}; pass ${
          opts.flag ?? "--overwrite"
        } to replace it (only the files that run wrote are removed)` +
          (opts.flag ? "" : " or --resume to continue it"),
      );
    }
    if (kind === "run") note = await clearRun(dir);
    else {
      const aside = `${dir.replace(/\/+$/, "")}.replaced-${
        new Date().toISOString().replace(/[:.]/g, "-")
      }`;
      await Deno.rename(dir, aside);
      note = `${dir}: a run written before run markers existed was moved aside to ${aside}`;
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  registerRunFile(dir, RUN_MARKER);
  return note;
}

async function statusText(dir: string): Promise<string> {
  try {
    const s = JSON.parse(await Deno.readTextFile(join(dir, "status.json")));
    return ` (${s.state}, step ${s.step})`;
  } catch {
    return "";
  }
}

/** Delete every registered entry of a run of ours; returns a note. */
async function clearRun(dir: string): Promise<string> {
  const files = ownedEntries(dir).filter((f) => f !== RUN_MARKER);
  for (const f of files) {
    await Deno.remove(join(dir, f), { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  writeMarkerSync(dir, { format: "dpo-lab-run/1", files: [RUN_MARKER] });
  return `${dir}: replaced the previous run (${files.length} entries it wrote were removed)`;
}

/**
 * Check that `dir` holds a run of ours that can be resumed (its caller then checks for a
 * complete checkpoint); a foreign, missing or empty folder is an error, not a fresh start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkResumeDir } from "./run_dir.ts";
 * await assert.rejects(checkResumeDir(await Deno.makeTempDir()), /nothing to resume/);
 * ```
 */
export async function checkResumeDir(dir: string): Promise<void> {
  const kind = await runDirKind(dir);
  if (kind === "missing" || kind === "empty") {
    throw new TypeError(`${dir}: no run here, nothing to resume (run without --resume to start)`);
  }
  if (kind === "foreign") {
    throw new TypeError(`cannot resume: ${describeForeign(dir, (await entries(dir))!)}`);
  }
}
