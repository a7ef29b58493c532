// Statistics the report needs and nothing else: nearest-rank percentiles, Jain's index and max-min fair
// shares. Pure functions over plain numbers.

/** Nearest-rank percentile of an ascending array: the smallest value with at least p% at or below it. */
export function percentile(sortedAsc: readonly number[], p: number): number | null {
  if (sortedAsc.length === 0) return null;
  if (!(p > 0 && p <= 100)) throw new TypeError(`percentile: p must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sortedAsc.length);
  return sortedAsc[Math.min(sortedAsc.length, rank) - 1] ?? null;
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

// Jain's index and max-min shares are the live fairness gauge's definition too, so they live in core.
export { jainIndex, maxMinShares } from '../src/core/metrics/fairness-math.ts';
