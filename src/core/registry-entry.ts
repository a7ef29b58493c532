// One workload's registry entry: counters, request rate, wait EMA, and the phase of every live request,
// so that each request passes new → dispatched → completed and is completed exactly once. Single
// writer by construction (one Durable Object per workload); never touches a clock.

import {
  DEFAULT_RATE_BUCKET_MS,
  DEFAULT_RATE_WINDOW_MS,
  WAIT_EMA_ALPHA,
  WORKLOAD_IDLE_EVICT_MS,
} from './defaults.ts';
import {
  emptyOutcomeCounts,
  emptyReasonCounts,
  LEGACY_OUTCOMES,
  OUTCOMES,
  outcomeOf,
  REASONS,
  type Ended,
  type Outcome,
  type OutcomeCounts,
  type Reason,
  type ReasonCounts,
} from './outcome.ts';
import { SlotHeap, type HeapSlot } from './indexed-heap.ts';
import { SlidingWindowRate, type RateWindowSnapshot } from './rate-window.ts';
import { chargeAtEnd } from './token-charge.ts';
import { isTokenCount, type TokenUsage } from './usage.ts';

export type RequestPhase = 'queued' | 'in_flight';

export interface LiveRequest {
  readonly phase: RequestPhase;
  /** When the request reached its current phase (ms). */
  readonly since: number;
  /** Its admission token estimate, what token fairness charges when nothing better is known. */
  readonly tokenEstimate?: number;
}

/** The numbers the admin API shows and the policies read. */
export interface WorkloadMetrics {
  readonly totalRequests: number;
  /**
   * Sum of the admitted requests' token estimates (prompt bytes / 4 + requested completion tokens):
   * the volume a workload asks for, which request counts hide (one long generation costs as much as
   * hundreds of short ones).
   */
  readonly estimatedTokens: number;
  /** Prompt tokens the backends reported (`usage.prompt_tokens`) for the requests that ended. */
  readonly promptTokens: number;
  /** Completion tokens the backends reported (`usage.completion_tokens`) for the requests that ended. */
  readonly completionTokens: number;
  /** Requests that ended after reaching a backend, with their usage read (counted in the two above). */
  readonly usageKnownCount: number;
  /** Requests that ended after reaching a backend without a usage report (cut off, or none sent). */
  readonly usageUnknownCount: number;
  /**
   * What token fairness charged the workload for its ended requests (chargeAtEnd in token-charge.ts):
   * the weighted usage where reported, 0 where the backend was never reached, the estimate otherwise.
   * Requests that never left the queue are not charged. Unweighted by the workload's share weight.
   */
  readonly chargedTokens: number;
  /** Queued plus in flight. */
  readonly activeRequests: number;
  readonly queuedRequests: number;
  readonly inFlightRequests: number;
  readonly dispatchedCount: number;
  /**
   * Dispatches that failed before the first byte reached the client and went back to the queue for
   * another backend of the pool (failover). The request itself is still counted once.
   */
  readonly retriedCount: number;
  /** Requests that ended, whatever the outcome: totalRequests = activeRequests + completedCount. */
  readonly completedCount: number;
  readonly outcomes: OutcomeCounts;
  /** The same ends by reason (each reason belongs to one outcome, see outcome.ts). */
  readonly reasons: ReasonCounts;
  readonly requestRate: number;
  readonly averageWaitMs: number | null;
  readonly lastRequestAt: number | null;
  readonly lastDispatchedAt: number | null;
}

export interface RegistrySnapshot {
  readonly totalRequests: number;
  readonly estimatedTokens?: number;
  /** The four usage counters are absent in snapshots written before usage was read. */
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  readonly usageKnownCount?: number;
  readonly usageUnknownCount?: number;
  readonly chargedTokens?: number;
  readonly dispatchedCount: number;
  readonly retriedCount?: number;
  readonly completedCount: number;
  readonly outcomes: OutcomeCounts;
  /** Absent in snapshots written before reasons were counted. */
  readonly reasons?: ReasonCounts;
  readonly averageWaitMs: number | null;
  readonly lastRequestAt: number | null;
  readonly lastDispatchedAt: number | null;
  readonly rate: RateWindowSnapshot;
  readonly live: ReadonlyArray<readonly [string, LiveRequest]>;
}

export interface RegistryOptions {
  readonly rateWindowMs: number;
  readonly rateBucketMs: number;
  readonly waitEmaAlpha: number;
}

const DEFAULT_REGISTRY_OPTIONS: RegistryOptions = {
  rateWindowMs: DEFAULT_RATE_WINDOW_MS,
  rateBucketMs: DEFAULT_RATE_BUCKET_MS,
  waitEmaAlpha: WAIT_EMA_ALPHA,
};

/**
 * A live request as the entry keeps it: changed in place as it moves on (one map write per request, at
 * admission), with its slot in the in-flight heap while it has one. Snapshots copy out the LiveRequest part.
 */
interface Live {
  readonly id: string;
  phase: RequestPhase;
  since: number;
  /** As LiveRequest has it (absent when the estimate was 0). */
  readonly tokenEstimate?: number;
  inFlight: HeapSlot<Live> | null;
  /** What the owner filed with the request (see WorkloadRegistryEntry's type parameter), or null. */
  attached: object | null;
}
// Module-level, not per entry: every heap shares it, so its call site stays monomorphic.
const bySince = (a: Live, b: Live): number => a.since - b.since;

function liveRequest(live: Live): LiveRequest {
  return live.tokenEstimate !== undefined
    ? { phase: live.phase, since: live.since, tokenEstimate: live.tokenEstimate }
    : { phase: live.phase, since: live.since };
}

function newLive(
  id: string,
  phase: RequestPhase,
  since: number,
  tokenEstimate: number | undefined,
  attached: object | null,
): Live {
  return tokenEstimate !== undefined
    ? { id, phase, since, tokenEstimate, inFlight: null, attached }
    : { id, phase, since, inFlight: null, attached };
}

/**
 * `A`: what the owner may file with each live request (WorkloadState files its tally entry), kept here so
 * one map holds everything per request; the registry never reads it, and it is not in the snapshot.
 */
export class WorkloadRegistryEntry<A extends object = object> {
  #totalRequests = 0;
  #estimatedTokens = 0;
  #promptTokens = 0;
  #completionTokens = 0;
  #usageKnownCount = 0;
  #usageUnknownCount = 0;
  #chargedTokens = 0;
  #dispatchedCount = 0;
  #retriedCount = 0;
  #completedCount = 0;
  #reasons: ReasonCounts = emptyReasonCounts();
  /**
   * Ends a restored snapshot counted by outcome alone (written before reasons were kept), or null. The
   * outcome counts are otherwise the reasons' sums: kept once, not twice per workload.
   */
  #outcomesBeyondReasons: OutcomeCounts | null = null;
  #averageWaitMs: number | null = null;
  #lastRequestAt: number | null = null;
  #lastDispatchedAt: number | null = null;
  #queued = 0;
  readonly #live = new Map<string, Live>();
  /** In-flight requests by `since`, so the oldest one (the next lost-request deadline) is O(1). */
  readonly #inFlight = new SlotHeap<Live>(bySince);
  readonly #rate: SlidingWindowRate;
  readonly #alpha: number;

  constructor(opts: Partial<RegistryOptions> = {}) {
    const o = { ...DEFAULT_REGISTRY_OPTIONS, ...opts };
    if (!(o.waitEmaAlpha > 0 && o.waitEmaAlpha <= 1)) {
      throw new TypeError(`registry: waitEmaAlpha must be in (0, 1], got ${o.waitEmaAlpha}`);
    }
    this.#rate = new SlidingWindowRate(o.rateWindowMs, o.rateBucketMs);
    this.#alpha = o.waitEmaAlpha;
  }

  /** Tracking point 1. A request ID must be new; reuse is a programming error. */
  onNew(requestId: string, now: number, tokenEstimate = 0, attached: A | null = null): void {
    if (this.#live.has(requestId)) throw new Error(`registry: request ${requestId} is already live`);
    if (!(tokenEstimate >= 0 && Number.isFinite(tokenEstimate))) {
      throw new TypeError(`registry: tokenEstimate must be a finite number ≥ 0, got ${tokenEstimate}`);
    }
    this.#estimatedTokens += tokenEstimate;
    this.#live.set(
      requestId,
      newLive(requestId, 'queued', now, tokenEstimate > 0 ? tokenEstimate : undefined, attached),
    );
    this.#totalRequests++;
    this.#queued++;
    this.#lastRequestAt = now;
    this.#rate.record(now);
  }

  /** Tracking point 2. Returns false if the request is not queued here (already dispatched or ended). */
  onDispatched(requestId: string, waitMs: number, now: number): boolean {
    const live = this.#live.get(requestId);
    if (!live || live.phase !== 'queued') return false;
    live.phase = 'in_flight';
    live.since = now;
    live.inFlight = this.#inFlight.push(live);
    this.#queued--;
    this.#dispatchedCount++;
    this.#lastDispatchedAt = now;
    const sample = Math.max(0, waitMs);
    this.#averageWaitMs =
      this.#averageWaitMs === null ? sample : this.#alpha * sample + (1 - this.#alpha) * this.#averageWaitMs;
    return true;
  }

  /**
   * A dispatch failed before the client saw a byte: the request waits again (failover). It stays one
   * request (no new *new*); its next dispatch is counted as a dispatch again. False if not in flight.
   */
  onRequeued(requestId: string, now: number): boolean {
    const live = this.#live.get(requestId);
    if (!live || live.phase !== 'in_flight') return false;
    live.phase = 'queued';
    live.since = now;
    this.#leaveInFlight(live);
    this.#queued++;
    this.#retriedCount++;
    return true;
  }

  /** An in-flight request is still alive (its response is still streaming): restart its lost-request clock. */
  onProgress(requestId: string, now: number): boolean {
    const live = this.#live.get(requestId);
    if (!live || live.phase !== 'in_flight') return false;
    // Out and in again, not a sift in place: `since` alone is a partial order, and the same steps as
    // always keep which of two equally old requests is swept first.
    this.#leaveInFlight(live);
    live.since = Math.max(live.since, now);
    live.inFlight = this.#inFlight.push(live);
    return true;
  }

  /**
   * Tracking point 3, exactly once per request whatever the outcome. A second call for the same request
   * (a retry, a race between abort and stream end) returns false and changes nothing. `usage` is what
   * the backend reported; only a request that was in flight (reached a backend) counts as with or
   * without usage.
   */
  onCompleted(requestId: string, end: Ended, _now: number, usage?: TokenUsage | null): boolean {
    if (usage != null && !(isTokenCount(usage.promptTokens) && isTokenCount(usage.completionTokens))) {
      throw new TypeError(`registry: usage must hold token counts ≥ 0, got ${JSON.stringify(usage)}`);
    }
    const live = this.#live.get(requestId);
    if (!live) return false;
    if (usage != null) {
      this.#promptTokens += usage.promptTokens;
      this.#completionTokens += usage.completionTokens;
      this.#usageKnownCount++;
    } else if (live.phase === 'in_flight') {
      this.#usageUnknownCount++;
    }
    if (live.phase === 'in_flight') this.#chargedTokens += chargeAtEnd(end, usage) ?? live.tokenEstimate ?? 0;
    this.#live.delete(requestId);
    if (live.phase === 'queued') this.#queued--;
    else this.#leaveInFlight(live);
    this.#completedCount++;
    this.#reasons[end.reason]++;
    return true;
  }

  phaseOf(requestId: string): LiveRequest | undefined {
    const live = this.#live.get(requestId);
    return live && liveRequest(live);
  }

  /** What was filed with a live request (null: nothing); undefined when it is not live. */
  attachment(requestId: string): A | null | undefined {
    return this.#live.get(requestId)?.attached as A | null | undefined;
  }

  /** Files `attached` with a live request (false if it is not live). */
  attach(requestId: string, attached: A): boolean {
    const live = this.#live.get(requestId);
    if (live === undefined) return false;
    live.attached = attached;
    return true;
  }

  /** Every live request with what was filed with it, in admission order (restored ones first). */
  *attachments(): IterableIterator<[string, A]> {
    for (const [id, live] of this.#live) if (live.attached !== null) yield [id, live.attached as A];
  }

  /** phaseOf(requestId)?.phase, without the copy. */
  phase(requestId: string): RequestPhase | undefined {
    return this.#live.get(requestId)?.phase;
  }

  *liveRequests(): IterableIterator<[string, LiveRequest]> {
    for (const [id, live] of this.#live) yield [id, liveRequest(live)];
  }

  #outcomes(): OutcomeCounts {
    const outcomes = outcomesOf(this.#reasons);
    const beyond = this.#outcomesBeyondReasons;
    if (beyond !== null) for (const o of OUTCOMES) outcomes[o] += beyond[o];
    return outcomes;
  }

  #leaveInFlight(live: Live): void {
    if (live.inFlight !== null) this.#inFlight.remove(live.inFlight);
    live.inFlight = null;
  }

  get activeRequests(): number {
    return this.#live.size;
  }

  /** The in-flight request silent the longest, and since when; undefined when none is in flight. */
  oldestInFlight(): { readonly id: string; readonly since: number } | undefined {
    return this.#inFlight.peek();
  }

  get lastRequestAt(): number | null {
    return this.#lastRequestAt;
  }

  /** What a policy reads, without building the whole metrics object (it is on every offer). */
  signals(now: number): {
    requestRatePerSec: number;
    averageWaitMs: number | null;
    lastDispatchedAt: number | null;
  } {
    return {
      requestRatePerSec: this.#rate.ratePerSec(now),
      averageWaitMs: this.#averageWaitMs,
      lastDispatchedAt: this.#lastDispatchedAt,
    };
  }

  /** Evictable: nothing queued or in flight, and no request for `idleMs`. */
  isEvictable(now: number, idleMs: number = WORKLOAD_IDLE_EVICT_MS): boolean {
    return this.#live.size === 0 && (this.#lastRequestAt === null || now - this.#lastRequestAt >= idleMs);
  }

  metrics(now: number): WorkloadMetrics {
    return {
      totalRequests: this.#totalRequests,
      estimatedTokens: this.#estimatedTokens,
      promptTokens: this.#promptTokens,
      completionTokens: this.#completionTokens,
      usageKnownCount: this.#usageKnownCount,
      usageUnknownCount: this.#usageUnknownCount,
      chargedTokens: this.#chargedTokens,
      activeRequests: this.#live.size,
      queuedRequests: this.#queued,
      inFlightRequests: this.#live.size - this.#queued,
      dispatchedCount: this.#dispatchedCount,
      retriedCount: this.#retriedCount,
      completedCount: this.#completedCount,
      outcomes: this.#outcomes(),
      reasons: { ...this.#reasons },
      requestRate: this.#rate.ratePerSec(now),
      averageWaitMs: this.#averageWaitMs,
      lastRequestAt: this.#lastRequestAt,
      lastDispatchedAt: this.#lastDispatchedAt,
    };
  }

  snapshot(): RegistrySnapshot {
    return {
      totalRequests: this.#totalRequests,
      estimatedTokens: this.#estimatedTokens,
      promptTokens: this.#promptTokens,
      completionTokens: this.#completionTokens,
      usageKnownCount: this.#usageKnownCount,
      usageUnknownCount: this.#usageUnknownCount,
      chargedTokens: this.#chargedTokens,
      dispatchedCount: this.#dispatchedCount,
      retriedCount: this.#retriedCount,
      completedCount: this.#completedCount,
      outcomes: this.#outcomes(),
      reasons: { ...this.#reasons },
      averageWaitMs: this.#averageWaitMs,
      lastRequestAt: this.#lastRequestAt,
      lastDispatchedAt: this.#lastDispatchedAt,
      rate: this.#rate.snapshot(),
      live: [...this.#live].map(([id, live]) => [id, liveRequest(live)] as const),
    };
  }

  static fromSnapshot<A extends object = object>(
    snap: RegistrySnapshot,
    opts: Partial<RegistryOptions> = {},
  ): WorkloadRegistryEntry<A> {
    const entry = new WorkloadRegistryEntry<A>({
      ...opts,
      rateWindowMs: snap.rate.windowMs,
      rateBucketMs: snap.rate.bucketMs,
    });
    entry.#totalRequests = snap.totalRequests;
    entry.#estimatedTokens = snap.estimatedTokens ?? 0;
    entry.#promptTokens = snap.promptTokens ?? 0;
    entry.#completionTokens = snap.completionTokens ?? 0;
    entry.#usageKnownCount = snap.usageKnownCount ?? 0;
    entry.#usageUnknownCount = snap.usageUnknownCount ?? 0;
    entry.#chargedTokens = snap.chargedTokens ?? 0;
    entry.#dispatchedCount = snap.dispatchedCount;
    entry.#retriedCount = snap.retriedCount ?? 0;
    entry.#completedCount = snap.completedCount;
    const [outcomes, reasons] = restoreCounts(snap);
    entry.#reasons = reasons;
    const beyond = outcomesOf(reasons);
    let any = false;
    for (const o of OUTCOMES) any = (beyond[o] = outcomes[o] - beyond[o]) !== 0 || any;
    entry.#outcomesBeyondReasons = any ? beyond : null;
    entry.#averageWaitMs = snap.averageWaitMs;
    entry.#lastRequestAt = snap.lastRequestAt;
    entry.#lastDispatchedAt = snap.lastDispatchedAt;
    for (const [no, count] of snap.rate.buckets) entry.#rate.record(no * snap.rate.bucketMs, count);
    for (const [id, saved] of snap.live) {
      const live = newLive(id, saved.phase, saved.since, saved.tokenEstimate, null);
      entry.#live.set(id, live);
      if (live.phase === 'queued') entry.#queued++;
      else live.inFlight = entry.#inFlight.push(live);
    }
    return entry;
  }
}

const OUTCOME_OF: Readonly<Record<Reason, Outcome>> = Object.fromEntries(
  REASONS.map((r) => [r, outcomeOf(r)]),
) as Record<Reason, Outcome>;

/** Ends by outcome, from ends by reason (each reason belongs to one outcome). */
function outcomesOf(reasons: ReasonCounts): OutcomeCounts {
  const outcomes = emptyOutcomeCounts();
  for (const r of REASONS) outcomes[OUTCOME_OF[r]] += reasons[r];
  return outcomes;
}

/** Counts from a snapshot, translating outcome names written before the two-level taxonomy. */
function restoreCounts(snap: RegistrySnapshot): [OutcomeCounts, ReasonCounts] {
  const outcomes = emptyOutcomeCounts();
  const reasons = emptyReasonCounts();
  for (const [name, count] of Object.entries(snap.outcomes as Record<string, number>)) {
    const legacy = LEGACY_OUTCOMES[name];
    if (legacy) {
      outcomes[legacy.outcome] += count;
      if (!snap.reasons) reasons[legacy.reason] += count;
    } else if ((OUTCOMES as readonly string[]).includes(name)) {
      outcomes[name as keyof OutcomeCounts] += count;
    }
  }
  for (const [name, count] of Object.entries(snap.reasons ?? {})) {
    if ((REASONS as readonly string[]).includes(name)) reasons[name as keyof ReasonCounts] += count;
  }
  return [outcomes, reasons];
}
