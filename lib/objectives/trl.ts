/**
 * Every `loss_type` of Hugging Face TRL's `DPOTrainer` (HEAD f2cd577 list, v0.26 options where
 * they differ), with TRL's modifiers as parameters of each: `referenceFree`, `fDivergence` /
 * `fAlpha` (f-DPO), `ldAlpha` (LD-DPO) and `weighting` (WPO).
 *
 * Notation: `u = ℓθ − ℓref` (summed completion log-probs), `s = f-score(u)`, `Δs = s_w − s_l`.
 *
 * The loss types live in `trl/`: `builder.ts` (the modifiers and the builder every type uses),
 * `margin.ts` (losses of Δs), `per_side.ts` (losses of each side's score), `aot.ts` (the
 * batch-sorted AOT types) and `sft.ts`; this file gathers them under one import.
 *
 * @module
 */
export { TRL_MODIFIER_SPECS, type TrlModifiers } from "./trl/builder.ts";
export * from "./trl/margin.ts";
export * from "./trl/per_side.ts";
export * from "./trl/aot.ts";
export * from "./trl/sft.ts";
