// Completion-length distributions: how many tokens a request generates, drawn from a seeded stream, and
// the max_tokens its client asks for, which is what the router's estimate sees. Lengths are whole tokens,
// at least 1, and capped so no request outlives a lease (10 min by default).

import { lognormal, pareto, type Rng } from './prng.ts';

export type TokenLengths =
  | { readonly kind: 'fixed'; readonly tokens: number }
  | {
      readonly kind: 'lognormal';
      readonly medianTokens: number;
      readonly sigma: number;
      readonly maxTokens: number;
    }
  | {
      readonly kind: 'pareto';
      readonly minTokens: number;
      readonly alpha: number;
      readonly maxTokens: number;
    };

/**
 * What a client sends as max_tokens, given the length it will generate (always ≥ that length):
 * - `cap`: the distribution's cap (a fixed length: the length itself). Real clients set one ceiling for
 *   every call, sized for their longest answers, and most answers stop well short of it (an end-of-
 *   sequence token); this is the lab's default.
 * - `multiple`: `factor` × the length, the over-asking client of issue 11 (“asks 8× what it generates”).
 */
export type MaxTokensModel =
  { readonly kind: 'cap' } | { readonly kind: 'multiple'; readonly factor: number };

export const DEFAULT_MAX_TOKENS_MODEL: MaxTokensModel = Object.freeze({ kind: 'cap' });

export function maxTokensFor(model: MaxTokensModel, dist: TokenLengths, length: number): number {
  switch (model.kind) {
    case 'cap':
      return Math.max(length, dist.kind === 'fixed' ? dist.tokens : dist.maxTokens);
    case 'multiple':
      return Math.ceil(model.factor * length);
  }
}

export function describeMaxTokens(model: MaxTokensModel): string {
  return model.kind === 'cap' ? 'max_tokens = the cap' : `max_tokens = ${model.factor} × the length`;
}

export function drawTokens(dist: TokenLengths, rng: Rng): number {
  switch (dist.kind) {
    case 'fixed':
      return dist.tokens;
    case 'lognormal':
      return clampTokens(lognormal(rng, dist.medianTokens, dist.sigma), dist.maxTokens);
    case 'pareto':
      return clampTokens(pareto(rng, dist.minTokens, dist.alpha), dist.maxTokens);
  }
}

export function describeTokenLengths(dist: TokenLengths): string {
  switch (dist.kind) {
    case 'fixed':
      return `${dist.tokens} tokens`;
    case 'lognormal':
      return `lognormal tokens (median ${dist.medianTokens}, σ ${dist.sigma}, cap ${dist.maxTokens})`;
    case 'pareto':
      return `Pareto tokens (min ${dist.minTokens}, α ${dist.alpha}, cap ${dist.maxTokens})`;
  }
}

function clampTokens(value: number, maxTokens: number): number {
  return Math.min(maxTokens, Math.max(1, Math.round(value)));
}
