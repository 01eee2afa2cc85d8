/**
 * The worker side of {@link trackerThread} (lib/analysis/tracker_thread.ts): a replica of the
 * causal LM running the library's own probability-mass, displacement and gradient-alignment
 * trackers on the weights of the step the main thread hands it.
 *
 * Messages in: `init` (backend, model kind and config, the pairs, the objective's name and
 * parameters, the tracker settings, saved tracker state), `measure` (step, weights). Messages
 * out: `ready`, `measured` (metrics, rows by file, the trackers' state), `error`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "../models/types.ts";
import type { PreferenceBatch, TokenizedPair } from "../data/types.ts";
import { createObjective } from "../objectives/registry.ts";
import {
  type BeginContext,
  type HookResult,
  mergeMetrics,
  type StepContext,
  type TrainCallback,
} from "../train/callbacks.ts";
import { preferenceData } from "../train/train_data.ts";
import type { TrainObjective } from "../train/types.ts";
import { lmScorer } from "../scoring/lm.ts";
import { initReplica, loadReplicaWeights, serveRequests } from "../scoring/worker_side.ts";
import { pairSides } from "./pair_sides.ts";
import { probabilityMassTracker } from "./mass_tracker.ts";
import { displacementTracker, gradientAlignmentTracker } from "./trackers.ts";
import type { ThreadTrackerSettings } from "./tracker_thread.ts";

// Before any backend starts: silences tfjs's "install tfjs-node" banner, as lib/backend.ts does.
tf.env().set("PROD", true);

interface Replica {
  model: CausalLM;
  trackers: TrainCallback<PreferenceBatch>[];
  objective: TrainObjective;
  data: ReturnType<typeof preferenceData>;
  beta: number;
}

let replica: Replica | undefined;

/** The trackers the settings name, gradient alignment first (its passes feed the others). */
function buildTrackers(
  t: ThreadTrackerSettings,
  pairs: readonly TokenizedPair[],
  padId: number,
): TrainCallback<PreferenceBatch>[] {
  // Each measures whenever asked: the main thread decides which steps are due.
  const out: TrainCallback<PreferenceBatch>[] = [];
  if (t.gradient) {
    const { sides, ...g } = t.gradient;
    out.push(gradientAlignmentTracker<PreferenceBatch, unknown>({
      ...g,
      every: 1,
      ...(sides === false ? {} : { sides: pairSides(pairs, padId) }),
    }) as TrainCallback<PreferenceBatch>);
  }
  if (t.mass) out.push(probabilityMassTracker<PreferenceBatch>({ ...t.mass, every: 1 }));
  if (t.displacement) {
    out.push(displacementTracker<PreferenceBatch>({ ...t.displacement, every: 1 }));
  }
  return out;
}

function objectiveOf(spec: { name: string; params: Record<string, unknown> }): TrainObjective {
  const o = createObjective(spec.name, spec.params) as unknown as TrainObjective;
  if (JSON.stringify(o.params) !== JSON.stringify(spec.params)) {
    throw new RangeError(
      `objective '${spec.name}' rebuilt with ${JSON.stringify(o.params)}, not ${
        JSON.stringify(spec.params)
      }`,
    );
  }
  return o;
}

async function init(msg: Record<string, unknown>): Promise<Replica> {
  const model = await initReplica(msg);
  const pairs = msg.pairs as TokenizedPair[];
  const padId = msg.padId as number;
  const trackers = buildTrackers(msg.trackers as ThreadTrackerSettings, pairs, padId);
  const states = (msg.states ?? {}) as Record<string, unknown>;
  for (const t of trackers) if (t.name in states) t.loadState?.(states[t.name]);
  return {
    model,
    trackers,
    objective: objectiveOf(msg.objective as { name: string; params: Record<string, unknown> }),
    data: preferenceData(pairs, { padId, length: msg.length as number | undefined }),
    beta: msg.beta as number,
  };
}

/** One measurement of every tracker at the step (and weights) the message gives. */
async function measure(r: Replica, msg: Record<string, unknown>) {
  loadReplicaWeights(r.model, msg.weights as Float32Array[], "tracker worker");
  const rows: { file: string; rows: Record<string, unknown>[] }[] = [];
  const ctx = {
    step: msg.step as number,
    totalSteps: msg.totalSteps as number,
    epoch: msg.epoch as number,
    policy: lmScorer(r.model),
    objective: r.objective,
    beta: r.beta,
    data: r.data,
    resumed: msg.resumed === true,
    rows: {
      append: (file: string, part: Record<string, unknown>[]) => rows.push({ file, rows: part }),
    },
  };
  const metrics: Record<string, unknown> = {};
  for (const t of r.trackers) {
    const out: HookResult = msg.phase === "begin"
      ? await t.onTrainBegin?.(ctx as BeginContext<PreferenceBatch>)
      : await t.onStepEnd?.(ctx as unknown as StepContext<PreferenceBatch>) as HookResult;
    mergeMetrics(metrics, out, t.name);
  }
  const states = Object.fromEntries(r.trackers.map((t) => [t.name, t.saveState?.()]));
  return { cmd: "measured", metrics, rows, states };
}

async function handle(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (msg.cmd === "init") {
    replica?.model.dispose();
    replica = await init(msg);
    return { cmd: "ready" };
  }
  if (!replica) throw new Error("tracker worker: not initialised");
  if (msg.cmd === "measure") return await measure(replica, msg);
  throw new Error(`tracker worker: unknown command ${String(msg.cmd)}`);
}

serveRequests(handle);
