/**
 * The pretraining report: what the export measures and the model card renders, also written as
 * `pretrain_report.json` beside the exported model.
 *
 * @module
 */
import type { BackendReport } from "../../lib/backend.ts";
import type { PretrainResult } from "./train.ts";
import type { LossReport } from "./unigram.ts";

/** Everything the model card reports, also written as `pretrain_report.json`. */
export interface PretrainReport {
  config: PretrainResult["config"];
  parameters: number;
  sizeBytes: number;
  steps: number;
  trainSeconds: number;
  tokensSeen: number;
  trainTokens: number;
  heldOutTokens: number;
  heldOutDocs: string[];
  /** Model on every held-out window (fresh context per window of seqLen tokens). */
  heldOut: LossReport;
  /** Add-one-smoothed training unigram on exactly the same target tokens. */
  unigram: LossReport;
  /** First and last logged training losses. */
  firstLoss: number;
  finalLoss: number;
  /** Mean training loss over consecutive blocks of steps, and the periodic held-out evaluations. */
  curve: { step: number; trainLoss: number; evalLoss?: number }[];
  /** Tokenizer assembly: learned merges kept and merges added for the study words. */
  tokenizer: { learnedMerges: number; addedMerges: number; eosId: number };
  /** The command that reproduces this run. */
  command: string;
  studyWordIds: Record<string, number>;
  backend: Pick<BackendReport, "name" | "adapter" | "hardware" | "softwareFallback" | "host"> & {
    versions: BackendReport["versions"];
  };
  samples: { prompt: string; continuation: string }[];
  sampling: { maxNewTokens: number; temperature: number; topK: number; seed: number };
  exportedAt: string;
}
