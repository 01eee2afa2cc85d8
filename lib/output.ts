/**
 * Output files written safely: an existing file is never replaced without `force`, missing
 * parent folders are created, and the content goes to a temporary file in the same folder that
 * is flushed and renamed into place, so a kill or a full disk never leaves a half-written file
 * and a late failure never destroys what was there.
 *
 * @module
 */

function parentOf(path: string): string | undefined {
  const i = path.lastIndexOf("/");
  return i > 0 ? path.slice(0, i) : undefined;
}

/**
 * Whether anything (file, folder or link) is at `path`. Only "not found" reads as absent; any
 * other error (a permission refused) propagates, so a caller never takes an unreadable place for
 * a free one. With `{ followLinks: false }` a link itself counts, even when its target is gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathExists } from "./output.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await pathExists(dir), true);
 * assert.equal(await pathExists(`${dir}/none`), false);
 * await Deno.symlink(`${dir}/none`, `${dir}/dangling`);
 * assert.equal(await pathExists(`${dir}/dangling`), false);
 * assert.equal(await pathExists(`${dir}/dangling`, { followLinks: false }), true);
 * ```
 */
export async function pathExists(
  path: string,
  opts: { followLinks?: boolean } = {},
): Promise<boolean> {
  try {
    await (opts.followLinks === false ? Deno.lstat(path) : Deno.stat(path));
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Check before any work that `path` may be written: refused when it exists (a file, unless
 * `force`; a folder, always). Creates the missing parent folders, so a long computation never
 * fails at its last write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareOutput } from "./output.ts";
 * const dir = await Deno.makeTempDir();
 * await prepareOutput(`${dir}/new/sub/out.jsonl`, { force: false });
 * assert.ok((await Deno.stat(`${dir}/new/sub`)).isDirectory);
 * await Deno.writeTextFile(`${dir}/x.jsonl`, "old");
 * await assert.rejects(prepareOutput(`${dir}/x.jsonl`, { force: false }), /exists; pass --force/);
 * await prepareOutput(`${dir}/x.jsonl`, { force: true });
 * ```
 */
export async function prepareOutput(path: string, opts: { force?: boolean } = {}): Promise<void> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (info?.isDirectory) throw new TypeError(`${path}: is a folder, not an output file`);
  if (info && !opts.force) {
    throw new TypeError(`${path}: exists; pass --force to replace it (nothing was written)`);
  }
  const parent = parentOf(path);
  if (parent) await Deno.mkdir(parent, { recursive: true });
}

/**
 * Write `data` to `path` atomically (temporary file, flushed, renamed), after the checks of
 * {@link prepareOutput}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeOutput } from "./output.ts";
 * const dir = await Deno.makeTempDir();
 * await writeOutput(`${dir}/a/b.txt`, "hello");
 * assert.equal(await Deno.readTextFile(`${dir}/a/b.txt`), "hello");
 * await assert.rejects(writeOutput(`${dir}/a/b.txt`, "again"), /--force/);
 * await writeOutput(`${dir}/a/b.txt`, "again", { force: true });
 * assert.equal(await Deno.readTextFile(`${dir}/a/b.txt`), "again");
 * assert.deepEqual([...Deno.readDirSync(`${dir}/a`)].map((e) => e.name), ["b.txt"]);
 * ```
 */
export async function writeOutput(
  path: string,
  data: string | Uint8Array,
  opts: { force?: boolean } = {},
): Promise<void> {
  await prepareOutput(path, opts);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true });
    try {
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Flush a folder's entries to the disk (fsync of the folder itself), so a rename or a new file
 * in it survives a power cut, not only a killed process. Where the platform cannot open a folder
 * for syncing (Windows), this does nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncDir } from "./output.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "x");
 * await syncDir(dir);
 * assert.equal(await Deno.readTextFile(`${dir}/a`), "x");
 * ```
 */
export async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const f = await Deno.open(dir, { read: true });
  try {
    await f.sync();
  } finally {
    f.close();
  }
}

/**
 * Put the folder `staged` (complete, written beside `target`) in place of `target`: the old
 * folder is renamed aside, the new one renamed in, then the old one removed, so at every moment
 * either the old or the new folder is complete at its place or beside it. The parent is synced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceDir } from "./output.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/m`);
 * await Deno.writeTextFile(`${dir}/m/a.txt`, "old");
 * await Deno.mkdir(`${dir}/m.new`);
 * await Deno.writeTextFile(`${dir}/m.new/a.txt`, "new");
 * await replaceDir(`${dir}/m.new`, `${dir}/m`);
 * assert.equal(await Deno.readTextFile(`${dir}/m/a.txt`), "new");
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["m"]);
 * ```
 */
export async function replaceDir(staged: string, target: string): Promise<void> {
  const old = `${target}.old-${crypto.randomUUID().slice(0, 8)}`;
  const had = await pathExists(target, { followLinks: false });
  if (had) await Deno.rename(target, old);
  try {
    await Deno.rename(staged, target);
  } catch (e) {
    if (had) await Deno.rename(old, target);
    throw e;
  }
  const parent = parentOf(target);
  await syncDir(parent ?? ".");
  if (had) await Deno.remove(old, { recursive: true });
}
