// Named defaults for the scheduling core, with units and the reason for each value.
// Config parsing (src/worker/config.ts) and the policy lab start from these; nothing else hard-codes them.

/** Workload used when the header is missing or unusable: one shared bucket, visible in the admin API. */
export const DEFAULT_WORKLOAD_ID = 'default';
/** Middle of 1..5, so an unlabelled request is neither favoured nor punished. */
export const DEFAULT_CRITICALITY = 3;
export const MIN_CRITICALITY = 1;
export const MAX_CRITICALITY = 5;
/** Larger headers are treated as malformed: the context is two small fields. */
export const MAX_WORKLOAD_HEADER_BYTES = 4096;
/** Workload IDs name Durable Objects and appear in logs and metrics labels; keep them short. */
export const MAX_WORKLOAD_ID_CHARS = 128;

/** A request waiting longer than this is evicted (HTTP 503): clients have usually given up by then. */
export const DEFAULT_QUEUE_TTL_MS = 60_000;
/** Per-workload queue bound: one tenant's backlog cannot grow without limit (HTTP 429 beyond it). */
export const DEFAULT_MAX_QUEUE_PER_WORKLOAD = 1000;
/** Request-rate window, as in the reference design, but truly sliding. */
export const DEFAULT_RATE_WINDOW_MS = 60_000;
/** Rate buckets: 1 s is fine enough for a 60 s window and keeps the ring at 61 slots. */
export const DEFAULT_RATE_BUCKET_MS = 1_000;
/** EMA weight of the newest queue-wait sample, as in the reference design. */
export const WAIT_EMA_ALPHA = 0.2;
/** An idle workload (nothing active, no request for this long) may be deleted. */
export const WORKLOAD_IDLE_EVICT_MS = 5 * 60_000;
/**
 * A request neither completed nor renewed within this time is presumed lost (its Worker crashed): the
 * workload completes it as lost/lease_expired and its slot is freed. Running requests are renewed every
 * quarter of it (see leaseRenewIntervalMs), so generations of any length keep their slot, and the slots of
 * a crashed Worker (or of a whole router killed mid-load) come back within about 30 s.
 */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/**
 * How often a running request renews its lease: four chances per TTL, so one or two lost heartbeats do
 * not cost the slot; never more often than every 250 ms, whatever the TTL. The Worker heartbeats its
 * workload at this interval, and each workload renews all its leases at the coordinator in one call per
 * interval, so a heartbeat costs no coordinator call of its own and no synchronous storage write (the
 * workload notes the progress in its coalesced registry write, at most one per 200 ms per workload).
 */
export function leaseRenewIntervalMs(leaseTtlMs: number): number {
  return Math.max(250, Math.floor(leaseTtlMs / 4));
}

/**
 * A restarted coordinator asks its known workloads for their leases this many at a time (the next as each
 * answers): a pool that knows thousands of workloads would otherwise wake them all at once from one
 * object. At ~10 ms per ask, 10,000 workloads answer in about 2 s, well inside the one lease TTL after
 * which the coordinator grants again anyway.
 */
export const RECOVERY_ASKS_IN_FLIGHT = 64;

/**
 * While requests wait, a workload re-offers its head this often. It heals a coordinator restart (its
 * ready set lives in memory) and a lost offer, at the cost of one small call per waiting workload per
 * interval. Releases that failed are retried on the same beat.
 */
export const REOFFER_INTERVAL_MS = 5_000;

/** workload-aware: a head that has waited this long outranks every head that has not. */
export const DEFAULT_AGING_HORIZON_MS = 30_000;
/** workload-aware: one criticality level is worth this much waiting (5 s, so 1→5 is 20 s < horizon). */
export const DEFAULT_CRITICALITY_STEP_MS = 5_000;
/** workload-aware: the largest penalty a heavy workload pays, in milliseconds of waiting. */
export const DEFAULT_RATE_PENALTY_MS = 2_000;
/** workload-aware: request rate at which the penalty saturates. */
export const DEFAULT_RATE_CAP_PER_SEC = 50;

/** First cooldown of an unreachable backend; doubles per consecutive failure. Short: most blips are. */
export const BACKEND_COOLDOWN_BASE_MS = 1_000;
/** Longest cooldown, so a recovered backend is retried within half a minute. */
export const BACKEND_COOLDOWN_MAX_MS = 30_000;

/**
 * workload-aware with token fairness: 1,000 tokens of start tag weigh as much as 1 s of the criticality
 * step (5 s), so token debt reorders tenants within a level and needs 5,000 tokens to cross one.
 */
export const DEFAULT_TOKEN_COST_MS_PER_1K = 1_000;

/**
 * Largest token estimate one request is charged (and the router accepts from max_tokens): no model
 * generates more, and an absurd client value must not swamp everyone else's start tags.
 */
export const MAX_TOKEN_ESTIMATE = 1_000_000;

/**
 * A workload's share of capacity at equal criticality, under token fairness: its start tags advance by
 * tokens / weight, so weight 2 is served twice the tokens of weight 1 while both are backlogged. 1 for
 * everyone unless configured, so unconfigured tenants share equally. Weight shares; it does not order
 * (criticality does).
 */
export const DEFAULT_WORKLOAD_WEIGHT = 1;
/**
 * Weights outside [MIN, MAX] are configuration errors. Beyond 1,000:1 a weight no longer shares capacity,
 * it takes all of it, which is what criticality is for; the floor is the same ratio the other way.
 */
export const MIN_WORKLOAD_WEIGHT = 0.001;
export const MAX_WORKLOAD_WEIGHT = 1_000;

/**
 * Token fairness: EMA weight of the newest actual / estimated sample of a workload's usage ratio (the
 * share of its estimate a grant charges before the true-up). As for waits: a few requests move it, one
 * outlier does not.
 */
export const USAGE_RATIO_EMA_ALPHA = 0.2;
