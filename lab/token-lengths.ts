// Completion-length distributions: how many tokens a request generates, drawn from a seeded stream.
// Lengths are whole tokens, at least 1, and capped so no request outlives a lease (10 min by default).

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
