// Per-workload limits (issue 9), as pure rules with time as a parameter: how many requests may run at
// once (excess waits in the queue), and how many requests and estimated tokens may be admitted per minute
// (excess is rejected with a Retry-After). The workload host applies them; nothing here performs I/O.

/** What a key (or a workload's config) may set. Absent: no limit of that kind. */
export interface WorkloadLimits {
  /** The most requests of the workload running at once; more wait in its queue (never rejected). */
  readonly maxInFlight?: number;
  /** Admissions per minute; beyond it: rejected/rate_limited (HTTP 429). */
  readonly requestsPerMinute?: number;
  /** Estimated tokens (prompt + max completion, at admission) per minute; beyond it: rate_limited. */
  readonly tokensPerMinute?: number;
}

export const LIMIT_FIELDS = ['maxInFlight', 'requestsPerMinute', 'tokensPerMinute'] as const;
export type LimitField = (typeof LIMIT_FIELDS)[number];

/** Upper bounds that catch a typo (an extra few zeros) rather than any real deployment's need. */
export const MAX_LIMIT_VALUES: Readonly<Record<LimitField, number>> = Object.freeze({
  maxInFlight: 100_000,
  requestsPerMinute: 10_000_000,
  tokensPerMinute: 10_000_000_000,
});

const MINUTE_MS = 60_000;

export type LimitsResult =
  | { readonly ok: true; readonly limits: WorkloadLimits }
  | { readonly ok: false; readonly field: string; readonly message: string };

/**
 * Validates a limits object: each field absent, or an integer from 1 to its bound. With `base`, fields
 * absent from `input` keep the base value and a field set to null is removed (a partial update).
 */
export function validateLimits(input: unknown, base: WorkloadLimits = {}, path = 'limits'): LimitsResult {
  if (input === undefined) return { ok: true, limits: base };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, field: path, message: `${path} must be an object, got ${describeValue(input)}` };
  }
  const out: Record<string, number> = {};
  for (const f of LIMIT_FIELDS) if (base[f] !== undefined) out[f] = base[f];
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    const field = `${path}.${key}`;
    if (!(LIMIT_FIELDS as readonly string[]).includes(key)) {
      return { ok: false, field, message: `${field} is not a limit (use ${LIMIT_FIELDS.join(', ')})` };
    }
    if (value === null) {
      delete out[key];
      continue;
    }
    const max = MAX_LIMIT_VALUES[key as LimitField];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      return {
        ok: false,
        field,
        message: `${field} must be an integer from 1 to ${max} (or null for none), got ${describeValue(value)}`,
      };
    }
    out[key] = value;
  }
  return { ok: true, limits: Object.freeze(out) };
}

/** A bad value as an error message shows it. */
export function describeValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}

/**
 * A token bucket holding up to `perMinute` units and refilled at `perMinute` per minute: a burst of a
 * minute's allowance, then a steady rate. `level` is as of `at` (ms).
 */
export interface BucketState {
  readonly level: number;
  readonly at: number;
}

export type TakeResult =
  { readonly ok: true; readonly state: BucketState } | { readonly ok: false; readonly retryAfterMs: number };

/** The bucket's level at `now` (full when never used). */
export function bucketLevel(state: BucketState | undefined, perMinute: number, now: number): number {
  if (!state) return perMinute;
  const refill = (Math.max(0, now - state.at) * perMinute) / MINUTE_MS;
  return Math.min(perMinute, state.level + refill);
}

/**
 * Takes `cost` units at `now`, or says when it could: the time until the bucket refills to the cost.
 * A cost larger than the whole bucket is taken from a full bucket (the level goes negative), so one
 * large request is possible but pays for it: the next ones wait until the debt is refilled.
 */
export function takeFromBucket(
  state: BucketState | undefined,
  perMinute: number,
  cost: number,
  now: number,
): TakeResult {
  const level = bucketLevel(state, perMinute, now);
  const need = Math.min(cost, perMinute);
  if (level >= need) return { ok: true, state: { level: level - cost, at: now } };
  return { ok: false, retryAfterMs: Math.ceil(((need - level) * MINUTE_MS) / perMinute) };
}

export type RateDecision =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly limit: 'requestsPerMinute' | 'tokensPerMinute';
      readonly retryAfterSec: number;
    };

/** What the admin API shows of a workload's limits. */
export interface LimitsView {
  readonly limits: WorkloadLimits;
  /** Units left now in each rate bucket (absent when that limit is not set). */
  readonly requestsAvailable?: number;
  readonly tokensAvailable?: number;
}

export interface LimiterSnapshot {
  readonly limits: WorkloadLimits;
  readonly requests?: BucketState;
  readonly tokens?: BucketState;
}

/** Shared by every limiter without limits (limits are replaced, never changed in place). */
const NO_LIMITS: WorkloadLimits = Object.freeze({});

/** One workload's limits and rate buckets. Both buckets must allow an admission before either is charged. */
export class WorkloadLimiter {
  #limits: WorkloadLimits;
  #requests: BucketState | undefined;
  #tokens: BucketState | undefined;
  /** limits.maxInFlight, or Infinity: read on every grant and offer, so kept on this object. */
  #maxInFlight: number;
  /** Whether a per-minute limit is set (most workloads have none: admit then reads nothing else). */
  #rated: boolean;

  constructor(saved?: LimiterSnapshot) {
    this.#limits = saved?.limits ?? NO_LIMITS;
    this.#maxInFlight = this.#limits.maxInFlight ?? Infinity;
    this.#rated = isRated(this.#limits);
    this.#requests = saved?.requests;
    this.#tokens = saved?.tokens;
  }

  get limits(): WorkloadLimits {
    return this.#limits;
  }

  /** Replaces the limits; true when any changed. A bucket whose limit is removed is forgotten. */
  configure(limits: WorkloadLimits): boolean {
    const same = LIMIT_FIELDS.every((f) => limits[f] === this.#limits[f]);
    if (same) return false;
    this.#limits = limits;
    this.#maxInFlight = limits.maxInFlight ?? Infinity;
    this.#rated = isRated(limits);
    if (limits.requestsPerMinute === undefined) this.#requests = undefined;
    if (limits.tokensPerMinute === undefined) this.#tokens = undefined;
    return true;
  }

  /** Charges one admission of `tokenEstimate` tokens at `now`, or says which limit refuses it and for how long. */
  admit(tokenEstimate: number, now: number): RateDecision {
    if (!this.#rated) return ADMITTED;
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = this.#limits;
    const req = rpm === undefined ? null : takeFromBucket(this.#requests, rpm, 1, now);
    const tok = tpm === undefined ? null : takeFromBucket(this.#tokens, tpm, Math.max(0, tokenEstimate), now);
    // Retry-After must be when *both* buckets have room: the longer wait of the two refusals.
    const reqWaitMs = req && !req.ok ? req.retryAfterMs : 0;
    const tokWaitMs = tok && !tok.ok ? tok.retryAfterMs : 0;
    if (reqWaitMs > 0 || tokWaitMs > 0) {
      return tokWaitMs > reqWaitMs
        ? refusal('tokensPerMinute', tokWaitMs)
        : refusal('requestsPerMinute', reqWaitMs);
    }
    if (req?.ok) this.#requests = req.state;
    if (tok?.ok) this.#tokens = tok.state;
    return ADMITTED;
  }

  /** Whether one more request may start with `inFlight` already running (strictly below maxInFlight). */
  allowsStart(inFlight: number): boolean {
    return inFlight < this.#maxInFlight;
  }

  view(now: number): LimitsView {
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = this.#limits;
    return {
      limits: this.#limits,
      ...(rpm === undefined ? {} : { requestsAvailable: Math.floor(bucketLevel(this.#requests, rpm, now)) }),
      ...(tpm === undefined ? {} : { tokensAvailable: Math.floor(bucketLevel(this.#tokens, tpm, now)) }),
    };
  }

  snapshot(): LimiterSnapshot | undefined {
    if (LIMIT_FIELDS.every((f) => this.#limits[f] === undefined)) return undefined;
    return {
      limits: this.#limits,
      ...(this.#requests ? { requests: this.#requests } : {}),
      ...(this.#tokens ? { tokens: this.#tokens } : {}),
    };
  }
}

const ADMITTED: RateDecision = Object.freeze({ ok: true });

function isRated(limits: WorkloadLimits): boolean {
  return limits.requestsPerMinute !== undefined || limits.tokensPerMinute !== undefined;
}

function refusal(limit: 'requestsPerMinute' | 'tokensPerMinute', retryAfterMs: number): RateDecision {
  return { ok: false, limit, retryAfterSec: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
}
