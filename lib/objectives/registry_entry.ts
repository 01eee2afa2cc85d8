/**
 * The shape of a registry entry, shared by the registry's tables of TRL loss types and of
 * papers' objectives.
 *
 * @module
 */
import type { Objective } from "./types.ts";

/** Where an objective's formula comes from. */
export type FormulaSource = "code" | "paper" | "reconstructed";

/** One registry entry. */
export interface ObjectiveEntry {
  name: string;
  /** Other accepted names (TRL loss types, spellings). */
  aliases: readonly string[];
  /** Paper title, short. */
  title: string;
  /** arXiv id(s). */
  arxiv: string;
  /** Per-pair loss, plain text. */
  formula: string;
  /** "code": read in a public implementation; "paper": in the paper text; "reconstructed". */
  source: FormulaSource;
  create: (params?: Record<string, unknown>) => Objective;
}
