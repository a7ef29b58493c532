// How a request ends: two levels, as in GIE flow control. The outcome says what happened (a low-cardinality
// metric label, counted in the registry); the reason says why. Created once, where the decision is made,
// and carried unchanged across Durable Object RPC as a value; src/worker/http-error.ts maps it to HTTP.

/** Each outcome with the reasons it can have. Reasons are unique across outcomes. */
export const REASONS_BY_OUTCOME = {
  /** The backend answered (any status below 500), and the answer reached the end of its stream. */
  success: ['completed'],
  /** Turned away at admission, before waiting: the queue is full, or a per-minute limit is used up. */
  rejected: ['queue_full', 'rate_limited'],
  /** Admitted, then taken out of the queue by the router without being served. */
  evicted: ['ttl_expired', 'pool_down'],
  /** The client went away (or the router lost the client's waiter when its queue restarted). */
  cancelled: ['client_closed', 'queue_lost'],
  /** The backend failed the request. */
  upstream_error: [
    'unreachable',
    'headers_timeout',
    'upstream_5xx',
    'stream_failed',
    'idle_timeout',
    'backend_removed',
  ],
  /** Neither completed nor renewed within the lease TTL: its Worker is presumed to have crashed. */
  lost: ['lease_expired'],
} as const;

export type Outcome = keyof typeof REASONS_BY_OUTCOME;
export type Reason = (typeof REASONS_BY_OUTCOME)[Outcome][number];

export const OUTCOMES = Object.keys(REASONS_BY_OUTCOME) as readonly Outcome[];
export const REASONS = OUTCOMES.flatMap((o) => REASONS_BY_OUTCOME[o]) as readonly Reason[];

/** One end of one request: an outcome with one of its own reasons (the pairing is checked by the type). */
export type Ended = {
  readonly [O in Outcome]: { readonly outcome: O; readonly reason: (typeof REASONS_BY_OUTCOME)[O][number] };
}[Outcome];

export type OutcomeCounts = Record<Outcome, number>;
export type ReasonCounts = Record<Reason, number>;

export function emptyOutcomeCounts(): OutcomeCounts {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;
}

export function emptyReasonCounts(): ReasonCounts {
  return Object.fromEntries(REASONS.map((r) => [r, 0])) as ReasonCounts;
}

/** The outcome a reason belongs to. */
export function outcomeOf(reason: Reason): Outcome {
  for (const o of OUTCOMES) if ((REASONS_BY_OUTCOME[o] as readonly string[]).includes(reason)) return o;
  throw new TypeError(`unknown reason ${String(reason)}`);
}

/** Builds an Ended from a reason alone; the outcome follows from it. */
export function ended(reason: Reason): Ended {
  return { outcome: outcomeOf(reason), reason } as Ended;
}

/** The ends every host creates, named once. */
export const ENDED = Object.freeze({
  completed: ended('completed'),
  queueFull: ended('queue_full'),
  rateLimited: ended('rate_limited'),
  ttlExpired: ended('ttl_expired'),
  poolDown: ended('pool_down'),
  clientClosed: ended('client_closed'),
  queueLost: ended('queue_lost'),
  leaseExpired: ended('lease_expired'),
});

/**
 * Outcome names of registry snapshots written before the two-level taxonomy, so counters survive the
 * deploy that introduces it.
 */
export const LEGACY_OUTCOMES: Readonly<Record<string, Ended>> = Object.freeze({
  rejected_capacity: ENDED.queueFull,
  evicted_ttl: ENDED.ttlExpired,
  lease_expired: ENDED.leaseExpired,
});
