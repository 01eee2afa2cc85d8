/**
 * One process's DPO steps of the shipped model, for comparing code or settings in alternating
 * processes (`lab bench` measures several backends in one process, which is not what an A/B of
 * one kernel needs). Prints one JSON line: median wall and CPU ms per step, the losses, and the
 * backend's report line.
 *
 * Usage: deno run -A scripts/bench/dpo_step.ts [--steps N] [--warmup N] [--pairs B] [--backend NAME]
 * e.g. `DPO_LAB_OPENBLAS=off deno run -A scripts/bench/dpo_step.ts` (XNNPACK's products) against
 * the default (OpenBLAS), alternating, under `/usr/bin/time -v` or any process timer.
 *
 * @module
 */
import { type BackendName, formatBackendReport, initBackend } from "../../lib/backend.ts";
import { dpoStepper } from "../../tools/bench/steps.ts";
import { findShippedModel, openBenchModel, syntheticBatches } from "../../tools/bench/workload.ts";

function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1]! : fallback;
}

const steps = Number(flag("--steps", "5")), warmup = Number(flag("--warmup", "2"));
const pairs = Number(flag("--pairs", "4"));
const report = await initBackend({ backend: flag("--backend", "wasm") as BackendName });
const dir = await findShippedModel();
if (!dir) throw new Error("the shipped model (data/models/tiny) is missing");
const policy = await openBenchModel({ label: "policy", dir });
const reference = await openBenchModel({ label: "reference", dir });
const vocab = policy.config.vocab_size as number;
const batches = syntheticBatches(vocab, { pairs, length: 128, promptLength: 64 }, 2, 7);
const stepper = dpoStepper(policy.model, reference.model, batches);
const ms: number[] = [], cpu: number[] = [], losses: number[] = [];
for (let i = 0; i < warmup + steps; i++) {
  const r = await stepper.step();
  losses.push(r.loss);
  if (i >= warmup) ms.push(r.ms), cpu.push(r.cpuMs);
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
console.log(JSON.stringify({
  stepMs: median(ms),
  cpuMs: median(cpu),
  allMs: ms.map((x) => Math.round(x)),
  losses,
  backend: formatBackendReport(report),
}));
stepper.dispose();
