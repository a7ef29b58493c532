// Everything one workload owns: its registry entry and its queue, kept consistent with each other.
// This is the object a WorkloadDO hosts; the policy lab and the in-process scheduler host it too.
// Every method takes `now`; none performs I/O.

import {
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_MAX_QUEUE_PER_WORKLOAD,
  DEFAULT_QUEUE_TTL_MS,
  WORKLOAD_IDLE_EVICT_MS,
} from './defaults.ts';
import { ENDED, type Ended } from './outcome.ts';
import type { HeadView, Policy, WorkloadSignals } from './policy/types.ts';
import {
  WorkloadRegistryEntry,
  type RegistryOptions,
  type RegistrySnapshot,
  type WorkloadMetrics,
} from './registry-entry.ts';
import type { Criticality } from './workload-context.ts';
import { DEFAULT_POOL } from './pools.ts';
import { WorkloadQueue, type QueuedRequest, type WorkloadQueueOptions } from './workload-queue.ts';
import type { TokenUsage } from './usage.ts';
import { WorkloadTally, type TallyEntry, type TallySnapshot } from './metrics/workload-tally.ts';
import { levelAt } from './metrics/counter-layout.ts';
import { derivedOnce } from './derived-once.ts';

export interface WorkloadStateOptions {
  readonly policy: Pick<Policy, 'queueOrder' | 'agingHorizonMs'>;
  readonly maxQueue?: number;
  readonly queueTtlMs?: number;
  /** An in-flight request never completed within this time is presumed lost (matches the lease TTL). */
  readonly inFlightTtlMs?: number;
  readonly idleEvictMs?: number;
  readonly registry?: Partial<RegistryOptions>;
}

export interface AdmitInput {
  readonly requestId: string;
  /** The backend pool the request's model routes to; each pool has its own queue here. */
  readonly pool?: string;
  readonly criticality: Criticality;
  /** Prompt plus requested completion tokens, estimated by the host; 0 when unknown. */
  readonly tokenEstimate?: number;
  /** The workload's share weight under token fairness (see HeadView.weight). */
  readonly weight?: number;
}

export type AdmitResult =
  | { readonly kind: 'queued'; readonly position: number }
  /** Over capacity, but a grant already on its way may make room: judged by settleHeld. */
  | { readonly kind: 'held' }
  | { readonly kind: 'rejected'; readonly end: Ended };

export interface DispatchedRequest {
  readonly requestId: string;
  readonly waitMs: number;
  /** When it first entered the queue (kept across failover). */
  readonly enqueuedAt: number;
}

export interface SweepResult {
  /** Queued requests past their TTL, now completed as evicted/ttl_expired. */
  readonly evicted: readonly string[];
  /** In-flight requests never completed nor renewed, now completed as lost/lease_expired. */
  readonly lost: readonly string[];
}

/**
 * What the state files with each live request in its registry entry: its tally entry and, while it waits,
 * the queue and place it waits in. One record in one map per request: neither the tally nor the queues
 * keep a map by request ID of their own.
 */
interface Tracked extends TallyEntry {
  queuePool: string | null;
  queued: QueuedRequest | null;
}

/** `counted` false: a request the tally never saw (restored from before it existed); it counts nothing. */
function tracked(pool: string, criticality: number, counted = true, dispatched = false): Tracked {
  return {
    pool,
    criticality,
    level: levelAt(criticality),
    dispatched,
    ended: !counted,
    queuePool: null,
    queued: null,
  };
}

/** What a state derives from its options; the same for every state made with one options object. */
interface StateConfig {
  /** The bound on queued requests, across the workload's pools. */
  readonly capacity: number;
  /** Each pool's queue: unbounded itself (the state applies `capacity` across pools). */
  readonly queue: WorkloadQueueOptions;
  readonly inFlightTtlMs: number;
  readonly idleEvictMs: number;
}

/** Shared by every state made with one options object (per queue, too): see derived-once.ts. */
const configOf = derivedOnce((opts: WorkloadStateOptions): StateConfig => {
  const capacity = opts.maxQueue ?? DEFAULT_MAX_QUEUE_PER_WORKLOAD;
  const queue: WorkloadQueueOptions = {
    capacity: Number.MAX_SAFE_INTEGER,
    ttlMs: opts.queueTtlMs ?? DEFAULT_QUEUE_TTL_MS,
    order: opts.policy.queueOrder,
    agingHorizonMs: opts.policy.agingHorizonMs,
    indexById: false,
  };
  // Validates the options up front, as the single queue used to (the bound with it).
  new WorkloadQueue({ ...queue, capacity });
  return {
    capacity,
    queue,
    inFlightTtlMs: opts.inFlightTtlMs ?? DEFAULT_LEASE_TTL_MS,
    idleEvictMs: opts.idleEvictMs ?? WORKLOAD_IDLE_EVICT_MS,
  };
});

export class WorkloadState {
  readonly workloadId: string;
  readonly #registry: WorkloadRegistryEntry<Tracked>;
  /** One queue per pool this workload uses (one tenant, one registry entry, several queues). */
  // Most workloads use one pool: its queue is a field, and a map is made only for a second pool (a
  // process can hold tens of thousands of workloads, and an empty Map costs about 190 bytes). Queues are
  // never dropped.
  #firstPool: string | null = null;
  #firstQueue: WorkloadQueue | null = null;
  #moreQueues: Map<string, WorkloadQueue> | null = null;
  /** Queued requests across every pool (the queues are few: one per pool the workload uses). */
  #queued = 0;
  readonly #config: StateConfig;
  /** Requests admitted over capacity, in arrival order, until settleHeld judges them. */
  #held: Set<string> | null = null;
  /** The same events by pool and criticality, for /metrics (reported to each pool's coordinator). */
  readonly tally: WorkloadTally;

  constructor(
    workloadId: string,
    opts: WorkloadStateOptions,
    snapshot?: RegistrySnapshot,
    now = 0,
    tally?: TallySnapshot,
  ) {
    this.workloadId = workloadId;
    this.#registry = snapshot
      ? WorkloadRegistryEntry.fromSnapshot<Tracked>(snapshot, opts.registry)
      : new WorkloadRegistryEntry<Tracked>(opts.registry);
    this.tally = new WorkloadTally(workloadId, now, tally, this.#registry);
    const unclaimed = this.tally
      .claimRestored()
      .filter(([id, e]) => !this.#registry.attach(id, tracked(e.pool, e.criticality, true, e.dispatched)));
    this.#config = configOf(opts);
    if (snapshot) this.#dropOrphanedQueued(now);
    // Live in the restored tally but no longer in the registry: their ends were counted there.
    for (const [, entry] of unclaimed) this.tally.endedEntry(entry, ENDED.queueLost);
  }

  /**
   * Records *new*; enqueues, or completes at once as rejected/queue_full when the queue is full. With
   * `hold` (the host has an offer in flight, whose grants may take queued requests away) a request that
   * finds the queue full is queued anyway as held, and settleHeld decides once the grants are in: only
   * requests that are really waiting count against the capacity.
   */
  admit(input: AdmitInput, now: number, hold = false): AdmitResult {
    const pool = input.pool ?? DEFAULT_POOL;
    const entry = tracked(pool, input.criticality);
    // The registry first: a reused ID throws there, before anything is counted.
    this.#registry.onNew(input.requestId, now, input.tokenEstimate ?? 0, entry);
    this.tally.arrivedEntry(entry);
    // The bound is per workload, across its pools: one tenant's backlog, however it is split.
    if (this.queueSize < this.#config.capacity) {
      this.#push(pool, input, now, entry);
      return { kind: 'queued', position: this.queueSize };
    }
    if (hold) {
      this.#push(pool, input, now, entry);
      (this.#held ??= new Set()).add(input.requestId);
      return { kind: 'held' };
    }
    this.#registry.onCompleted(input.requestId, ENDED.queueFull, now);
    this.tally.endedEntry(entry, ENDED.queueFull);
    return { kind: 'rejected', end: ENDED.queueFull };
  }

  /**
   * Records *new* and, at once, its end: turned away before queueing (a per-minute limit). Counted in the
   * tally too, like a queue_full rejection, so /metrics shows it.
   */
  refuse(input: AdmitInput, end: Ended, now: number): void {
    const entry = tracked(input.pool ?? DEFAULT_POOL, input.criticality);
    this.#registry.onNew(input.requestId, now, input.tokenEstimate ?? 0, entry);
    this.tally.arrivedEntry(entry);
    this.#registry.onCompleted(input.requestId, end, now);
    this.tally.endedEntry(entry, end);
  }

  /**
   * Judges held requests: while the queue is over capacity, the newest held request still queued is
   * rejected (queue_full); the rest become ordinary queued requests. Returns the rejected IDs.
   */
  settleHeld(now: number): string[] {
    const rejected: string[] = [];
    const held = [...(this.#held ?? [])].filter((id) => this.isQueued(id));
    this.#held = null;
    while (this.queueSize > this.#config.capacity) {
      const id = held.pop();
      if (id === undefined) break;
      this.#remove(id);
      this.#end(id, ENDED.queueFull, now);
      rejected.push(id);
    }
    return rejected;
  }

  get heldCount(): number {
    return this.#held?.size ?? 0;
  }

  heldIds(): string[] {
    return [...(this.#held ?? [])];
  }

  /** The pools with something queued here. */
  pools(): string[] {
    return this.#allQueues()
      .filter(([, q]) => q.size > 0)
      .map(([pool]) => pool);
  }

  head(now: number, pool: string = DEFAULT_POOL): HeadView | null {
    const head = this.#queueOf(pool)?.peek(now);
    if (!head) return null;
    // Two literals, not a conditional spread: this runs on every offer and grant reply.
    return head.weight === undefined
      ? {
          requestId: head.requestId,
          criticality: head.criticality,
          enqueuedAt: head.enqueuedAt,
          tokenEstimate: head.tokenEstimate,
        }
      : {
          requestId: head.requestId,
          criticality: head.criticality,
          enqueuedAt: head.enqueuedAt,
          tokenEstimate: head.tokenEstimate,
          weight: head.weight,
        };
  }

  signals(now: number): WorkloadSignals {
    return this.#registry.signals(now);
  }

  /** Gives a granted slot to the current head and records *dispatched*; null when nothing is queued. */
  dispatchHead(now: number, pool: string = DEFAULT_POOL): DispatchedRequest | null {
    const head = this.#queueOf(pool)?.shift(now);
    if (!head) return null;
    this.#queued--;
    const waitMs = now - head.enqueuedAt;
    const entry = this.#registry.attachment(head.requestId);
    this.#registry.onDispatched(head.requestId, waitMs, now);
    if (entry) {
      entry.queuePool = null;
      entry.queued = null;
      this.tally.dispatchedEntry(entry, waitMs);
    }
    return { requestId: head.requestId, waitMs, enqueuedAt: head.enqueuedAt };
  }

  /**
   * Failover: a dispatch failed before the client saw a byte, so the request waits again for another
   * backend of its pool, in its old place (first arrival, criticality, TTL from first arrival). It is
   * not counted as new; the queue bound does not apply (it was admitted once). False if not in flight.
   */
  requeue(
    requestId: string,
    again: {
      pool: string;
      criticality: Criticality;
      tokenEstimate: number;
      weight?: number;
      enqueuedAt: number;
    },
    now: number,
  ): boolean {
    if (!this.#registry.onRequeued(requestId, now)) return false;
    let entry = this.#registry.attachment(requestId);
    if (entry) this.tally.requeuedEntry(entry);
    else this.#registry.attach(requestId, (entry = tracked(again.pool, again.criticality, false)));
    this.#push(
      again.pool,
      {
        requestId,
        criticality: again.criticality,
        tokenEstimate: again.tokenEstimate,
        ...(again.weight !== undefined ? { weight: again.weight } : {}),
        enqueuedAt: again.enqueuedAt,
      },
      now,
      entry,
    );
    return true;
  }

  /**
   * Every backend of the pool is out: its waiting requests end now as evicted/pool_down rather than wait
   * for their TTL. Returns their IDs.
   */
  evictPool(pool: string, now: number): string[] {
    const queue = this.#queueOf(pool);
    if (!queue) return [];
    const ids = [...queue.values()].map((r) => r.requestId);
    for (const id of ids) {
      this.#remove(id);
      this.#end(id, ENDED.poolDown, now);
    }
    return ids;
  }

  /** Removes a queued request (client gone) and records cancelled/client_closed. False if not queued. */
  cancel(requestId: string, now: number): boolean {
    if (!this.#remove(requestId)) return false;
    this.#end(requestId, ENDED.clientClosed, now);
    return true;
  }

  /**
   * Records *completed* exactly once. A queued request is also taken out of the queue, so completing
   * it by any path cannot leave a ghost behind. Returns false for a request already completed.
   */
  complete(requestId: string, end: Ended, now: number, usage?: TokenUsage | null): boolean {
    if (this.#isQueued(requestId)) this.#remove(requestId);
    return this.#end(requestId, end, now, usage);
  }

  /** Records a live request's end in the registry and, if it counted, in the tally. */
  #end(requestId: string, end: Ended, now: number, usage?: TokenUsage | null): boolean {
    const entry = this.#registry.attachment(requestId);
    if (!this.#registry.onCompleted(requestId, end, now, usage)) return false;
    if (entry) this.tally.endedEntry(entry, end, usage);
    return true;
  }

  /** The request is still in flight and alive; false if it is not in flight here. */
  touch(requestId: string, now: number): boolean {
    return this.#registry.onProgress(requestId, now);
  }

  isQueued(requestId: string): boolean {
    return this.poolOfQueued(requestId) !== undefined;
  }

  /** The pool a queued request waits in. */
  poolOfQueued(requestId: string): string | undefined {
    if (!this.#isQueued(requestId)) return undefined;
    return this.#registry.attachment(requestId)?.queuePool ?? undefined;
  }

  isLive(requestId: string): boolean {
    return this.#registry.phase(requestId) !== undefined;
  }

  /** Evicts queued requests past their TTL and in-flight requests presumed lost. */
  sweep(now: number): SweepResult {
    const evicted: string[] = [];
    for (const [, queue] of this.#allQueues()) {
      for (const r of queue.expire(now)) {
        evicted.push(r.requestId);
        this.#queued--;
        this.#end(r.requestId, ENDED.ttlExpired, now);
      }
    }
    const lost: string[] = [];
    for (let r = this.#registry.oldestInFlight(); r && now - r.since >= this.#config.inFlightTtlMs;) {
      lost.push(r.id);
      this.#end(r.id, ENDED.leaseExpired, now);
      r = this.#registry.oldestInFlight();
    }
    return { evicted, lost };
  }

  /**
   * The next time this workload changes on its own (TTL, head change by aging, lost request, and, when
   * the host deletes idle workloads, idle eviction).
   */
  nextDeadline(now: number, includeIdleEviction = true): number | null {
    let next = Infinity;
    if (this.#moreQueues === null) {
      if (this.#firstQueue !== null) next = this.#firstQueue.nextDeadline(now) ?? Infinity;
    } else {
      for (const [, queue] of this.#allQueues()) next = Math.min(next, queue.nextDeadline(now) ?? Infinity);
    }
    const oldest = this.#registry.oldestInFlight();
    if (oldest) next = Math.min(next, oldest.since + this.#config.inFlightTtlMs);
    if (includeIdleEviction && this.#registry.activeRequests === 0) {
      const last = this.#registry.lastRequestAt ?? now;
      next = Math.min(next, last + this.#config.idleEvictMs);
    }
    return Number.isFinite(next) ? next : null;
  }

  /**
   * Seconds a client turned away (queue full, TTL) should wait before retrying: about when the queue has
   * moved, i.e. the recent average wait, between 1 and 60 s (1 s before any dispatch).
   */
  retryAfterSec(now: number): number {
    const avgMs = this.#registry.metrics(now).averageWaitMs ?? 1000;
    return Math.min(60, Math.max(1, Math.ceil(avgMs / 1000)));
  }

  isEvictable(now: number): boolean {
    return this.#registry.isEvictable(now, this.#config.idleEvictMs);
  }

  metrics(now: number): WorkloadMetrics {
    return this.#registry.metrics(now);
  }

  /** Queued requests across every pool. */
  get queueSize(): number {
    return this.#queued;
  }

  queueSizeOf(pool: string): number {
    return this.#queueOf(pool)?.size ?? 0;
  }

  snapshot(): RegistrySnapshot {
    return this.#registry.snapshot();
  }

  #push(
    pool: string,
    request: {
      readonly requestId: string;
      readonly criticality: number;
      readonly tokenEstimate?: number;
      readonly weight?: number;
      readonly enqueuedAt?: number;
    },
    now: number,
    entry: Tracked,
  ): void {
    let queue = this.#queueOf(pool);
    if (!queue) {
      queue = new WorkloadQueue(this.#config.queue);
      if (this.#firstQueue === null) {
        this.#firstPool = pool;
        this.#firstQueue = queue;
      } else {
        (this.#moreQueues ??= new Map()).set(pool, queue);
      }
    }
    const pushed = queue.push(request, now);
    if (pushed.ok) {
      entry.queuePool = pool;
      entry.queued = pushed.request;
    }
    this.#queued++;
  }

  #queueOf(pool: string): WorkloadQueue | undefined {
    if (pool === this.#firstPool) return this.#firstQueue ?? undefined;
    return this.#moreQueues?.get(pool);
  }

  /** Every pool's queue, in the order the pools were first used. */
  #allQueues(): Array<readonly [string, WorkloadQueue]> {
    if (this.#firstPool === null || this.#firstQueue === null) return [];
    const first = [this.#firstPool, this.#firstQueue] as const;
    return this.#moreQueues === null ? [first] : [first, ...this.#moreQueues];
  }

  /**
   * The registry has a request as queued exactly while it is in one of the queues (every change of
   * either goes through this class; a restore drops queued requests). One lookup in a small map, where
   * asking the queues is one per pool and heap.
   */
  #isQueued(requestId: string): boolean {
    return this.#registry.phase(requestId) === 'queued';
  }

  /** Takes a queued request out of its queue (every queued request is tracked: admit and requeue file it). */
  #remove(requestId: string): boolean {
    const entry = this.#registry.attachment(requestId);
    if (!entry || entry.queued === null || entry.queuePool === null) return false;
    const removed = this.#queueOf(entry.queuePool)?.removeRequest(entry.queued) ?? false;
    entry.queuePool = null;
    entry.queued = null;
    if (removed) this.#queued--;
    return removed;
  }

  /**
   * After a restart the queue is empty (waiters lived in the old instance's memory and their clients
   * got an error), so requests persisted as queued are completed as cancelled/queue_lost, not left active.
   */
  #dropOrphanedQueued(now: number): void {
    const orphans: string[] = [];
    for (const [id, live] of this.#registry.liveRequests()) {
      if (live.phase === 'queued' && !this.isQueued(id)) orphans.push(id);
    }
    for (const id of orphans) this.#end(id, ENDED.queueLost, now);
  }
}
