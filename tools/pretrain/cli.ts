/**
 * `deno task lab pretrain`: train (or resume) the tiny GPT-2 on the Brown corpus and export
 * it, with its tokenizer, model card and log, as a Hugging Face checkpoint folder.
 *
 * @example
 * ```sh
 * deno task lab pretrain --seed 0 --steps 800 --out out/pretrain/run --model-dir out/pretrain/model
 * deno task lab pretrain --resume --out out/pretrain/run   # after an interruption
 * # replacing the shipped model (or an earlier run in --out) needs --force:
 * deno task lab pretrain --seed 0 --out out/pretrain/run --model-dir data/models/tiny --force
 * ```
 *
 * @module
 */
import { type BackendName, initBackend } from "../../lib/backend.ts";
import { DEFAULT_PRETRAIN, pretrain, type PretrainConfig } from "./train.ts";
import { exportPretrained } from "./export.ts";
import { checkExportFolder } from "./guard.ts";
import { replaceDir } from "../../lib/output.ts";
import { OptionCursor } from "./options.ts";

const NUMERIC: Record<string, keyof PretrainConfig> = {
  "--seed": "seed",
  "--steps": "steps",
  "--batch": "batchSize",
  "--seq": "seqLen",
  "--lr": "lr",
  "--warmup": "warmupSteps",
  "--vocab": "vocabSize",
  "--embd": "nEmbd",
  "--layers": "nLayer",
  "--heads": "nHead",
  "--positions": "nPositions",
  "--eval-every": "evalEvery",
  "--eval-rows": "evalRows",
  "--checkpoint-every": "checkpointEvery",
};

const HELP = `usage: lab pretrain [options]

  --seed N             run seed: held-out split, init, batches (default ${DEFAULT_PRETRAIN.seed})
  --steps N            optimizer steps (default ${DEFAULT_PRETRAIN.steps})
  --batch N --seq N    rows per batch, tokens per row
  --lr X --warmup N    peak learning rate, warmup steps (cosine decay after)
  --vocab N --embd N --layers N --heads N --positions N
  --eval-every N --eval-rows N --checkpoint-every N
  --out DIR            run folder: tokenizer, checkpoint, log.jsonl (default out/pretrain/run)
  --model-dir DIR      where the finished model is exported (default data/models/tiny)
  --resume             continue from the run folder's checkpoint (an error when there is none)
  --force              replace a previous pretraining in --out and an exported model in
                       --model-dir (a folder holding other files is always refused) [refuse]
  --max-minutes M      stop after M minutes (checkpointed; resume later)
  --backend NAME       tfjs backend (default: auto, see lab backend)
  --no-export          train only`;

/**
 * Parse arguments, run {@link pretrain}, and export the model when all steps are done.
 *
 * @example
 * ```ts ignore
 * import { pretrainCommand } from "./cli.ts";
 * await pretrainCommand(["--steps", "2", "--out", "/tmp/pt", "--no-export"]);
 * ```
 */
export async function pretrainCommand(args: string[]): Promise<number> {
  const config: Partial<PretrainConfig> = {};
  let out = "out/pretrain/run", modelDir = "data/models/tiny";
  let resume = false, doExport = true, force = false, maxMinutes: number | undefined;
  let backend: BackendName | "auto" | undefined;
  const opts = new OptionCursor(args);
  for (let a = opts.next(); a !== undefined; a = opts.next()) {
    if (a === "-h" || a === "--help") {
      console.log(HELP);
      return 0;
    } else if (a in NUMERIC) config[NUMERIC[a]] = opts.num();
    else if (a === "--out") out = opts.value();
    else if (a === "--model-dir") modelDir = opts.value();
    else if (a === "--resume") resume = true;
    else if (a === "--no-export") doExport = false;
    else if (a === "--force") force = true;
    else if (a === "--max-minutes") maxMinutes = opts.num();
    else if (a === "--backend") backend = opts.value() as BackendName;
    else throw new TypeError(`unknown option '${a}' (see lab pretrain --help)`);
  }
  // Before any work: a long run must not end refused, nor start over files it does not own.
  if (doExport) await checkExportFolder(modelDir, { force });
  const report = await initBackend(backend ? { backend } : {});
  console.log(`backend: ${report.name} (${report.adapter}); ${report.reason}`);
  const t0 = performance.now();
  const result = await pretrain(config, out, {
    resume,
    force,
    onReplaced: (names) =>
      console.log(`note: ${out}: removed the previous pretraining's ${names.join(", ")}`),
    maxMinutes,
    onLog: (r) => {
      if ("eval_loss" in r || (r.step as number) % 10 === 0) console.log(JSON.stringify(r));
    },
  });
  try {
    if (!result.done) {
      console.log(`stopped at step ${result.step}/${result.config.steps}; rerun with --resume`);
      return 0;
    }
    if (doExport) {
      const rerun = args.filter((a) => !["--resume", "--no-export", "--force"].includes(a));
      // Written beside the target and swapped in whole: a failed export leaves the old model.
      const staged = `${modelDir.replace(/\/+$/, "")}.tmp-${crypto.randomUUID().slice(0, 8)}`;
      const card = await exportPretrained(result, {
        runDir: out,
        modelDir: staged,
        backend: report,
        command: ["deno task lab pretrain", ...rerun].join(" "),
      }).catch(async (e) => {
        await Deno.remove(staged, { recursive: true }).catch(() => {});
        throw e;
      });
      await replaceDir(staged, modelDir);
      console.log(
        `exported to ${modelDir}: held-out loss ${card.heldOut.loss.toFixed(4)} ` +
          `(ppl ${card.heldOut.perplexity.toFixed(1)}) vs unigram ${
            card.unigram.loss.toFixed(4)
          } ` +
          `(ppl ${card.unigram.perplexity.toFixed(1)})`,
      );
    }
    console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return 0;
  } finally {
    result.model.dispose();
  }
}
