/**
 * Backend conformance and speed: does a backend compute a transformer's loss and gradients like
 * the reference `cpu` backend, and how long does it take for one training step?
 *
 * Both use one small GPT-2-style model written here with raw tfjs ops (independent of
 * lib/models, so a bug there cannot hide a backend bug or the reverse): token embedding
 * (gather), learned positions, pre-layer-norm blocks of causal multi-head softmax attention and
 * a GELU (tanh form) MLP, a final layer norm, logits, logSoftmax and mean cross-entropy.
 *
 * All backends are measured in one process: tfjs keeps each backend it has started and
 * `tf.setBackend` switches between them. {@link conformance} creates every tensor afresh on the
 * backend under test after switching, so a wrong result after a switch would fail it. Timed
 * steps are interleaved across backends, round by round, so that load from other processes
 * on a shared machine falls on all of them alike; medians are reported.
 *
 * The parts live in `backend_measure/`: `tiny_gpt.ts` (the model), `conformance.ts`, `timing.ts`
 * and `measure.ts` (every backend, the record); this file gathers them under one import.
 *
 * @module
 */
export {
  CONFORMANCE_CONFIG,
  type ParamValues,
  STEP_CONFIG,
  tinyGptBatch,
  type TinyGptConfig,
  tinyGptLoss,
  tinyGptParams,
} from "./backend_measure/tiny_gpt.ts";
export {
  conformance,
  CONFORMANCE_TOLERANCE,
  type ConformanceResult,
  forwardBackward,
  type PassResult,
  scaledError,
} from "./backend_measure/conformance.ts";
export {
  timeTrainingStep,
  type TrainingStepper,
  trainingStepper,
} from "./backend_measure/timing.ts";
export {
  type BackendResult,
  measureBackends,
  type MeasurementRecord,
  type MeasureOptions,
} from "./backend_measure/measure.ts";
