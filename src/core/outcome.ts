// Request outcomes: every request ends in exactly one of these. They are values, never exceptions,
// and double as low-cardinality metric labels.

export const OUTCOMES = [
  'success',
  'rejected_capacity',
  'evicted_ttl',
  'cancelled',
  'upstream_error',
  'lease_expired',
] as const;

export type Outcome = (typeof OUTCOMES)[number];

export type OutcomeCounts = Record<Outcome, number>;

export function emptyOutcomeCounts(): OutcomeCounts {
  return {
    success: 0,
    rejected_capacity: 0,
    evicted_ttl: 0,
    cancelled: 0,
    upstream_error: 0,
    lease_expired: 0,
  };
}
