/**
 * Shapes shared by the data pipeline, the models and the trainer. Plain typed arrays, no
 * tensors, so data code does not depend on a tfjs backend.
 *
 * @module
 */

/** One preference pair after tokenization. Completion ids already end with EOS. */
export interface TokenizedPair {
  /** Row of the pair in its source file (0-based), for error messages and per-pair records. */
  index: number;
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
}

/**
 * A batch of B pairs laid out TRL-style as 2B rows, `[chosen_0..chosen_{B-1}, rejected_0..]`,
 * each `prompt ++ completion`, right-padded to a common length T.
 *
 * Row-major flat arrays of length `2B * T`. `completionMask[r*T + t] = 1` when token t of row r
 * is a completion token (predicted from position t-1); prompt and padding are 0.
 */
export interface PreferenceBatch {
  /** Number of pairs B. */
  size: number;
  /** Padded row length T. */
  length: number;
  inputIds: Int32Array;
  attentionMask: Float32Array;
  completionMask: Float32Array;
  /** Source row of each pair, length B. */
  pairIndex: number[];
  /** Prompt token count of each row, length 2B. */
  promptLength: number[];
  /** Completion token count (EOS included) of each row, length 2B. */
  completionLength: number[];
}
