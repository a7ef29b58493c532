// One workload's numbers in one pool as a flat vector of fixed layout, so the coordinator's summaries
// are sums and differences of vectors (pool totals, `other`, a restarted workload's earlier life), and a
// report crosses Durable Object RPC as a short list of non-zero entries. No clock, no I/O.

import { REASONS, type Reason } from '../outcome.ts';
import type { Criticality } from '../workload-context.ts';

/**
 * Queue-wait histogram bounds, in seconds (Prometheus base unit). From 10 ms (a free slot) to 2 min
 * (about the default queue TTL); beyond that the +Inf bucket.
 */
export const WAIT_BUCKETS_SEC: readonly number[] = Object.freeze([
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
]);

export const CRITICALITIES: readonly Criticality[] = Object.freeze([1, 2, 3, 4, 5]);

/** Entries that are gauges (current values), not counters: they do not carry over a workload's restart. */
const HEAD = ['requests', 'inFlight', 'promptTokens', 'completionTokens'] as const;
const PER_LEVEL = ['enqueued', 'dispatched', 'queued', 'waitSumMs'] as const;
const LEVEL_SIZE = PER_LEVEL.length + WAIT_BUCKETS_SEC.length + 1;
const ENDED_AT = HEAD.length;
const LEVELS_AT = ENDED_AT + REASONS.length;

export const COUNTER_LENGTH = LEVELS_AT + CRITICALITIES.length * LEVEL_SIZE;

// Lookup tables, not indexOf: these indexes are computed on every report and per workload per scrape.
const LEVEL_FIELD_AT = { enqueued: 0, dispatched: 1, queued: 2, waitSumMs: 3 } as const satisfies Record<
  (typeof PER_LEVEL)[number],
  number
>;
const REASON_AT: Readonly<Record<string, number>> = Object.fromEntries(REASONS.map((r, i) => [r, i]));

export const IX = Object.freeze({
  requests: 0,
  inFlight: 1,
  promptTokens: 2,
  completionTokens: 3,
  ended: (reason: Reason): number => ENDED_AT + (REASON_AT[reason] as number),
  level: (criticality: number, field: (typeof PER_LEVEL)[number]): number =>
    LEVELS_AT + (criticality - 1) * LEVEL_SIZE + LEVEL_FIELD_AT[field],
  /** Bucket i (0-based; the last is +Inf) of the wait histogram, non-cumulative. */
  bucket: (criticality: number, i: number): number =>
    LEVELS_AT + (criticality - 1) * LEVEL_SIZE + PER_LEVEL.length + i,
});

/** Offsets within one criticality level's entries, from levelAt(criticality); buckets is the first bucket. */
export const LEVEL = Object.freeze({ ...LEVEL_FIELD_AT, buckets: PER_LEVEL.length });

/** Where a criticality level's entries start: IX.level(c, f) = levelAt(c) + LEVEL[f]. */
export function levelAt(criticality: number): number {
  return LEVELS_AT + (criticality - 1) * LEVEL_SIZE;
}

const GAUGE_INDEXES: readonly number[] = Object.freeze([
  IX.inFlight,
  ...CRITICALITIES.map((c) => IX.level(c, 'queued')),
]);

/** IS_GAUGE[i]: entry i is a gauge (a level now, not a count); a finished life leaves it behind. */
export const IS_GAUGE: readonly boolean[] = Object.freeze(
  Array.from({ length: COUNTER_LENGTH }, (_, i) => GAUGE_INDEXES.includes(i)),
);

export type Counters = number[];

export function emptyCounters(): Counters {
  return new Array<number>(COUNTER_LENGTH).fill(0);
}

/** The histogram bucket (0-based, last is +Inf) a wait falls in. */
export function bucketOf(waitMs: number): number {
  const sec = Math.max(0, waitMs) / 1000;
  for (let i = 0; i < WAIT_BUCKETS_SEC.length; i++) if (sec <= (WAIT_BUCKETS_SEC[i] as number)) return i;
  return WAIT_BUCKETS_SEC.length;
}

/** into += sign · from (element-wise, over the length of `into`). */
export function addInto(into: Counters, from: readonly number[], sign = 1): void {
  for (let i = 0; i < into.length; i++) into[i] = (into[i] as number) + sign * ((from[i] ?? 0) as number);
}

/** The counters of `c` with its gauges zeroed: what a finished life leaves behind. */
export function countersOnly(c: readonly number[]): Counters {
  const out = c.slice();
  for (const i of GAUGE_INDEXES) out[i] = 0;
  return out;
}

/** Non-zero entries as [index, value, index, value, …]: reports are mostly zeros. */
export function encodeSparse(c: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < c.length; i++) if (c[i] !== 0) out.push(i, c[i] as number);
  return out;
}

/** Throws a TypeError on an index outside the layout (a report from an incompatible version). */
export function decodeSparse(pairs: readonly number[]): Counters {
  const out = emptyCounters();
  for (let k = 0; k + 1 < pairs.length; k += 2) {
    const i = pairs[k] as number;
    if (!(Number.isInteger(i) && i >= 0 && i < COUNTER_LENGTH)) {
      throw new TypeError(`counters: index ${i} is outside the layout (${COUNTER_LENGTH} entries)`);
    }
    out[i] = pairs[k + 1] as number;
  }
  return out;
}

/** The wait quantile q (0..1) by linear interpolation within a histogram bucket; null without samples. */
export function waitQuantileMs(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((s, n) => s + n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i] as number;
    if (n > 0 && below + n >= rank) {
      const lo = i === 0 ? 0 : (WAIT_BUCKETS_SEC[i - 1] as number);
      // The +Inf bucket has no upper bound: report its lower one (a floor, as Prometheus does).
      const hi = WAIT_BUCKETS_SEC[i] ?? lo;
      return (lo + (hi - lo) * ((rank - below) / n)) * 1000;
    }
    below += n;
  }
  return null;
}

/** Requests waiting, over every criticality level. */
export function queuedOf(c: readonly number[]): number {
  let queued = 0;
  for (const lvl of CRITICALITIES) queued += c[IX.level(lvl, 'queued')] as number;
  return queued;
}

/** The wait histogram of a workload (all criticalities summed), non-cumulative, +Inf last. */
export function waitBucketsOf(c: readonly number[]): number[] {
  return Array.from({ length: WAIT_BUCKETS_SEC.length + 1 }, (_, i) =>
    CRITICALITIES.reduce((s, lvl) => s + (c[IX.bucket(lvl, i)] as number), 0),
  );
}
