// What a request is charged under token fairness once its real usage is known. The dispatcher charges
// the admission estimate (prompt bytes / 4 + requested completion tokens) when it grants, and trues it up
// to this when the request ends with usage (see Dispatcher.release).

import { MAX_TOKEN_ESTIMATE } from './defaults.ts';
import type { TokenUsage } from './usage.ts';

/**
 * Weight of one prompt token. 1, like one completion token, so the charge stays in the units of the
 * admission estimate it replaces (which counts both alike). VTC weighs output 2:1; adopting that means
 * weighting the estimate the same way, which the fairness lab has to evaluate first.
 */
export const DEFAULT_PROMPT_TOKEN_WEIGHT = 1;
/** Weight of one completion token (see DEFAULT_PROMPT_TOKEN_WEIGHT). */
export const DEFAULT_COMPLETION_TOKEN_WEIGHT = 1;

/**
 * The tokens a finished request is charged: its weighted real usage, capped like an estimate. A request
 * that ends without usage (aborted, failed) keeps its estimate: nothing better is known of what it
 * consumed.
 */
export function chargedTokens(
  usage: TokenUsage,
  promptWeight = DEFAULT_PROMPT_TOKEN_WEIGHT,
  completionWeight = DEFAULT_COMPLETION_TOKEN_WEIGHT,
): number {
  const charge = promptWeight * usage.promptTokens + completionWeight * usage.completionTokens;
  return Math.min(MAX_TOKEN_ESTIMATE, Math.max(0, charge));
}
