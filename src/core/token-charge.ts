// What a request is charged under token fairness once it ends. The dispatcher charges the admission
// estimate (prompt bytes / 4 + requested completion tokens) when it grants, and trues it up to this when
// the request ends (see Dispatcher.release).

import { MAX_TOKEN_ESTIMATE } from './defaults.ts';
import type { Ended } from './outcome.ts';
import type { TokenUsage } from './usage.ts';

/**
 * Weight of one prompt token. 1, like one completion token, so the charge stays in the units of the
 * admission estimate it replaces (which counts both alike), and a request that uses what it asked for is
 * charged exactly its estimate. VTC weighs output 2:1 because decoding a token costs a backend more than
 * prefilling one; adopting that means weighting the estimate the same way (DEFAULT_COMPLETION_TOKEN_WEIGHT
 * times max_tokens), or every request would be trued up by the same factor, which moves nobody relative to
 * anybody. Kept separate and named so that choice is one line.
 */
export const DEFAULT_PROMPT_TOKEN_WEIGHT = 1;
/** Weight of one completion token (see DEFAULT_PROMPT_TOKEN_WEIGHT). */
export const DEFAULT_COMPLETION_TOKEN_WEIGHT = 1;

/**
 * The tokens a finished request is charged: its weighted real usage, capped like an estimate.
 */
export function chargedTokens(
  usage: TokenUsage,
  promptWeight = DEFAULT_PROMPT_TOKEN_WEIGHT,
  completionWeight = DEFAULT_COMPLETION_TOKEN_WEIGHT,
): number {
  const charge = promptWeight * usage.promptTokens + completionWeight * usage.completionTokens;
  return Math.min(MAX_TOKEN_ESTIMATE, Math.max(0, charge));
}

/**
 * The rule for what an ended request is charged, as far as it can be known; undefined keeps the estimate
 * charged at the grant:
 * - usage reported: the weighted usage (chargedTokens);
 * - the backend was never reached (`unreachable`): 0, it served nothing;
 * - anything else without usage (client gone mid-stream, upstream error, lost): the estimate. It is the
 *   most the request could have consumed (its whole prompt and max_tokens), and charging less would make
 *   aborting before the usage chunk a way to dodge the charge.
 * A failover's failed lease is charged 0 too (see CoordinatorHost.offer): the request is charged again
 * when it is granted anew.
 */
export function chargeAtEnd(end: Ended, usage: TokenUsage | null | undefined): number | undefined {
  if (usage) return chargedTokens(usage);
  return end.reason === 'unreachable' ? 0 : undefined;
}
