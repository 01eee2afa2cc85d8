/**
 * study: what every study notebook needs besides models and plots: summaries and 95% intervals
 * (over seeds, by bootstrap over pairs, for differences), the two-part final table (sanity
 * checks apart from findings; only findings count), output flushing, the toy-run harness, and the
 * calibration of a scale (a learning rate) to a target outcome.
 *
 * @example
 * ```ts
 * import { meanCI, studyTable } from "./mod.ts";
 * const t = studyTable();
 * t.finding({
 *   claim: "margin grows", expected: "> 0 nats after 100 steps",
 *   estimate: meanCI([0.8, 1.1, 0.9, 1.0, 1.2]), threshold: 0, direction: ">",
 * });
 * await t.print();
 * ```
 *
 * @module
 */
export {
  bootstrapCI,
  type BootstrapOptions,
  boundedMeanCI,
  type Bounds,
  diffMeansCI,
  type Interval,
  mean,
  meanCI,
  median,
  sampleSd,
  tCdf,
  tQuantile,
} from "./stats.ts";
export {
  type Finding,
  type FindingVerdict,
  findingVerdict,
  formatInterval,
  type SanityCheck,
  type StudySummary,
  type StudyTable,
  studyTable,
} from "./verdict.ts";
export { flushOutput } from "./output.ts";
export { type ToyRun, toyRun, type ToyRunOptions } from "./toy_run.ts";
export { type CalibrateOptions, calibrateScale, type Calibration } from "./calibrate.ts";
export {
  runFromSft,
  type SftStart,
  sftStart,
  type SftToyConfig,
  sftToyConfig,
  sftToyPairs,
} from "./sft_compare.ts";
export { seedBand } from "./seed_band.ts";
export {
  ANSWER_WORDS,
  type AnswerShare,
  answerShare,
  type AnswerWordIds,
  answerWordIds,
  NO_WORDS,
  splitQuestions,
  YES_WORDS,
  yesNoSft,
  type YesNoSftOptions,
} from "./yesno_sft.ts";
export { formatTable, printTable, type TableOptions } from "./table.ts";
export { wrapText } from "./table.ts";
