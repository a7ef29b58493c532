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

/**
 * Jain's fairness index (Σx)² / (n·Σx²): 1 when every x is equal, 1/n when one party gets everything.
 * Inputs must be ≥ 0 and not all zero.
 */
export function jainIndex(xs: readonly number[]): number {
  let sum = 0;
  let sumSq = 0;
  for (const x of xs) {
    if (!(x >= 0)) throw new TypeError(`jainIndex: values must be ≥ 0, got ${x}`);
    sum += x;
    sumSq += x * x;
  }
  if (sumSq === 0) throw new TypeError('jainIndex: needs at least one positive value');
  return (sum * sum) / (xs.length * sumSq);
}

/**
 * Max-min fair (water-filling) split of `capacity` among `demands`: nobody gets more than it asks for,
 * and what a small demand leaves over is shared equally by the larger ones.
 */
export function maxMinShares(demands: readonly number[], capacity: number): number[] {
  const shares = demands.map(() => 0);
  const order = demands.map((d, i) => ({ d, i })).sort((a, b) => a.d - b.d || a.i - b.i);
  let left = capacity;
  order.forEach(({ d, i }, k) => {
    const equal = left / (order.length - k);
    const share = Math.min(d, equal);
    shares[i] = share;
    left -= share;
  });
  return shares;
}
