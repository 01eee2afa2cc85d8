/**
 * Analysis trackers: trainer callbacks (see `lib/train/callbacks.ts`) that follow the dynamics
 * the papers study, each cheap enough to leave on.
 *
 * - {@link distributionTracker}: the whole next-token distribution of a few prompts over time
 *   (single-token and toy models), where the mass went (top-k gains), argmax mass and greedy
 *   log-prob (squeezing). Metrics `dist/*`, rows `distribution.jsonl`.
 * - {@link displacementTracker}: likelihood displacement per pair (Definition 1 of
 *   arXiv 2410.08847), labelled benign or catastrophic from user-given good responses.
 *   Metrics `displacement/*`, rows `displacement.jsonl`.
 * - {@link gradientAlignmentTracker}: on a few pairs, `<grad l_w, grad l_l>` and the norms,
 *   which decide whether the chosen log-prob can fall. Metrics `grad/*`, rows `gradients.jsonl`.
 *
 * Each also keeps what it measured in memory (`history`, `last`) for notebooks.
 *
 * @module
 */
export {
  type DistributionSnapshot,
  type DistributionTracker,
  distributionTracker,
  type DistributionTrackerOptions,
} from "./distribution_tracker.ts";
export {
  type DisplacementTracker,
  displacementTracker,
  type DisplacementTrackerOptions,
} from "./displacement_tracker.ts";
export {
  gradientAlignmentTracker,
  type GradientTracker,
  type GradientTrackerOptions,
} from "./gradient_tracker.ts";
