/**
 * Hugging Face checkpoint directories: `config.json` plus `model.safetensors` (or shards listed
 * in `model.safetensors.index.json`), with `tokenizer.json` / `tokenizer_config.json` beside
 * them. Loading reads F32/F16/BF16 tensors into f32 variables; saving writes F32 safetensors
 * that Python's `safetensors` and `transformers` read. Nothing is fetched from a hub.
 *
 * @module
 */
import type { CausalLM } from "./types.ts";
import type { TensorSource, TensorSpec } from "./common.ts";
import { createGPT2, gpt2Config, gpt2TensorSpecs } from "./gpt2.ts";
import { createLlama, LLAMA_MODEL_TYPES, llamaConfig, llamaTensorSpecs } from "./llama.ts";
import {
  type DecodedTensor,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  type SafetensorsHeader,
} from "./safetensors.ts";

/** Paths of the files in a checkpoint directory (absent files are `undefined`). */
export interface CheckpointFiles {
  dir: string;
  config: string;
  /** Safetensors weight files (one, or the shards named by the index). */
  weights: string[];
  index?: string;
  tokenizer?: string;
  tokenizerConfig?: string;
}

interface Architecture {
  /** Hugging Face class name written to `architectures`. */
  className: string;
  specs(config: Record<string, unknown>): TensorSpec[];
  create(config: Record<string, unknown>, source: TensorSource): CausalLM;
  /** Other names a tensor may carry in files written by other Hugging Face classes. */
  aliases(name: string): string[];
}

const GPT2_ARCH: Architecture = {
  className: "GPT2LMHeadModel",
  specs: (c) => gpt2TensorSpecs(gpt2Config(c)),
  create: (c, source) => createGPT2(c, { source }),
  // Checkpoints saved from GPT2Model (e.g. the original `gpt2`) lack the `transformer.` prefix.
  aliases: (name) => name.startsWith("transformer.") ? [name.slice("transformer.".length)] : [],
};

const LLAMA_ARCH = (className: string): Architecture => ({
  className,
  specs: (c) => llamaTensorSpecs(llamaConfig(c)),
  create: (c, source) => createLlama(c, { source }),
  aliases: () => [],
});

const ARCHITECTURES: Record<string, Architecture> = {
  gpt2: GPT2_ARCH,
  llama: LLAMA_ARCH("LlamaForCausalLM"),
  qwen2: LLAMA_ARCH("Qwen2ForCausalLM"),
  olmo: LLAMA_ARCH("OlmoForCausalLM"),
};
for (const t of LLAMA_MODEL_TYPES) if (!ARCHITECTURES[t]) throw new Error(`unregistered ${t}`);

const CLASS_TO_TYPE: Record<string, string> = Object.fromEntries(
  Object.entries(ARCHITECTURES).map(([t, a]) => [a.className, t]),
);

/** The `model_type` strings {@link loadCausalLM} accepts. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = Object.keys(ARCHITECTURES);

function join(dir: string, file: string): string {
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new TypeError(`${path}: file not found`);
    throw e;
  }
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (e) {
    throw new TypeError(`${path}: not a JSON object (${(e as Error).message})`);
  }
}

/**
 * Find the files of a Hugging Face checkpoint directory.
 *
 * @example
 * ```ts ignore
 * const files = await locateCheckpoint("data/tiny-gpt2");
 * console.log(files.weights, files.tokenizer);
 * ```
 */
export async function locateCheckpoint(dir: string): Promise<CheckpointFiles> {
  const config = join(dir, "config.json");
  if (!await exists(config)) {
    throw new TypeError(`${config}: file not found (not a checkpoint dir)`);
  }
  const files: CheckpointFiles = { dir, config, weights: [] };
  const index = join(dir, "model.safetensors.index.json");
  const single = join(dir, "model.safetensors");
  if (await exists(index)) {
    files.index = index;
    const map = (await readJson(index)).weight_map;
    if (map === null || typeof map !== "object") {
      throw new TypeError(`${index}: missing field 'weight_map'`);
    }
    files.weights = [...new Set(Object.values(map as Record<string, string>))].sort()
      .map((f) => join(dir, f));
  } else if (await exists(single)) {
    files.weights = [single];
  } else {
    const bin = await exists(join(dir, "pytorch_model.bin"));
    throw new TypeError(
      `${dir}: no model.safetensors or model.safetensors.index.json` +
        (bin ? " (pytorch_model.bin is not supported: convert it to safetensors)" : ""),
    );
  }
  for (const w of files.weights) {
    if (!await exists(w)) {
      throw new TypeError(`${w}: weight file not found (named by ${files.index})`);
    }
  }
  const tok = join(dir, "tokenizer.json");
  if (await exists(tok)) files.tokenizer = tok;
  const tokConfig = join(dir, "tokenizer_config.json");
  if (await exists(tokConfig)) files.tokenizerConfig = tokConfig;
  return files;
}

function architectureOf(config: Record<string, unknown>, path: string): [string, Architecture] {
  const type = config.model_type;
  if (typeof type === "string" && ARCHITECTURES[type]) return [type, ARCHITECTURES[type]];
  const classes = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  if (type === undefined) {
    for (const cls of classes) {
      const t = CLASS_TO_TYPE[cls];
      if (t) return [t, ARCHITECTURES[t]];
    }
  }
  throw new TypeError(
    `${path}: unsupported architecture (model_type ${JSON.stringify(type)}, architectures ${
      JSON.stringify(classes)
    }); supported model_type: ${SUPPORTED_MODEL_TYPES.join(", ")}`,
  );
}

/**
 * Load a causal LM from a Hugging Face checkpoint directory, choosing GPT-2 or Llama-family
 * from `config.json` (`model_type`, else `architectures`). Errors name the file and tensor.
 *
 * @example
 * ```ts ignore
 * const model = await loadCausalLM("data/tiny-gpt2");
 * console.log(model.kind, model.vocabSize);
 * ```
 */
export async function loadCausalLM(dir: string): Promise<CausalLM> {
  const files = await locateCheckpoint(dir);
  const config = await readJson(files.config);
  const [type, arch] = architectureOf(config, files.config);
  let specs: TensorSpec[];
  try {
    specs = arch.specs({ ...config, model_type: type });
  } catch (e) {
    if (e instanceof TypeError) throw new TypeError(`${files.config}: ${e.message}`);
    if (e instanceof RangeError) throw new RangeError(`${files.config}: ${e.message}`);
    throw e;
  }
  const headers = new Map<string, SafetensorsHeader>();
  for (const w of files.weights) headers.set(w, await readSafetensorsHeader(w));
  let weightMap: Record<string, string> | undefined;
  if (files.index) {
    weightMap = (await readJson(files.index)).weight_map as Record<string, string>;
  }
  const where = (name: string): string | undefined => {
    if (weightMap) {
      const f = weightMap[name];
      if (f === undefined) return undefined;
      const path = join(dir, f);
      if (!headers.get(path)?.tensors.has(name)) {
        throw new RangeError(`${path}: missing tensor '${name}' (listed in ${files.index})`);
      }
      return path;
    }
    return headers.get(files.weights[0])!.tensors.has(name) ? files.weights[0] : undefined;
  };
  // Resolve every parameter to (file, stored name) and check its shape before reading data.
  const plan = new Map<string, Array<{ spec: TensorSpec; stored: string }>>();
  for (const spec of specs) {
    let found: [string, string] | undefined;
    for (const candidate of [spec.name, ...arch.aliases(spec.name)]) {
      const file = where(candidate);
      if (file) {
        found = [file, candidate];
        break;
      }
    }
    if (!found) {
      throw new RangeError(
        `${files.index ?? files.weights[0]}: missing tensor '${spec.name}' for ${type}`,
      );
    }
    const [file, stored] = found;
    const shape = headers.get(file)!.tensors.get(stored)!.shape;
    if (shape.length !== spec.shape.length || shape.some((s, i) => s !== spec.shape[i])) {
      throw new RangeError(
        `${file}: tensor '${stored}' has shape [${shape}], config.json implies [${spec.shape}]`,
      );
    }
    if (!plan.has(file)) plan.set(file, []);
    plan.get(file)!.push({ spec, stored });
  }
  const values = new Map<string, DecodedTensor>();
  for (const [file, items] of plan) {
    const read = await readSafetensors(file, {
      header: headers.get(file),
      names: items.map((i) => i.stored),
    });
    for (const { spec, stored } of items) values.set(spec.name, read.get(stored)!);
  }
  return arch.create({ ...config, model_type: type }, (spec) => {
    const v = values.get(spec.name)!.values;
    values.delete(spec.name); // drop the host copy once the variable holds it
    return v;
  });
}

/** Options of {@link saveCausalLM}. */
export interface SaveCausalLMOptions {
  /** Split weights into shards of at most this many bytes, with an index file. */
  maxShardBytes?: number;
  /** Copy `tokenizer.json`, `tokenizer_config.json` (and `special_tokens_map.json`) from here. */
  tokenizerFrom?: string;
  /** Extra fields merged into the written `config.json` (e.g. bos/eos token ids). */
  extraConfig?: Record<string, unknown>;
}

/**
 * Save a model as a Hugging Face checkpoint directory: `config.json` and F32
 * `model.safetensors` (or shards + `model.safetensors.index.json`). Tied unembeddings are not
 * written twice, as Hugging Face does. Reloading gives bit-identical weights.
 *
 * @example
 * ```ts ignore
 * import { createGPT2 } from "./gpt2.ts";
 * const model = createGPT2({ vocab_size: 50, n_embd: 16, n_layer: 1, n_head: 2 }, { seed: 1 });
 * await saveCausalLM(model, "/tmp/tiny-gpt2");
 * ```
 */
export async function saveCausalLM(
  model: CausalLM,
  dir: string,
  opts: SaveCausalLMOptions = {},
): Promise<CheckpointFiles> {
  const arch = ARCHITECTURES[String(model.config.model_type)];
  if (!arch) {
    throw new TypeError(`model config has unsupported model_type ${model.config.model_type}`);
  }
  await Deno.mkdir(dir, { recursive: true });
  const tensors = new Map<string, DecodedTensor>();
  for (const [name, v] of model.namedVariables()) {
    tensors.set(name, { shape: v.shape, values: (await v.data()) as Float32Array });
  }
  const config = {
    ...model.config,
    ...opts.extraConfig,
    architectures: [arch.className],
    torch_dtype: "float32",
  };
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n");
  const files: CheckpointFiles = { dir, config: join(dir, "config.json"), weights: [] };
  const shards = shardTensors(tensors, opts.maxShardBytes);
  if (shards.length === 1) {
    const path = join(dir, "model.safetensors");
    await Deno.writeFile(path, encodeSafetensors(shards[0]));
    files.weights.push(path);
  } else {
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (let i = 0; i < shards.length; i++) {
      const name = `model-${pad5(i + 1)}-of-${pad5(shards.length)}.safetensors`;
      for (const [t, v] of shards[i]) {
        weightMap[t] = name;
        total += 4 * v.values.length;
      }
      await Deno.writeFile(join(dir, name), encodeSafetensors(shards[i]));
      files.weights.push(join(dir, name));
    }
    files.index = join(dir, "model.safetensors.index.json");
    const index = { metadata: { total_size: total }, weight_map: sortKeys(weightMap) };
    await Deno.writeTextFile(files.index, JSON.stringify(index, null, 2) + "\n");
  }
  if (opts.tokenizerFrom) {
    for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) {
      const src = join(opts.tokenizerFrom, f);
      if (await exists(src)) await Deno.copyFile(src, join(dir, f));
      else if (f === "tokenizer.json") throw new TypeError(`${src}: file not found`);
    }
    files.tokenizer = join(dir, "tokenizer.json");
    if (await exists(join(dir, "tokenizer_config.json"))) {
      files.tokenizerConfig = join(dir, "tokenizer_config.json");
    }
  }
  return files;
}

function shardTensors(
  tensors: Map<string, DecodedTensor>,
  maxBytes?: number,
): Map<string, DecodedTensor>[] {
  if (maxBytes === undefined) return [tensors];
  if (!(maxBytes > 0)) throw new RangeError(`maxShardBytes must be positive, got ${maxBytes}`);
  const shards: Map<string, DecodedTensor>[] = [new Map()];
  let size = 0;
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    const bytes = 4 * t.values.length;
    if (size > 0 && size + bytes > maxBytes) {
      shards.push(new Map());
      size = 0;
    }
    shards[shards.length - 1].set(name, t);
    size += bytes;
  }
  return shards;
}

function pad5(n: number): string {
  return String(n).padStart(5, "0");
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
