/**
 * The config format of `lab train --config FILE`, as `lab train --help` prints it: every field of
 * the run config (`TrainConfig` in config.ts) with its default. A test holds the documented fields
 * against what `parseTrainConfig` accepts, so a new field cannot go undocumented.
 *
 * @module
 */

/**
 * The `lab train --help` text: the flags, then the config fields (required first), defaults in
 * brackets.
 *
 * @example
 * ```ts
 * import { TRAIN_HELP } from "./train_help.ts";
 * if (!TRAIN_HELP.includes("batchSize")) throw new Error("batchSize undocumented");
 * ```
 */
export const TRAIN_HELP: string = `usage: lab train --config FILE [options]

Trains one model as the JSON config FILE says and writes a run directory (records, checkpoints,
summary). A shipped example runs as is: lab train --config examples/train_dpo.json

options (each overrides the config):
  --config FILE     the run's JSON config (required; format below)
  --out DIR         run directory (replaces "out")
  --steps N         optimizer steps (replaces "steps", drops "epochs")
  --resume          continue from the run directory's newest complete checkpoint (an error
                    when there is none, or when the data, model or config changed since)
  --overwrite       replace a previous run of ours in DIR (only the files it wrote are removed;
                    a folder holding other files is always refused) [refuse]
  --skip-invalid    skip invalid or over-long data rows, listing them [refuse to start]
  --backend NAME    tfjs backend: auto, tensorflow, webgpu, wasm, cpu (replaces "backend")
  --quiet           no progress line
  -h, --help        this text

config (JSON object; paths relative to the working directory; [default]):
  model             {"dir": "data/models/tiny"}: a Hugging Face checkpoint folder with its
                    tokenizer; or {"toy": {"kind": "unconstrained"|"linear", "tokens": [...],
                    "dim": N, "prompts": N|[...] [1], "seed": N [run seed]}}
  data              causal LM: {"file": "pairs.jsonl", "unpaired": false}, TRL preference rows
                    (unpaired: true = KTO rows {prompt, completion, label}); toy model:
                    {"pairs": [{"prompt", "chosen", "rejected"}]} by name or index, or {"file"}
  objective         {"name": "dpo", "params": {...}}: any name of lab objectives list, its
                    params [the objective's defaults]
  optimizer         {"name": "sgd"|"adam"|"adamw"|"rmsprop", ...}: sgd momentum [0], nesterov
                    [false], weightDecay [0]; adam/adamw beta1 [0.9], beta2 [0.999], eps [1e-8],
                    weightDecay [adam 0, adamw 0.01]; rmsprop alpha [0.99], eps [1e-8],
                    momentum [0], centered [false], weightDecay [0]
  lr                peak learning rate (number > 0)
  batchSize         pairs per micro-batch (integer >= 1)
  out               run directory
  steps | epochs    optimizer steps, or passes over the training pairs [epochs 1]
  tokenize          {"maxLength": N|null [1024], "maxPromptLength": N|null [none],
                    "maxCompletionLength": N|null [none], "truncationMode":
                    "keep_start"|"keep_end" [keep_start]}
  reference         {"kind": "precompute", "cacheDir": DIR [none]} [precompute] or
                    {"kind": "model"} (a frozen copy scored every step)
  schedule          {"kind": "constant"|"linear"|"cosine" [constant], "warmupSteps" [0] or
                    "warmupRatio" [0], "minLrRatio" [0]}
  gradAccum         micro-batches per optimizer step [1]
  maxGradNorm       clip the global gradient norm to this [no clipping]
  seed              run seed: initialisation, shuffling, eval split [0]
  shuffle           reshuffle the pairs every epoch [true]
  eval              {"fraction": 0.1, "every": N [end only], "batchSize": N [batchSize]}:
                    held-out split evaluated every N steps and at the end [no eval]
  checkpointEvery   also save a checkpoint every N steps [0: only at the end]
  keepCheckpoints   newest checkpoints kept [2]
  resume            continue from the newest checkpoint [false]
  trackers          [{"name": "mass", "every": 1, "pairs": 64, "probeFields": [], "otherAnswers": 0,
                    "probes": [...] (toy)}, {"name": "implicit_rewards", "every": 1}] [none]
  examplesEvery     per-pair rewards every N steps, or false [1]
  backend           tfjs backend, as --backend [auto]
  saveModel         causal LM: write the final model to <out>/model [true]
  threads           causal LM on wasm/cpu: 2 splits each batch over a worker [1]
  syncReference     {"alpha": 0.6, "every": 512}: a moving reference (TR-DPO, TRL's
                    sync_ref_model): every N steps ref <- alpha*policy + (1-alpha)*ref [fixed]
`;
