/**
 * What `lab pretrain` may touch, checked before any work: its run folder holds only what a
 * pretraining wrote, a previous run is replaced only with `--force`, `--resume` needs a
 * checkpoint, and the export folder (by default the shipped `data/models/tiny`) is replaced only
 * with `--force` and only when it holds nothing but an exported model's files.
 *
 * @module
 */
import { pathExists } from "../../lib/output.ts";

/** The entries a pretraining writes in its run folder. */
export const RUN_ENTRIES: readonly string[] = [
  "tokenizer",
  "checkpoint",
  "checkpoint.old",
  "checkpoint.tmp",
  "log.jsonl",
  "run.json",
];

/** The files an export writes in the model folder (a sharded model adds `model-*` shards). */
export const MODEL_FILES: readonly string[] = [
  "config.json",
  "model.safetensors",
  "model.safetensors.index.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "pretrain_log.jsonl",
  "pretrain_report.json",
  "README.md",
];

async function entries(dir: string): Promise<string[] | undefined> {
  if (!(await pathExists(dir))) return undefined;
  if (!(await Deno.stat(dir)).isDirectory) throw new TypeError(`${dir}: is a file, not a folder`);
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

const listed = (xs: string[]) => xs.slice(0, 5).join(", ") + (xs.length > 5 ? ", ..." : "");

/**
 * Check the run folder `out` before a pretraining starts. With `resume`, a checkpoint must be
 * there. Without it, the folder must be new or empty; a previous pretraining there is replaced
 * only with `force` (its entries are then removed and their names returned). A folder holding
 * anything else is always refused. Throws with the folder and the way out; changes nothing
 * unless it returns names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRunFolder } from "./guard.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/log.jsonl`, "{}\n");
 * await assert.rejects(checkRunFolder(dir, {}), /--force/);
 * await assert.rejects(checkRunFolder(dir, { resume: true }), /no checkpoint/);
 * assert.deepEqual(await checkRunFolder(dir, { force: true }), ["log.jsonl"]);
 * await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
 * await assert.rejects(checkRunFolder(dir, { force: true }), /not a pretrain run folder/);
 * ```
 */
export async function checkRunFolder(
  out: string,
  opts: { resume?: boolean; force?: boolean },
): Promise<string[]> {
  const names = await entries(out) ?? [];
  if (opts.resume) {
    for (const d of ["checkpoint", "checkpoint.old"]) {
      if (await pathExists(`${out}/${d}/state.json`)) return [];
    }
    throw new TypeError(
      `${out}: no checkpoint to resume (checkpoint/state.json); nothing was changed. ` +
        `Run without --resume to start`,
    );
  }
  if (names.length === 0) return [];
  const foreign = names.filter((n) => !RUN_ENTRIES.includes(n));
  if (foreign.length > 0) {
    throw new TypeError(
      `${out}: not empty and not a pretrain run folder (holds ${listed(foreign)}); nothing was ` +
        `written there. Choose a new or empty folder`,
    );
  }
  if (!opts.force) {
    throw new TypeError(
      `${out}: holds a previous pretraining; pass --force to replace it or --resume to ` +
        `continue it (nothing was changed)`,
    );
  }
  for (const n of names) await Deno.remove(`${out}/${n}`, { recursive: true });
  return names;
}

/**
 * Check the export folder before training (so a long run never ends refused): new or empty is
 * fine; an exported model there is replaced only with `force`; other files refuse it always.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkExportFolder } from "./guard.ts";
 * const dir = await Deno.makeTempDir();
 * await checkExportFolder(`${dir}/new`, {});
 * await Deno.writeTextFile(`${dir}/config.json`, "{}");
 * await assert.rejects(checkExportFolder(dir, {}), /--force/);
 * await checkExportFolder(dir, { force: true });
 * await Deno.writeTextFile(`${dir}/thesis.tex`, "");
 * await assert.rejects(checkExportFolder(dir, { force: true }), /thesis\.tex/);
 * ```
 */
export async function checkExportFolder(dir: string, opts: { force?: boolean }): Promise<void> {
  const names = await entries(dir) ?? [];
  if (names.length === 0) return;
  const foreign = names.filter((n) =>
    !MODEL_FILES.includes(n) && !/^model-.*\.safetensors$/.test(n)
  );
  if (foreign.length > 0) {
    throw new TypeError(
      `--model-dir ${dir}: holds files an export does not write (${listed(foreign)}); ` +
        `choose another folder (nothing was changed)`,
    );
  }
  if (!opts.force) {
    throw new TypeError(
      `--model-dir ${dir}: holds an exported model; pass --force to replace it, --no-export, ` +
        `or another --model-dir (nothing was changed)`,
    );
  }
}
