// The workload side of /metrics: per pool, cumulative counts of what happened to this workload's
// requests (arrivals, dispatches with their wait, ends by reason, tokens) and its queue/in-flight gauges.
// The host reports them to each pool's coordinator on messages it sends anyway (offers, releases,
// renewals, grant replies), so a scrape never calls a workload. Cumulative, not deltas: a report lost,
// repeated or overtaken changes nothing once a later one arrives. No clock, no I/O.

import type { Ended } from '../outcome.ts';
import type { TokenUsage } from '../usage.ts';
import {
  bucketOf,
  decodeSparse,
  emptyCounters,
  encodeSparse,
  IX,
  LEVEL,
  levelAt,
  type Counters,
} from './counter-layout.ts';

/** One workload's numbers in one pool, as the coordinator of that pool receives them. */
export interface MetricsReport {
  readonly workloadId: string;
  /** When this workload's state was created: a later `bornAt` is a new life whose counts start at 0. */
  readonly bornAt: number;
  /** When the reporting host started, and its report number: orders reports within one life. */
  readonly epoch: number;
  readonly n: number;
  /** Sparse [index, value, …] over counter-layout.ts. */
  readonly counters: readonly number[];
}

export interface TallySnapshot {
  readonly bornAt: number;
  readonly pools: ReadonlyArray<readonly [string, readonly number[]]>;
  /** [requestId, pool, criticality, dispatched] of each live request. */
  readonly live: ReadonlyArray<readonly [string, string, number, boolean]>;
}

/** One pool's counters, and whether they changed since its last report left. */
interface PoolCounts {
  readonly pool: string;
  readonly c: Counters;
  dirty: boolean;
}

/**
 * What the tally keeps per live request. The ID methods (arrived, dispatched, …) keep these in the
 * tally's own map; an owner that already keeps a record per request (WorkloadState, in its registry entry)
 * files them there and calls the *Entry methods, and the request costs no second map.
 */
export interface TallyEntry {
  readonly pool: string;
  readonly criticality: number;
  /** Where the request's criticality level starts in the counters (levelAt). */
  readonly level: number;
  dispatched: boolean;
  ended: boolean;
}

/**
 * An owner that files the entries itself (an object, not a closure: a closure per tally is a context
 * and a function kept for each of thousands of workloads).
 */
export interface EntryOwner {
  /** Its live requests, as [requestId, entry]. */
  attachments(): Iterable<readonly [string, TallyEntry]>;
}

const NOTHING_RESTORED: Array<readonly [string, TallyEntry]> = [];

function tallyEntry(pool: string, criticality: number, dispatched: boolean): TallyEntry {
  return { pool, criticality, level: levelAt(criticality), dispatched, ended: false };
}

// Counts are written in place (c[i] = c[i] + n), not through a helper: on the hot path a call that V8
// declines to inline costs more than the count.
export class WorkloadTally {
  readonly #workloadId: string;
  readonly #bornAt: number;
  readonly #epoch: number;
  #n = 0;
  // Most workloads use one pool: its counts are a field, and a map is made only for a second pool.
  // Memory per workload matters here (a process can hold tens of thousands): an empty Map or Set
  // costs about 190 bytes.
  #first: PoolCounts | null = null;
  /** Pools after the first, in the order they were first counted. */
  #others: Map<string, PoolCounts> | null = null;
  /** How many pools have counts no report has carried yet (PoolCounts.dirty). */
  #dirtyPools = 0;
  /** Without an owner: each live request's entry (made at the first one). */
  #live: Map<string, TallyEntry> | null = null;
  readonly #owner: EntryOwner | null;
  /** With an owner: the live entries of a restored snapshot, until the owner claims them. */
  #restored = NOTHING_RESTORED;
  /** The pool of the last count and its counters. */
  #last: PoolCounts | null = null;

  /** `owner`: files the entries itself (see TallyEntry); restored ones wait in claimRestored(). */
  constructor(workloadId: string, now: number, saved?: TallySnapshot, owner?: EntryOwner) {
    this.#owner = owner ?? null;
    this.#workloadId = workloadId;
    this.#epoch = now;
    this.#bornAt = saved?.bornAt ?? now;
    for (const [pool, sparse] of saved?.pools ?? []) this.#add(pool, decodeSparse(sparse), true);
    for (const [id, pool, criticality, dispatched] of saved?.live ?? []) {
      const entry = tallyEntry(pool, criticality, dispatched);
      if (this.#owner !== null)
        (this.#restored === NOTHING_RESTORED ? (this.#restored = []) : this.#restored).push([id, entry]);
      else this.#liveMap().set(id, entry);
    }
  }

  /** With an owner: the restored snapshot's live entries, once (the owner files or ends them). */
  claimRestored(): Array<readonly [string, TallyEntry]> {
    const restored = this.#restored;
    this.#restored = NOTHING_RESTORED;
    return restored === NOTHING_RESTORED ? [] : restored;
  }

  /** A request arrived (queued, or about to be rejected: `ended` follows then). */
  arrived(requestId: string, pool: string, criticality: number): void {
    const live = this.#liveMap();
    if (live.has(requestId)) return;
    const entry = tallyEntry(pool, criticality, false);
    live.set(requestId, entry);
    this.arrivedEntry(entry);
  }

  arrivedEntry(entry: TallyEntry): void {
    const c = this.#countersOf(entry.pool);
    const level = entry.level;
    c[IX.requests] = (c[IX.requests] as number) + 1;
    c[level + LEVEL.enqueued] = (c[level + LEVEL.enqueued] as number) + 1;
    c[level + LEVEL.queued] = (c[level + LEVEL.queued] as number) + 1;
  }

  dispatched(requestId: string, waitMs: number): void {
    const live = this.#live?.get(requestId);
    if (live) this.dispatchedEntry(live, waitMs);
  }

  dispatchedEntry(live: TallyEntry, waitMs: number): void {
    if (live.dispatched || live.ended) return;
    const c = this.#countersOf(live.pool);
    const level = live.level;
    live.dispatched = true;
    c[level + LEVEL.queued] = (c[level + LEVEL.queued] as number) - 1;
    c[level + LEVEL.dispatched] = (c[level + LEVEL.dispatched] as number) + 1;
    c[level + LEVEL.waitSumMs] = (c[level + LEVEL.waitSumMs] as number) + Math.max(0, waitMs);
    const bucket = level + LEVEL.buckets + bucketOf(waitMs);
    c[bucket] = (c[bucket] as number) + 1;
    c[IX.inFlight] = (c[IX.inFlight] as number) + 1;
  }

  /** Failover: waiting again (not a new arrival; its next dispatch counts again, as in the registry). */
  requeuedEntry(live: TallyEntry): void {
    if (!live.dispatched || live.ended) return;
    const c = this.#countersOf(live.pool);
    live.dispatched = false;
    c[IX.inFlight] = (c[IX.inFlight] as number) - 1;
    c[live.level + LEVEL.queued] = (c[live.level + LEVEL.queued] as number) + 1;
  }

  /** Exactly once per request, like the registry's completion (a repeat changes nothing). */
  ended(requestId: string, end: Ended, usage?: TokenUsage | null): void {
    const live = this.#live?.get(requestId);
    if (!live) return;
    this.#live?.delete(requestId);
    this.endedEntry(live, end, usage);
  }

  /** Exactly once per entry (a repeat changes nothing). */
  endedEntry(live: TallyEntry, end: Ended, usage?: TokenUsage | null): void {
    if (live.ended) return;
    live.ended = true;
    const c = this.#countersOf(live.pool);
    const was = live.dispatched ? IX.inFlight : live.level + LEVEL.queued;
    c[was] = (c[was] as number) - 1;
    const reason = IX.ended(end.reason);
    c[reason] = (c[reason] as number) + 1;
    // Turned away at the door (queue full, over a per-minute limit): it never waited, so it is no demand
    // (the lab's definition).
    if (end.outcome === 'rejected')
      c[live.level + LEVEL.enqueued] = (c[live.level + LEVEL.enqueued] as number) - 1;
    if (usage) {
      c[IX.promptTokens] = (c[IX.promptTokens] as number) + usage.promptTokens;
      c[IX.completionTokens] = (c[IX.completionTokens] as number) + usage.completionTokens;
    }
  }

  /** The report for `pool` if its counts changed since the last one left; marks it sent. */
  takeReport(pool: string): MetricsReport | undefined {
    const counts = this.#find(pool);
    if (counts === undefined || !counts.dirty) return undefined;
    counts.dirty = false;
    this.#dirtyPools--;
    return this.#report(counts.c);
  }

  /**
   * The pool's report without marking it sent, for messages whose loss the workload never hears of
   * (grant replies, renewals): the next offer or release carries it again, and acknowledges it.
   */
  peekReport(pool: string): MetricsReport | undefined {
    const counts = this.#find(pool);
    return counts?.dirty ? this.#report(counts.c) : undefined;
  }

  /** The message carrying the pool's report failed: the next message carries it again. */
  reportLost(pool: string): void {
    const counts = this.#find(pool);
    if (counts !== undefined && !counts.dirty) this.#markDirty(counts);
  }

  hasUnreported(): boolean {
    return this.#dirtyPools > 0;
  }

  /** Pools whose counts no report has carried yet, in the order they were first counted. */
  unreportedPools(): string[] {
    return this.#all()
      .filter((counts) => counts.dirty)
      .map((counts) => counts.pool);
  }

  countersOf(pool: string): readonly number[] | undefined {
    return this.#find(pool)?.c;
  }

  snapshot(): TallySnapshot {
    return {
      bornAt: this.#bornAt,
      pools: this.#all().map(({ pool, c }) => [pool, encodeSparse(c)] as const),
      // An ended entry is one the tally never counted (restored from before it existed): it counts
      // nothing, now or after a restart.
      live: [...(this.#live ?? []), ...(this.#owner?.attachments() ?? [])]
        .filter(([, l]) => !l.ended)
        .map(([id, l]) => [id, l.pool, l.criticality, l.dispatched] as const),
    };
  }

  #report(c: Counters): MetricsReport {
    return {
      workloadId: this.#workloadId,
      bornAt: this.#bornAt,
      epoch: this.#epoch,
      n: ++this.#n,
      counters: encodeSparse(c),
    };
  }

  /** The pool's counters, marked changed: every caller counts something in them. */
  #countersOf(pool: string): Counters {
    let counts = this.#last !== null && this.#last.pool === pool ? this.#last : this.#find(pool);
    if (counts === undefined) counts = this.#add(pool, emptyCounters(), false);
    this.#last = counts;
    if (!counts.dirty) this.#markDirty(counts);
    return counts.c;
  }

  #markDirty(counts: PoolCounts): void {
    counts.dirty = true;
    this.#dirtyPools++;
  }

  #find(pool: string): PoolCounts | undefined {
    if (this.#first !== null && this.#first.pool === pool) return this.#first;
    return this.#others?.get(pool);
  }

  #add(pool: string, c: Counters, dirty: boolean): PoolCounts {
    const counts: PoolCounts = { pool, c, dirty: false };
    if (this.#first === null) this.#first = counts;
    else (this.#others ??= new Map()).set(pool, counts);
    if (dirty) this.#markDirty(counts);
    return counts;
  }

  /** Every pool's counts, in the order the pools were first counted. */
  #all(): PoolCounts[] {
    if (this.#first === null) return [];
    return this.#others === null ? [this.#first] : [this.#first, ...this.#others.values()];
  }

  #liveMap(): Map<string, TallyEntry> {
    return (this.#live ??= new Map());
  }
}
