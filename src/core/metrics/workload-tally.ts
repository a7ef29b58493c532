// The workload side of /metrics: per pool, cumulative counts of what happened to this workload's
// requests (arrivals, dispatches with their wait, ends by reason, tokens) and its queue/in-flight gauges.
// The host reports them to each pool's coordinator on messages it sends anyway (offers, releases,
// renewals, grant replies), so a scrape never calls a workload. Cumulative, not deltas: a report lost,
// repeated or overtaken changes nothing once a later one arrives. No clock, no I/O.

import type { Ended } from '../outcome.ts';
import type { TokenUsage } from '../usage.ts';
import {
  bucketOf,
  bump,
  decodeSparse,
  emptyCounters,
  encodeSparse,
  IX,
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

interface LiveEntry {
  readonly pool: string;
  readonly criticality: number;
  dispatched: boolean;
}

export class WorkloadTally {
  readonly #workloadId: string;
  readonly #bornAt: number;
  readonly #epoch: number;
  #n = 0;
  readonly #pools = new Map<string, Counters>();
  readonly #live = new Map<string, LiveEntry>();
  /** Pools whose counts changed since their last report left. */
  readonly #dirty = new Set<string>();

  constructor(workloadId: string, now: number, saved?: TallySnapshot) {
    this.#workloadId = workloadId;
    this.#epoch = now;
    this.#bornAt = saved?.bornAt ?? now;
    for (const [pool, sparse] of saved?.pools ?? []) {
      this.#pools.set(pool, decodeSparse(sparse));
      this.#dirty.add(pool);
    }
    for (const [id, pool, criticality, dispatched] of saved?.live ?? []) {
      this.#live.set(id, { pool, criticality, dispatched });
    }
  }

  /** A request arrived (queued, or about to be rejected: `ended` follows then). */
  arrived(requestId: string, pool: string, criticality: number): void {
    if (this.#live.has(requestId)) return;
    const c = this.#countersOf(pool);
    this.#live.set(requestId, { pool, criticality, dispatched: false });
    bump(c, IX.requests);
    bump(c, IX.level(criticality, 'enqueued'));
    bump(c, IX.level(criticality, 'queued'));
  }

  dispatched(requestId: string, waitMs: number): void {
    const live = this.#live.get(requestId);
    if (!live || live.dispatched) return;
    const c = this.#countersOf(live.pool);
    live.dispatched = true;
    bump(c, IX.level(live.criticality, 'queued'), -1);
    bump(c, IX.level(live.criticality, 'dispatched'));
    bump(c, IX.level(live.criticality, 'waitSumMs'), Math.max(0, waitMs));
    bump(c, IX.bucket(live.criticality, bucketOf(waitMs)));
    bump(c, IX.inFlight);
  }

  /** Failover: waiting again (not a new arrival; its next dispatch counts again, as in the registry). */
  requeued(requestId: string): void {
    const live = this.#live.get(requestId);
    if (!live?.dispatched) return;
    const c = this.#countersOf(live.pool);
    live.dispatched = false;
    bump(c, IX.inFlight, -1);
    bump(c, IX.level(live.criticality, 'queued'));
  }

  /** Exactly once per request, like the registry's completion (a repeat changes nothing). */
  ended(requestId: string, end: Ended, usage?: TokenUsage | null): void {
    const live = this.#live.get(requestId);
    if (!live) return;
    this.#live.delete(requestId);
    const c = this.#countersOf(live.pool);
    if (live.dispatched) bump(c, IX.inFlight, -1);
    else bump(c, IX.level(live.criticality, 'queued'), -1);
    bump(c, IX.ended(end.reason));
    // Turned away at the door: it never waited, so it is no demand (the lab's definition).
    if (end.reason === 'queue_full') bump(c, IX.level(live.criticality, 'enqueued'), -1);
    if (usage) {
      bump(c, IX.promptTokens, usage.promptTokens);
      bump(c, IX.completionTokens, usage.completionTokens);
    }
  }

  /** Live requests this tally knows that the state no longer does (after a restart): ended as given. */
  reconcile(isLive: (requestId: string) => boolean, end: Ended): void {
    for (const id of [...this.#live.keys()]) if (!isLive(id)) this.ended(id, end);
  }

  /** The report for `pool` if its counts changed since the last one left; marks it sent. */
  takeReport(pool: string): MetricsReport | undefined {
    return this.#dirty.delete(pool) ? this.#report(pool) : undefined;
  }

  /**
   * The pool's report without marking it sent, for messages whose loss the workload never hears of
   * (grant replies, renewals): the next offer or release carries it again, and acknowledges it.
   */
  peekReport(pool: string): MetricsReport | undefined {
    return this.#dirty.has(pool) ? this.#report(pool) : undefined;
  }

  /** The message carrying the pool's report failed: the next message carries it again. */
  reportLost(pool: string): void {
    if (this.#pools.has(pool)) this.#dirty.add(pool);
  }

  hasUnreported(): boolean {
    return this.#dirty.size > 0;
  }

  unreportedPools(): string[] {
    return [...this.#dirty];
  }

  countersOf(pool: string): readonly number[] | undefined {
    return this.#pools.get(pool);
  }

  snapshot(): TallySnapshot {
    return {
      bornAt: this.#bornAt,
      pools: [...this.#pools].map(([pool, c]) => [pool, encodeSparse(c)] as const),
      live: [...this.#live].map(([id, l]) => [id, l.pool, l.criticality, l.dispatched] as const),
    };
  }

  #report(pool: string): MetricsReport | undefined {
    const c = this.#pools.get(pool);
    if (!c) return undefined;
    return {
      workloadId: this.#workloadId,
      bornAt: this.#bornAt,
      epoch: this.#epoch,
      n: ++this.#n,
      counters: encodeSparse(c),
    };
  }

  #countersOf(pool: string): Counters {
    let c = this.#pools.get(pool);
    if (!c) this.#pools.set(pool, (c = emptyCounters()));
    this.#dirty.add(pool);
    return c;
  }
}
