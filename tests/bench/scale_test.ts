/**
 * tools/bench/scale*.ts: the `--scale` flags, the fast seeded init, and the goals computed from
 * figures (ratios and memory worked out by hand here). The measurement itself takes minutes
 * per model and runs in `lab bench --scale` only.
 */
import assert from "node:assert/strict";
import { parseBenchArgs } from "../../tools/bench/cli.ts";
import { type ScaleFigure, scaleGoals } from "../../tools/bench/scale.ts";
import { fastUniformSource, SCALE_MODELS } from "../../tools/bench/scale_models.ts";
import { rateSummary, summarize } from "../../tools/bench/stats.ts";

Deno.test("lab bench --scale flags: models are checked by name", () => {
  const a = parseBenchArgs(["--scale", "--scale-models", "gpt2-small,llama-1b"]);
  assert.equal(a.scale, true);
  assert.deepEqual(a.scaleModels, ["gpt2-small", "llama-1b"]);
  assert.throws(
    () => parseBenchArgs(["--scale-models", "gpt5"]),
    /--scale-models: unknown model 'gpt5'/,
  );
});

Deno.test("fastUniformSource: seeded, the spec's standard deviation, ones and zeros", () => {
  const spec = { name: "w", shape: [100, 100], init: { normal: 0.02 } };
  const a = fastUniformSource(3)(spec), b = fastUniformSource(3)(spec);
  assert.deepEqual(a, b, "same seed, same values");
  assert.notDeepEqual(a, fastUniformSource(4)(spec));
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
  assert.ok(Math.abs(mean) < 5e-4, `mean ${mean}`);
  assert.ok(Math.abs(sd - 0.02) < 5e-4, `sd ${sd}`);
  assert.ok(a.every((x) => Math.abs(x) <= 0.02 * Math.sqrt(3)));
  const src = fastUniformSource(0);
  assert.ok(src({ name: "g", shape: [5], init: "ones" }).every((x) => x === 1));
  assert.ok(src({ name: "b", shape: [5], init: "zeros" }).every((x) => x === 0));
});

function fig(model: string, task: ScaleFigure["task"], backend: string, ms: number[], rss: number) {
  const units = task === "ches" ? 2 : 256;
  return {
    task,
    model,
    backend,
    unit: "tokens/s",
    unitsPerRun: units,
    rate: rateSummary(ms, units),
    wallMs: summarize(ms),
    peakRssBytes: rss,
  } as ScaleFigure;
}

Deno.test("scaleGoals: ratio to the faster peer setting, Llama memory against the machine's", () => {
  const small = SCALE_MODELS["gpt2-small"]!.label, llama = SCALE_MODELS["llama-1b"]!.label;
  const GiB = 2 ** 30;
  const figures = [
    fig(small, "dpo_step", "cpu-fast-1t", [20_000, 20_000], 3 * GiB), // 12.8 tokens/s
    fig(small, "dpo_step", "torch-cpu-1t", [10_000], 2 * GiB), // 25.6
    fig(small, "dpo_step", "torch-cpu-2t", [8_000], 2 * GiB), // 32: the faster
    fig(llama, "score", "cpu-fast-1t", [4_000], 9 * GiB),
    fig(llama, "ches", "cpu-fast-1t", [8_000], 10 * GiB),
  ];
  const goals = scaleGoals({ figures, machine: { memoryGiB: 24 } }, [
    "gpt2-small",
    "gpt2-medium",
    "llama-1b",
  ]);
  assert.equal(goals[0]!.id, "scale_dpo_gpt2-small");
  assert.equal(goals[0]!.value, 0.4); // 12.8 / 32
  assert.equal(goals[0]!.met, false);
  assert.match(goals[0]!.measured, /torch-cpu-2t/);
  assert.equal(goals[1]!.value, null, "medium did not run");
  assert.equal(goals[1]!.met, null);
  assert.equal(goals[2]!.value, 10, "the larger of the two peaks, in GiB");
  assert.equal(goals[2]!.target, 24);
  assert.equal(goals[2]!.met, true);
});
