/**
 * Reference tables of {@link train}: precomputed reference log-probs (cached, stored in the run
 * folder, read back on resume) and a moving reference that rescored them after each sync.
 *
 * @module
 */
import {
  cachedReferenceLogps,
  computeReferenceLogpsAsync,
  readReferenceFile,
  writeReferenceFile,
} from "../scoring/ref_cache.ts";
import { type ReferenceMover, referenceMover } from "./ref_sync.ts";
import { registerRunFile } from "./run_dir.ts";
import type { RunState } from "./train_state.ts";

const TRAIN_FILE = "reference_logps.safetensors";
const EVAL_FILE = "reference_logps_eval.safetensors";

function refPath<B>(s: RunState<B>, file: string): string | undefined {
  return s.opts.outDir ? `${s.opts.outDir}/${file}` : undefined;
}

/**
 * Fill `s.refs` when the objective needs precomputed reference scores: a resumed run reads the
 * run folder's files; a fresh one scores (or finds in the cache) every train and eval pair and
 * stores them in the run folder.
 *
 * @example
 * ```ts ignore
 * await referenceTables(state); // state.refs.train, state.refs.eval
 * ```
 */
export async function referenceTables<B>(s: RunState<B>): Promise<void> {
  if (!(s.needsRef && s.refOpt.kind === "precompute")) return;
  const { opts, refs } = s;
  const trainPath = refPath(s, TRAIN_FILE), evalPath = refPath(s, EVAL_FILE);
  if (s.resumed) {
    refs.train = await readReferenceFile(trainPath!);
    if (opts.evalData) refs.eval = await readReferenceFile(evalPath!);
    return;
  }
  const scorer = s.refOpt.scorer ?? opts.policy;
  const batchSize = opts.evalBatchSize ?? s.plan.bs;
  const cacheDir = s.refOpt.cacheDir, signal = opts.signal;
  refs.train = await cachedReferenceLogps(scorer, opts.data, { cacheDir, batchSize, signal });
  if (trainPath) {
    registerRunFile(opts.outDir!, TRAIN_FILE);
    await writeReferenceFile(trainPath, refs.train);
  }
  if (opts.evalData) {
    refs.eval = await cachedReferenceLogps(scorer, opts.evalData, { cacheDir, batchSize, signal });
    if (evalPath) {
      registerRunFile(opts.outDir!, EVAL_FILE);
      await writeReferenceFile(evalPath, refs.eval);
    }
  }
}

/**
 * The moving reference of `syncReference` (none without it, or when the objective needs no
 * reference); a resumed run continues from the checkpoint's `reference.safetensors`.
 *
 * @example
 * ```ts ignore
 * state.mover = await movingReference(state);
 * ```
 */
export async function movingReference<B>(s: RunState<B>): Promise<ReferenceMover | undefined> {
  const { opts } = s;
  if (!(opts.syncReference && s.needsRef)) return undefined;
  const trainPath = refPath(s, TRAIN_FILE), evalPath = refPath(s, EVAL_FILE);
  const mover = referenceMover({
    spec: opts.syncReference,
    policy: opts.policy,
    kind: s.refOpt.kind,
    scorer: s.refOpt.scorer,
    rescore: async (scorer) => {
      const batchSize = opts.evalBatchSize ?? s.plan.bs;
      s.refs.train = await computeReferenceLogpsAsync(scorer, opts.data, { batchSize });
      if (trainPath) await writeReferenceFile(trainPath, s.refs.train);
      if (opts.evalData) {
        s.refs.eval = await computeReferenceLogpsAsync(scorer, opts.evalData, { batchSize });
        if (evalPath) await writeReferenceFile(evalPath, s.refs.eval);
      }
    },
  });
  if (s.resumed) {
    await mover.restore(`${s.resumed.dir}/reference.safetensors`, s.resumed.state.step);
  }
  return mover;
}
