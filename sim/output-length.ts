// How long a simulated completion is and why it ended: ⌈outputFrac × limit⌉ tokens (at least 1), and no
// more than outputTokens when that is set, so a client that asks for 1024 can get 150 and a natural
// "stop", as with a real model.

import type { GenerationRequest } from './requests.ts';

export interface CompletionOutput {
  readonly tokens: number;
  readonly finishReason: 'length' | 'stop';
}

/** Relative slack under which a product counts as the integer it is near. */
const INTEGER_SLACK = 1e-9;

/** ⌈frac × limit⌉, except that a product within float error of an integer is that integer (0.1 × 30). */
export function outputTokens(limit: number, outputFrac: number): number {
  const exact = outputFrac * limit;
  const nearest = Math.round(exact);
  const tokens = Math.abs(exact - nearest) <= INTEGER_SLACK * Math.max(1, exact) ? nearest : Math.ceil(exact);
  return Math.max(1, Math.min(limit, tokens));
}

/** A completion shorter than its limit stopped on its own; one that reached it keeps the parsed reason. */
export function planOutput(
  request: GenerationRequest,
  outputFrac: number,
  maxOutputTokens = 0,
): CompletionOutput {
  const planned = outputTokens(request.maxTokens, outputFrac);
  const tokens = maxOutputTokens > 0 ? Math.min(planned, maxOutputTokens) : planned;
  return { tokens, finishReason: tokens < request.maxTokens ? 'stop' : request.finishReason };
}
