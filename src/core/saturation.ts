// When a backend's inference engine counts as saturated, so Sluice keeps requests in its own queues
// (where priority applies) instead of the engine's FIFO. Owns the thresholds, the per-backend estimate
// between scrapes and the live-load order; it fetches nothing and reads no clock (times are parameters).

import type { EngineLoad } from './engine-load.ts';

/**
 * A backend whose engine holds this many waiting requests is saturated: beyond it a request waits in the
 * engine's FIFO, where no priority applies, rather than in Sluice's queues. Queue depth 5, as llm-d's
 * saturation detector and the reference design use.
 */
export const DEFAULT_SATURATION_MAX_WAITING = 5;
/**
 * KV-cache fraction (0..1) at which a backend is saturated: near full, the engine preempts running
 * requests to admit new ones and everyone slows down. 0.8, as llm-d and the reference design use.
 */
export const DEFAULT_SATURATION_MAX_KV_CACHE = 0.8;
/** How often a coordinator scrapes each backend's /metrics: the engines refresh their gauges faster. */
export const DEFAULT_METRICS_INTERVAL_MS = 1_000;
/**
 * Metrics older than this are not trusted: three intervals, so two lost or failed scrapes in a row do not
 * yet drop a backend back to slot counting.
 */
export const DEFAULT_METRICS_STALE_MS = 3 * DEFAULT_METRICS_INTERVAL_MS;

export interface SaturationPolicy {
  /** Saturated when the estimated waiting count reaches this (an integer ≥ 1). */
  readonly maxWaiting: number;
  /** Saturated when the reported KV-cache fraction reaches this (in (0, 1]). */
  readonly maxKvCacheUsage: number;
  /** A scrape that started longer ago than this is stale (ms, > 0). */
  readonly staleAfterMs: number;
}

export const DEFAULT_SATURATION_POLICY: SaturationPolicy = Object.freeze({
  maxWaiting: DEFAULT_SATURATION_MAX_WAITING,
  maxKvCacheUsage: DEFAULT_SATURATION_MAX_KV_CACHE,
  staleAfterMs: DEFAULT_METRICS_STALE_MS,
});

export function validateSaturationPolicy(p: SaturationPolicy): void {
  const check = (name: keyof SaturationPolicy, ok: boolean, want: string): void => {
    if (!ok) throw new TypeError(`saturation policy: ${name} must be ${want}, got ${String(p[name])}`);
  };
  // 0 would saturate every backend forever (nothing waits fewer than 0).
  check('maxWaiting', Number.isInteger(p.maxWaiting) && p.maxWaiting >= 1, 'an integer ≥ 1');
  check(
    'maxKvCacheUsage',
    Number.isFinite(p.maxKvCacheUsage) && p.maxKvCacheUsage > 0 && p.maxKvCacheUsage <= 1,
    'a fraction in (0, 1]',
  );
  // Infinity would trust a dead scrape path forever, which is what staleness exists to prevent.
  check('staleAfterMs', Number.isFinite(p.staleAfterMs) && p.staleAfterMs > 0, 'a finite number > 0');
}

/** The defaults with `overrides` applied, validated and frozen. */
export function resolveSaturationPolicy(overrides: Partial<SaturationPolicy> = {}): SaturationPolicy {
  const p: SaturationPolicy = Object.freeze({ ...DEFAULT_SATURATION_POLICY, ...overrides });
  validateSaturationPolicy(p);
  return p;
}

export type SaturationReason = 'waiting' | 'kv_cache';

/**
 * The rule. Both thresholds are reached, not exceeded: Sluice dispatches only while the estimate is
 * below maxWaiting and counts each dispatch at once, so the queue it builds in the engine tops out at
 * exactly maxWaiting. When both hold, 'waiting' is reported.
 */
export function saturationReason(
  estimatedWaiting: number,
  kvCacheUsage: number | null,
  policy: SaturationPolicy,
): SaturationReason | null {
  if (estimatedWaiting >= policy.maxWaiting) return 'waiting';
  if (kvCacheUsage !== null && kvCacheUsage >= policy.maxKvCacheUsage) return 'kv_cache';
  return null;
}

export interface LoadView {
  /** False when there is no usable scrape: the caller MUST fall back to slot counting. */
  readonly fresh: boolean;
  /** Never true unless fresh: broken metrics must not block a pool. */
  readonly saturated: boolean;
  /** The engine's waiting count now, by the rule in BackendLoadTracker; null unless fresh. */
  readonly estimatedWaiting: number | null;
  /** As last scraped (Sluice cannot estimate it between scrapes); null unless fresh or if unreported. */
  readonly kvCacheUsage: number | null;
  readonly reason: SaturationReason | null;
}

const STALE_VIEW: LoadView = Object.freeze({
  fresh: false,
  saturated: false,
  estimatedWaiting: null,
  kvCacheUsage: null,
  reason: null,
});

/**
 * Times of one kind of event, kept sorted, oldest dropped first. Nearly always appended in order (one
 * coordinator, one clock); a late report is slotted into place rather than moved, so pruning by time
 * stays exact.
 */
class EventTimes {
  #times: number[] = [];
  #head = 0;

  get size(): number {
    return this.#times.length - this.#head;
  }

  get latest(): number {
    return this.size === 0 ? -Infinity : (this.#times[this.#times.length - 1] ?? -Infinity);
  }

  add(at: number): void {
    let j = this.#times.length;
    this.#times.push(at);
    while (j > this.#head && (this.#times[j - 1] ?? -Infinity) > at) {
      this.#times[j] = this.#times[j - 1] ?? at;
      j--;
    }
    this.#times[j] = at;
  }

  /** How many times are at or after `t` (scans from the newest: the window is short). */
  countSince(t: number): number {
    let n = 0;
    for (let i = this.#times.length - 1; i >= this.#head && (this.#times[i] ?? -Infinity) >= t; i--) n++;
    return n;
  }

  /** Forgets every time before `t`. */
  dropBefore(t: number): void {
    while (this.#head < this.#times.length && (this.#times[this.#head] ?? Infinity) < t) this.#head++;
    if (this.#head === this.#times.length) {
      this.#times.length = 0;
      this.#head = 0;
    } else if (this.#head >= 64 && this.#head * 2 >= this.#times.length) {
      this.#times.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/**
 * One backend's load as a coordinator sees it: the last applied scrape plus the requests Sluice sent and
 * finished on it since. A single writer (the coordinator) calls it; every method takes the time.
 *
 * The estimate. A scrape is up to an interval old, and in that interval Sluice keeps dispatching; judged
 * on the reported count alone, a backend reported at 3 waiting would take every request until the next
 * scrape showed it far past 5, then take none until it drained, and so on (oscillation, with the excess
 * waiting in the engine's FIFO, out of reach of priority). So:
 *
 *   estimatedWaiting = max(0, reportedWaiting + dispatchedSinceScrape − releasedSinceScrape)
 *
 * The model behind it: when the scrape showed requests waiting, the engine's batch was full, so each
 * request Sluice sends joins its queue, and each of Sluice's requests that ends frees one place in the
 * batch, which the head of the queue (or the next request sent) takes. When the scrape showed none
 * waiting, the batch had room: new requests fill that room first (the batch size is learned from the
 * last scrape that showed it full, `running` then; unknown until seen, and then only maxConcurrency
 * caps), and only the excess counts as waiting. So a backend ramps up from idle at full speed, and the
 * first scrape that shows a queue teaches the tracker its real batch size. Dispatches and
 * releases by anyone else (another pool, another router) show up only at the next scrape.
 *
 * Which events are "since the scrape". `scrapedAt` is when the scrape was started (the request sent), not
 * when its body arrived. The engine reports its state at some moment between the two, so a request sent
 * in that gap may or may not be in the report. Counting from the start keeps such a request in the
 * estimate even if the report includes it too: counted twice for at most one interval (towards
 * saturated), never missed (which would let through the burst this rule exists to stop). Events at
 * exactly `scrapedAt` count as after it, for the same reason. Counting from the arrival instead would drop
 * every request sent while the scrape was in flight.
 *
 * Order. A scrape that started before the last applied one is ignored, even if it arrives later: it holds
 * older state, and the events it would be compared with have been dropped. A dispatch or release dated
 * before the applied scrape started is already in it and is ignored.
 *
 * Staleness. The view is fresh while the last applied scrape started at most staleAfterMs ago. A failed
 * scrape does not change that: the previous success is used until it goes stale (so one lost scrape does
 * not flip a backend to slot counting), and then the view reports fresh: false and saturated: false,
 * because a broken scrape path must never hold a pool's requests back for good.
 */
export class BackendLoadTracker {
  readonly policy: SaturationPolicy;
  #scrape: { readonly load: EngineLoad; readonly scrapedAt: number; readonly arrivedAt: number } | null =
    null;
  readonly #dispatched = new EventTimes();
  readonly #released = new EventTimes();
  #consecutiveFailures = 0;
  /**
   * The engine's batch size as last seen: `running` in a scrape that also showed requests waiting (the
   * batch was full then). Null until seen.
   */
  #batchCapacity: number | null = null;

  constructor(policy: SaturationPolicy = DEFAULT_SATURATION_POLICY) {
    validateSaturationPolicy(policy);
    this.policy = policy;
  }

  /**
   * Applies a successful scrape started at `scrapedAt`. Returns false (and changes nothing) when a scrape
   * started later has already been applied.
   */
  onScrape(load: EngineLoad, scrapedAt: number, arrivedAt: number = scrapedAt): boolean {
    if (!(Number.isFinite(load.waiting) && load.waiting >= 0)) {
      throw new TypeError(`engine load: waiting must be a finite number ≥ 0, got ${load.waiting}`);
    }
    if (this.#scrape !== null && scrapedAt < this.#scrape.scrapedAt) return false;
    this.#scrape = { load, scrapedAt, arrivedAt: Math.max(scrapedAt, arrivedAt) };
    if (load.waiting > 0 && load.running > 0) this.#batchCapacity = load.running;
    this.#consecutiveFailures = 0;
    this.#prune();
    return true;
  }

  /**
   * The scrape started at `at` failed (unreachable, bad status, no engine metrics in the body). The view
   * keeps the last success until it goes stale; this only counts, for logs and the admin view.
   */
  onScrapeFailed(at: number): void {
    if (this.#scrape !== null && at < this.#scrape.scrapedAt) return;
    this.#consecutiveFailures++;
  }

  /** Sluice sent the backend a request at `at`. */
  onDispatched(at: number): void {
    if (this.#scrape !== null && at < this.#scrape.scrapedAt) return;
    this.#dispatched.add(at);
    this.#prune();
  }

  /** One of Sluice's requests on the backend ended (finished, failed or cancelled) at `at`. */
  onReleased(at: number): void {
    if (this.#scrape !== null && at < this.#scrape.scrapedAt) return;
    this.#released.add(at);
    this.#prune();
  }

  /** Failed scrapes since the last applied one. */
  get consecutiveScrapeFailures(): number {
    return this.#consecutiveFailures;
  }

  view(now: number): LoadView {
    const scrape = this.#scrape;
    if (scrape === null || now - scrape.scrapedAt > this.policy.staleAfterMs) return STALE_VIEW;
    // Room the batch had at the scrape: none if requests were waiting; otherwise what is left of the batch
    // size last seen full, or unknown (then no limit here: maxConcurrency still caps, and the next scrape
    // shows the queue and teaches the batch size).
    const room =
      scrape.load.waiting > 0
        ? 0
        : this.#batchCapacity === null
          ? Infinity
          : Math.max(0, this.#batchCapacity - scrape.load.running);
    // Releases count from the scrape's arrival, not its start: a request that finished in the engine
    // before the engine took its snapshot is already in the report, and its release, on its way through
    // the Worker and the workload, often reaches the coordinator only after the scrape started. Counted
    // from the start it would be subtracted twice, and the estimate would run low by the completions of
    // that lag, sending a few too many (the engine queue then sits above the threshold).
    const released = this.#released.countSince(scrape.arrivedAt);
    const sent = Math.max(0, this.#dispatched.size - released);
    const estimatedWaiting =
      scrape.load.waiting > 0
        ? Math.max(0, scrape.load.waiting + this.#dispatched.size - released)
        : Math.max(0, sent - room);
    const kvCacheUsage = scrape.load.kvCacheUsage;
    const reason = saturationReason(estimatedWaiting, kvCacheUsage, this.policy);
    return { fresh: true, saturated: reason !== null, estimatedWaiting, kvCacheUsage, reason };
  }

  /**
   * Keeps only events a fresh view can count: those since the applied scrape started, and none older
   * than staleAfterMs before the latest event. A scrape started before that would be stale by the time
   * of the latest event, so whatever it would count is never read; this bounds memory to one stale
   * window of events while scrapes keep failing.
   */
  #prune(): void {
    const latest = Math.max(this.#dispatched.latest, this.#released.latest);
    const horizon = Math.max(this.#scrape?.scrapedAt ?? -Infinity, latest - this.policy.staleAfterMs);
    this.#dispatched.dropBefore(horizon);
    this.#released.dropBefore(horizon);
  }
}

/**
 * Orders backends by live load, least loaded first, for picking among unsaturated ones: estimated
 * waiting, then KV-cache usage. A value that is not known (a stale view, or an engine that does not
 * report KV usage) sorts after every known one, since a known light load is the safer bet. Ties give 0,
 * so a stable sort keeps the caller's order and the caller breaks them (by free-slot ratio).
 */
export function compareLoad(a: LoadView, b: LoadView): number {
  return (
    compareKnownFirst(a.estimatedWaiting, b.estimatedWaiting) ||
    compareKnownFirst(a.kvCacheUsage, b.kvCacheUsage)
  );
}

function compareKnownFirst(x: number | null, y: number | null): number {
  if (x === null) return y === null ? 0 : 1;
  if (y === null) return -1;
  return x < y ? -1 : x > y ? 1 : 0;
}
