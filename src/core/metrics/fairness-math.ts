// Jain's index over max-min fair shares: the one definition of service fairness, shared by the policy
// lab (lab/fairness.ts, over simulated requests) and the live gauge (pool-summary.ts, over what the
// coordinator hears). Pure functions over plain numbers; changing them changes docs/policy-lab.md.

/** The lab's window: demand and service are compared per 10 s and criticality level. */
export const FAIRNESS_WINDOW_MS = 10_000;

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

/** One workload in one (window, criticality) cell: requests queued at some point, and dispatched. */
export interface FairnessTally {
  readonly demand: number;
  readonly received: number;
}

/**
 * One cell's fairness: the slots the level got (Σ received) split max-min fairly over the demands, each
 * workload scored received / fair share, Jain's index over the scores. Null when fewer than two
 * workloads competed or nothing was dispatched (such a cell says nothing about fairness). `weight` is
 * the cell's dispatches: cells are averaged weighted by it.
 */
export function cellJain(tallies: readonly FairnessTally[]): { jain: number; weight: number } | null {
  const capacity = tallies.reduce((sum, t) => sum + t.received, 0);
  if (tallies.length < 2 || capacity === 0) return null;
  const shares = maxMinShares(
    tallies.map((t) => t.demand),
    capacity,
  );
  const scores = tallies.map((t, i) => t.received / (shares[i] as number));
  return { jain: jainIndex(scores), weight: capacity };
}
