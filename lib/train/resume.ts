/**
 * What a resume checks before it continues a run: a complete checkpoint to continue from (a
 * checkpoint whose save was cut short is set aside with a note), and settings and inputs equal to
 * those the checkpoint was written with (the content hashes of data, model and config, when the
 * caller gave them), or an error naming what changed.
 *
 * @module
 */
import { type Checkpoint, listCheckpoints, loadCheckpoint } from "./checkpoint.ts";

function join(dir: string, file: string): string {
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

/**
 * Temporary checkpoint folders (`checkpoints/step-N.tmp-*`) left by a save that was cut short:
 * removed, each with a note through `warn`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeIncompleteCheckpoints } from "./resume.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/checkpoints/step-000004.tmp-ab12cd34`, { recursive: true });
 * const notes: string[] = [];
 * await removeIncompleteCheckpoints(dir, (m) => notes.push(m));
 * assert.equal(notes.length, 1);
 * assert.deepEqual([...Deno.readDirSync(`${dir}/checkpoints`)], []);
 * ```
 */
export async function removeIncompleteCheckpoints(
  runDir: string,
  warn: (msg: string) => void,
): Promise<void> {
  const root = join(runDir, "checkpoints");
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (/^step-\d+\.tmp-/.test(e.name)) found.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const name of found.sort()) {
    warn(`note: ignoring ${join(root, name)}: an incomplete checkpoint (its save was cut short)`);
    await Deno.remove(join(root, name), { recursive: true });
  }
}

/**
 * The newest checkpoint of `runDir` that loads; an unreadable newer one is skipped with a note.
 * No usable checkpoint is an error (a resume never silently starts over).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { latestUsableCheckpoint } from "./resume.ts";
 * await assert.rejects(latestUsableCheckpoint(await Deno.makeTempDir(), () => {}), /no complete checkpoint/);
 * ```
 */
export async function latestUsableCheckpoint(
  runDir: string,
  warn: (msg: string) => void,
): Promise<{ dir: string; checkpoint: Checkpoint }> {
  await removeIncompleteCheckpoints(runDir, warn);
  const list = await listCheckpoints(runDir);
  for (const c of list.reverse()) {
    try {
      return { dir: c.dir, checkpoint: await loadCheckpoint(c.dir) };
    } catch (e) {
      warn(`note: skipping checkpoint ${c.dir}: ${(e as Error).message}`);
    }
  }
  throw new TypeError(
    `${runDir}: no complete checkpoint to resume from (run without --resume to start over, ` +
      `with --overwrite to replace this run)`,
  );
}

const INPUT_NAMES: Record<string, string> = {
  data: "the data file",
  model: "the model",
  config: "the config",
};

/**
 * Compare the settings a checkpoint was written with to the current ones; throws naming the
 * first one that differs. `inputs` (content hashes) get a message saying which input changed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkResumeSettings } from "./resume.ts";
 * assert.throws(
 *   () => checkResumeSettings({ inputs: { data: "sha256:aa" } }, { inputs: { data: "sha256:bb" } }, "ck"),
 *   /the data file changed since the checkpoint/,
 * );
 * ```
 */
export function checkResumeSettings(
  saved: Record<string, unknown>,
  now: Record<string, unknown>,
  where: string,
): void {
  for (const [k, v] of Object.entries(now)) {
    const was = saved[k];
    if (JSON.stringify(was) === JSON.stringify(v)) continue;
    // A checkpoint from before input hashes were recorded cannot be checked for them.
    if (k === "inputs" && was === undefined) continue;
    if (k === "inputs" && was && typeof was === "object") {
      const a = was as Record<string, string>, b = v as Record<string, string>;
      for (const key of Object.keys(b)) {
        if (a[key] !== b[key]) {
          throw new TypeError(
            `cannot resume from ${where}: ${INPUT_NAMES[key] ?? key} changed since the ` +
              `checkpoint (${a[key] ?? "not recorded"} then, ${b[key]} now)`,
          );
        }
      }
      continue;
    }
    throw new TypeError(
      `cannot resume from ${where}: setting '${k}' was ${JSON.stringify(was)}, now ${
        JSON.stringify(v)
      }`,
    );
  }
}
