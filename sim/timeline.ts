// When each token of a simulated generation is due, measured from the moment the request gets its slot.
// Pure arithmetic; the server sleeps until these offsets against its own clock, so per-token timer
// overhead does not accumulate into a slower decode than configured.

export interface GenerationPlan {
  readonly tokens: number;
  readonly ttftMs: number;
  readonly itlMs: number;
  /** Pause inserted once, after the first half of the tokens; 0 for none. */
  readonly stallMs: number;
}

/** Tokens emitted before the stall: ceil(n/2), so even a one-token stream stalls before it finishes. */
export function tokensBeforeStall(plan: GenerationPlan): number {
  return Math.ceil(plan.tokens / 2);
}

/** Offset of token `index` (0-based): ttft for the first, then one itl apart, shifted by the stall. */
export function tokenOffsetMs(plan: GenerationPlan, index: number): number {
  const stall = plan.stallMs > 0 && index >= tokensBeforeStall(plan) ? plan.stallMs : 0;
  return plan.ttftMs + index * plan.itlMs + stall;
}

/** Offset at which the generation is complete: the last token, plus the stall if it comes after it. */
export function finishOffsetMs(plan: GenerationPlan): number {
  const last = tokenOffsetMs(plan, plan.tokens - 1);
  return plan.stallMs > 0 && tokensBeforeStall(plan) >= plan.tokens ? last + plan.stallMs : last;
}
