// The coordinator's core: a ready set of workload heads, the backend slots, and leases. `next(now)`
// returns the best head by policy and a backend while a slot is free. Decisions cost O(log n) amortized
// in the number of ready workloads: heads sit in heaps under time-invariant keys (Policy.rankKey and
// Policy.overdueKey); an arrival-ordered heap tells when a head crosses the aging horizon, and it then
// moves (once) to the overdue heap. Leases expire, so a lost release cannot leak a slot. Under token
// fairness it also keeps start-time-fair-queuing tags in tokens, divided by each workload's weight (see
// policy/workload-aware.ts for the rule and its bound); they live only here, so a restart simply starts
// everyone level again.

import { BackendPool, type BackendCooldown, type BackendSpec, type BackendStatus } from './backend-pool.ts';
import {
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_WORKLOAD_WEIGHT,
  MAX_TOKEN_ESTIMATE,
  MAX_WORKLOAD_WEIGHT,
  MIN_WORKLOAD_WEIGHT,
  USAGE_RATIO_EMA_ALPHA,
} from './defaults.ts';
import type { EngineLoad } from './engine-load.ts';
import type { SaturationPolicy } from './saturation.ts';
import { IndexedHeap, KeyedSlotHeap, type HeapSlot } from './indexed-heap.ts';
import { isOverdue, type HeadView, type Policy, type WorkloadSignals } from './policy/types.ts';

export interface Lease {
  readonly leaseId: string;
  readonly workloadId: string;
  /** The request the slot went to. The workload may re-assign it to its current head (see assign). */
  readonly requestId: string;
  readonly backend: string;
  readonly grantedAt: number;
  readonly expiresAt: number;
  /**
   * The coordinator incarnation that granted it (see CoordinatorHost's recovery): a workload that has
   * told a restarted coordinator what it holds refuses grants from before, still in flight.
   */
  readonly epoch?: number;
  /**
   * The order this incarnation granted it in (0, 1, …): a workload compares it with the point at which
   * the coordinator learned of a failed dispatch (Informed, messages.ts) to tell an informed grant from
   * one issued before.
   */
  readonly seq?: number;
  /**
   * Token fairness: the tokens charged at the grant (the head's estimate scaled by its workload's usage
   * ratio, see #usageRatio), trued up at release to what the request really used.
   */
  readonly charged?: number;
  /** Token fairness: the head's token estimate (capped), from which the usage ratio learns. */
  readonly estimated?: number;
  /** Token fairness: the weight the charge was divided by (the head's), so the true-up divides alike. */
  readonly weight?: number;
}

export interface Grant extends Lease {
  readonly score: number;
}

export interface ReadyHead {
  readonly workloadId: string;
  readonly head: HeadView;
  readonly signals: WorkloadSignals;
  readonly rankKey: number;
  readonly overdueKey: number;
}

export interface DispatcherOptions {
  readonly backends: readonly BackendSpec[];
  readonly policy: Policy;
  readonly leaseTtlMs?: number;
  readonly backendCooldown?: BackendCooldown;
  /** With a policy, backends' engine metrics decide saturation (see saturation.ts); null: slots only. */
  readonly saturation?: SaturationPolicy | null;
  /** Recovering backends are probed before use, then brought back gradually (see BackendPool). */
  readonly probing?: boolean;
  /** Lease IDs must be unique across restarts in a real host; the default counter suits tests. */
  readonly newLeaseId?: () => string;
  /** Stamped on every lease granted (Lease.epoch); 0 by default (a host that never restarts). */
  readonly leaseEpoch?: number;
  /**
   * Token fairness as it was before issue 11, kept only so the policy lab can show before and after: a
   * new head starts at max(finish tag, largest start tag granted so far) and a grant charges the bare
   * estimate. It has no drift bound (see test/core/token-bound.test.ts). Never set by the router.
   */
  readonly legacyTokenTags?: boolean;
}

/**
 * What the dispatcher keeps per workload, from its first offer until forget(): its waiting head (if any)
 * with the orders' keys copied out (the comparators read them without a hop), its slot in each heap (made
 * once, filed again with each new head), and its token-fairness state. One record found by one lookup,
 * and no map write per head: a keyed heap per order cost a lookup and a write per order, and every write
 * of a new key is garbage for the collector sooner or later.
 */
interface Workload {
  readonly workloadId: string;
  /** The waiting head, or null. */
  ready: ReadyHead | null;
  enqueuedAt: number;
  rankKey: number;
  overdueKey: number;
  /** The start tag, 0 without one (only tagged heads are in #byTag). */
  tag: number;
  ranked: HeapSlot<Workload> | null;
  arrival: HeapSlot<Workload> | null;
  overdue: HeapSlot<Workload> | null;
  tagged: HeapSlot<Workload> | null;
  /** Token fairness: the last granted tag + that request's tokens / weight (see #withServiceTag). */
  hasFinishTag: boolean;
  finishTag: number;
  /**
   * Token fairness: granted a slot and has not offered an empty queue since. Still backlogged, so its
   * next head starts at its finish tag, never lifted (see #withServiceTag).
   */
  continuing: boolean;
  /**
   * Token fairness: recent actual / estimated tokens (EMA, in [0, 1]; 1 until a usage is reported). A
   * grant charges estimate × ratio. Charging the bare estimate would hold a habitual over-asker's tag (and
   * so the level joiners start at) 8× too high for as long as its requests run, and the refund at release
   * would then put everyone who joined meanwhile behind it.
   */
  usageRatio: number;
  /** The newest head report applied (offerNewer), once `reported`. */
  reported: boolean;
  reportEpoch: number;
  reportN: number;
  /** The host's own flag (CoordinatorHost: it has listed the workload), kept with the record. */
  listed: boolean;
}

/** What offerNewer() hands its host: the flag it keeps in the workload's record. */
export interface WorkloadRecord {
  readonly workloadId: string;
  listed: boolean;
}

const byWorkload = (a: Workload, b: Workload): number =>
  a.workloadId < b.workloadId ? -1 : a.workloadId > b.workloadId ? 1 : 0;
const byArrival = (a: Workload, b: Workload): number => a.enqueuedAt - b.enqueuedAt || byWorkload(a, b);
// The orders, as KeyedSlotHeaps (key, direction, tie-break): byRank is b.rankKey - a.rankKey ||
// byArrival(a, b), byOverdueKey likewise, byArrival a.enqueuedAt - b.enqueuedAt || byWorkload(a, b),
// byTag a.tag - b.tag || byWorkload(a, b).
const rankKeyOf = (w: Workload): number => w.rankKey;
const overdueKeyOf = (w: Workload): number => w.overdueKey;
const enqueuedAtOf = (w: Workload): number => w.enqueuedAt;
const tagOf = (w: Workload): number => w.tag;

/** The signals with a start tag, built field by field: a spread costs more on every offer. */
function withTag(signals: WorkloadSignals, serviceTag: number): WorkloadSignals {
  return {
    requestRatePerSec: signals.requestRatePerSec,
    averageWaitMs: signals.averageWaitMs,
    lastDispatchedAt: signals.lastDispatchedAt,
    serviceTag,
  };
}

/**
 * A head's weight as the dispatcher uses it. Config rejects bad weights (isValidWeight); one that still
 * arrives (an old message, a bug) counts as the default rather than corrupting the tags.
 */
export function effectiveWeight(weight: number | undefined): number {
  return weight !== undefined && isValidWeight(weight) ? weight : DEFAULT_WORKLOAD_WEIGHT;
}

export function isValidWeight(weight: number): boolean {
  return Number.isFinite(weight) && weight >= MIN_WORKLOAD_WEIGHT && weight <= MAX_WORKLOAD_WEIGHT;
}

export class Dispatcher {
  readonly policy: Policy;
  readonly #pool: BackendPool;
  /** Every workload offered here. A waiting head is in #ranked or #overdue, maybe #byArrival and #byTag. */
  readonly #workloads = new Map<string, Workload>();
  #readyCount = 0;
  /** Heads not promoted to #overdue yet, by rankKey. */
  readonly #ranked = new KeyedSlotHeap<Workload>(rankKeyOf, 'descending', byArrival);
  /** Heads not yet overdue, by arrival: the top is the next to cross the horizon. */
  readonly #byArrival = new KeyedSlotHeap<Workload>(enqueuedAtOf, 'ascending', byWorkload);
  /** Heads past the horizon, by overdueKey. */
  readonly #overdue = new KeyedSlotHeap<Workload>(overdueKeyOf, 'descending', byArrival);
  readonly #leases = new IndexedHeap<Lease>(
    (l) => l.leaseId,
    (a, b) => a.expiresAt - b.expiresAt || (a.leaseId < b.leaseId ? -1 : 1),
  );
  readonly #leaseTtlMs: number;
  readonly #newLeaseId: () => string;
  readonly #legacy: boolean;
  readonly #leaseEpoch: number;
  #grantSeq = 0;
  /** Token fairness: the start tag of the last grant; where a workload joins when no head waits. */
  #lastGrantedTag = 0;
  /** Token fairness: waiting heads by start tag; the smallest is where a joining workload starts. */
  readonly #byTag = new KeyedSlotHeap<Workload>(tagOf, 'ascending', byWorkload);

  constructor(opts: DispatcherOptions) {
    this.policy = opts.policy;
    this.#pool = new BackendPool(
      opts.backends,
      opts.backendCooldown,
      opts.saturation ?? null,
      opts.probing ?? false,
    );
    this.#leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    if (!(this.#leaseTtlMs > 0)) throw new TypeError(`leaseTtlMs must be > 0, got ${this.#leaseTtlMs}`);
    let counter = 0;
    this.#newLeaseId = opts.newLeaseId ?? (() => `lease-${++counter}`);
    this.#legacy = opts.legacyTokenTags ?? false;
    this.#leaseEpoch = opts.leaseEpoch ?? 0;
  }

  get readyCount(): number {
    return this.#readyCount;
  }

  get leaseCount(): number {
    return this.#leases.size;
  }

  /** Grants issued so far by this dispatcher: the next grant's `seq`. */
  get grantsIssued(): number {
    return this.#grantSeq;
  }

  get backendCount(): number {
    return this.#pool.size;
  }

  /** Sets (or, with a null head, clears) a workload's head. Replaces whatever was there. */
  offer(workloadId: string, head: HeadView | null, offered: WorkloadSignals): void {
    const w = this.#workloads.get(workloadId);
    if (w === undefined && head === null) return;
    this.#offer(w ?? this.#record(workloadId), head, offered);
  }

  /**
   * offer() for a host that numbers each workload's head reports, which can arrive out of order
   * (CoordinatorHost): applied only when (epoch, n) is newer than the last applied here; an older
   * report is dropped. The numbers live in the workload's record, not in a map of the host's own, so a
   * report costs one lookup; a grant reply's finds the record next() has just read. Returns the record,
   * whose `listed` the host keeps (both last until forget()).
   */
  offerNewer(
    workloadId: string,
    head: HeadView | null,
    offered: WorkloadSignals,
    epoch: number,
    n: number,
  ): WorkloadRecord {
    const w = this.#record(workloadId);
    if (w.reported && !(epoch > w.reportEpoch || (epoch === w.reportEpoch && n > w.reportN))) return w;
    w.reported = true;
    w.reportEpoch = epoch;
    w.reportN = n;
    this.#offer(w, head, offered);
    return w;
  }

  #offer(w: Workload, head: HeadView | null, offered: WorkloadSignals): void {
    const previous = w.ready;
    if (head === null) {
      if (previous !== null) this.#withdraw(w);
      w.continuing = false;
      return;
    }
    const tokens = this.policy.fairness === 'tokens';
    const same = previous?.head.requestId === head.requestId ? previous : null;
    // Re-offering the same head (new arrivals behind it, the 5 s heartbeat) keeps its start tag: the
    // lag it built up while waiting must not be reset by incidental re-offers.
    const keep = tokens ? same?.signals.serviceTag : undefined;
    const inPlace =
      same !== null && same.head.enqueuedAt === head.enqueuedAt && (!tokens || keep !== undefined);
    // Out first: a new head's start tag is set from the other workloads' waiting heads.
    if (previous !== null && !inPlace) this.#withdraw(w);
    const signals = tokens ? withTag(offered, keep ?? this.#withServiceTag(w)) : offered;
    const ready = this.#ready(w.workloadId, head, signals);
    if (inPlace) this.#update(w, ready);
    else this.#place(w, ready);
  }

  #record(workloadId: string): Workload {
    let w = this.#workloads.get(workloadId);
    if (w === undefined) {
      w = {
        workloadId,
        ready: null,
        enqueuedAt: 0,
        rankKey: 0,
        overdueKey: 0,
        tag: 0,
        ranked: null,
        arrival: null,
        overdue: null,
        tagged: null,
        hasFinishTag: false,
        finishTag: 0,
        continuing: false,
        usageRatio: 1,
        reported: false,
        reportEpoch: 0,
        reportN: 0,
        listed: false,
      };
      this.#workloads.set(workloadId, w);
    }
    return w;
  }

  #ready(workloadId: string, head: HeadView, signals: WorkloadSignals): ReadyHead {
    return {
      workloadId,
      head,
      signals,
      rankKey: this.policy.rankKey(head, signals),
      overdueKey: this.policy.overdueKey(head, signals),
    };
  }

  /** Files a head for a workload that has none waiting. */
  #place(w: Workload, ready: ReadyHead): void {
    const tag = ready.signals.serviceTag;
    w.ready = ready;
    w.enqueuedAt = ready.head.enqueuedAt;
    w.rankKey = ready.rankKey;
    w.overdueKey = ready.overdueKey;
    w.tag = tag ?? 0;
    w.ranked = this.#ranked.push(w, w.ranked);
    if (this.policy.agingHorizonMs !== null) w.arrival = this.#byArrival.push(w, w.arrival);
    if (tag !== undefined) w.tagged = this.#byTag.push(w, w.tagged);
    this.#readyCount++;
  }

  /**
   * A waiting head's new numbers, in place in the heaps that hold it, as #withdraw() then #place() would
   * leave them (the orders are total), minus the work for the orders whose keys did not change. The
   * arrival order cannot (same head, same enqueuedAt), nor can the tier: overdue depends on enqueuedAt
   * and time only, and promotion has already happened for this head or not. Both or neither have a tag:
   * the fairness mode decides, and #trueUp only moves an existing one.
   */
  #update(w: Workload, ready: ReadyHead): void {
    const rankMoved = w.rankKey !== ready.rankKey;
    const overdueMoved = w.overdueKey !== ready.overdueKey;
    const tag = ready.signals.serviceTag ?? 0;
    const tagMoved = w.tag !== tag;
    w.ready = ready;
    w.rankKey = ready.rankKey;
    w.overdueKey = ready.overdueKey;
    w.tag = tag;
    if (this.#overdue.holds(w.overdue)) {
      if (overdueMoved && w.overdue !== null) this.#overdue.update(w.overdue, w);
    } else if (rankMoved && w.ranked !== null) {
      this.#ranked.update(w.ranked, w);
    }
    if (tagMoved && this.#byTag.holds(w.tagged) && w.tagged !== null) this.#byTag.update(w.tagged, w);
  }

  withdraw(workloadId: string): void {
    const w = this.#workloads.get(workloadId);
    if (w !== undefined && w.ready !== null) this.#withdraw(w);
  }

  /** Takes a waiting head out of every heap (its slots stay with the record, to be filed again). */
  #withdraw(w: Workload): void {
    w.ready = null;
    this.#readyCount--;
    if (w.tagged !== null) this.#byTag.remove(w.tagged);
    if (w.ranked !== null) this.#ranked.remove(w.ranked);
    if (w.arrival !== null) this.#byArrival.remove(w.arrival);
    if (w.overdue !== null) this.#overdue.remove(w.overdue);
  }

  /** The workload is gone (deleted when idle): drop its head and its token-fairness state. */
  forget(workloadId: string): void {
    const w = this.#workloads.get(workloadId);
    if (w === undefined) return;
    if (w.ready !== null) this.#withdraw(w);
    this.#workloads.delete(workloadId);
  }

  peekReady(workloadId: string): ReadyHead | undefined {
    return this.#workloads.get(workloadId)?.ready ?? undefined;
  }

  readyHeads(): ReadyHead[] {
    const heads: ReadyHead[] = [];
    for (const w of this.#ranked.values()) if (w.ready !== null) heads.push(w.ready);
    for (const w of this.#overdue.values()) if (w.ready !== null) heads.push(w.ready);
    return heads;
  }

  /** The current score of a workload's head, or null if it has none here. */
  scoreOf(workloadId: string, now: number): number | null {
    const ready = this.peekReady(workloadId);
    return ready ? this.policy.score(ready.head, ready.signals, now) : null;
  }

  /**
   * Takes the best head and a free slot, or returns null when either is missing. The head leaves the
   * ready set and the slot is reserved before this returns, so a host that awaits afterwards cannot
   * hand the same slot out twice.
   */
  next(now: number): Grant | null {
    if (this.#readyCount === 0) return null;
    const backend = this.#pool.pick(now);
    if (backend === null) return null;
    this.#promoteOverdue(now);
    const chosen = this.#overdue.peek() ?? this.#ranked.peek();
    const best = chosen?.ready;
    if (!chosen || !best) return null;
    // Mint the ID before changing anything: a colliding ID (e.g. a restored lease) must not cost a slot.
    let leaseId = this.#newLeaseId();
    while (this.#leases.has(leaseId)) leaseId = this.#newLeaseId();
    this.#withdraw(chosen);
    this.#pool.acquire(backend, now);
    let charged: number | undefined;
    let estimated: number | undefined;
    let weight: number | undefined;
    if (this.policy.fairness === 'tokens') {
      const tag = best.signals.serviceTag ?? this.#joinLevel();
      this.#lastGrantedTag = this.#legacy ? Math.max(this.#lastGrantedTag, tag) : tag;
      estimated = Math.min(MAX_TOKEN_ESTIMATE, Math.max(0, best.head.tokenEstimate ?? 0));
      charged = estimated * (this.#legacy ? 1 : chosen.usageRatio);
      weight = effectiveWeight(best.head.weight);
      chosen.hasFinishTag = true;
      chosen.finishTag = tag + charged / weight;
      chosen.continuing = true;
    }
    // One object: the lease kept here is the grant returned (a Lease with its score along). Two
    // literals, not a conditional spread: one grant per request.
    const workloadId = best.workloadId;
    const requestId = best.head.requestId;
    const expiresAt = now + this.#leaseTtlMs;
    const score = this.policy.score(best.head, best.signals, now);
    const epoch = this.#leaseEpoch;
    const seq = this.#grantSeq++;
    const grant: Grant =
      charged === undefined
        ? { leaseId, workloadId, requestId, backend, grantedAt: now, expiresAt, epoch, seq, score }
        : {
            leaseId,
            workloadId,
            requestId,
            backend,
            grantedAt: now,
            expiresAt,
            epoch,
            seq,
            score,
            charged,
            estimated,
            weight,
          };
    this.#leases.push(grant);
    return grant;
  }

  /**
   * A new head's start tag. A workload still backlogged (granted, and no empty queue offered since)
   * continues from its finish tag. One joining the backlog starts at the later of its finish tag and the
   * smallest start tag waiting (the last granted tag when none waits), as a client joining the Virtual
   * Token Counter's queue does: an idle workload cannot cash in its absence, and a workload that was
   * passed over while it waited (criticality, rate penalty) keeps its credit. A maximum here instead of
   * the minimum would let every out-of-order grant push the others' next tags up, and the drift between
   * two backlogged tenants would have no bound.
   */
  #withServiceTag(w: Workload): number {
    const finish = w.hasFinishTag ? w.finishTag : undefined;
    const continuing = w.continuing;
    w.continuing = false;
    if (continuing && finish !== undefined && !this.#legacy) return finish;
    const level = this.#legacy ? this.#lastGrantedTag : this.#joinLevel();
    if (finish !== undefined && finish <= level) w.hasFinishTag = false;
    return Math.max(finish ?? 0, level);
  }

  #joinLevel(): number {
    return this.#byTag.peek()?.ready?.signals.serviceTag ?? this.#lastGrantedTag;
  }

  /** Moves heads that crossed the aging horizon by `now` into the overdue tier (each moves once). */
  #promoteOverdue(now: number): void {
    for (
      let w = this.#byArrival.peek();
      w?.ready && isOverdue(this.policy, w.ready.head, now);
      w = this.#byArrival.peek()
    ) {
      if (w.arrival !== null) this.#byArrival.remove(w.arrival);
      if (w.ranked !== null) this.#ranked.remove(w.ranked);
      w.overdue = this.#overdue.push(w, w.overdue);
    }
  }

  /** Records which request a granted slot finally went to. */
  assign(leaseId: string, requestId: string): void {
    const lease = this.#leases.get(leaseId);
    if (lease) this.#leases.replaceSameOrder({ ...lease, requestId });
  }

  /** Extends a live lease to now + lease TTL (its request is still running); false if it is gone. */
  renew(leaseId: string, now: number): Lease | null {
    const lease = this.#leases.get(leaseId);
    if (!lease) return null;
    const renewed = { ...lease, expiresAt: Math.max(lease.expiresAt, now + this.#leaseTtlMs) };
    this.#leases.replace(renewed);
    return renewed;
  }

  /** Idempotent: the second release of a lease (or of an expired one) returns null and frees nothing. */
  release(leaseId: string, now?: number, actualTokens?: number): Lease | null {
    const lease = this.#leases.remove(leaseId);
    if (!lease) return null;
    this.#pool.release(lease.backend, now);
    if (actualTokens !== undefined && lease.charged !== undefined) {
      this.#learnUsageRatio(lease.workloadId, lease.estimated ?? lease.charged, actualTokens);
      this.#trueUp(lease.workloadId, lease.charged, actualTokens, effectiveWeight(lease.weight));
    }
    return lease;
  }

  /**
   * The usage ratio moves toward this request's actual / estimated tokens (see #usageRatio). A charge of
   * 0 is an attempt that was never served (failover, unreachable backend), not a usage: it teaches nothing.
   */
  #learnUsageRatio(workloadId: string, estimated: number, actual: number): void {
    if (!(estimated > 0) || !(actual > 0)) return;
    const sample = Math.min(1, Math.max(0, actual / estimated));
    const w = this.#record(workloadId);
    w.usageRatio += USAGE_RATIO_EMA_ALPHA * (sample - w.usageRatio);
  }

  /**
   * Token fairness charges the (scaled) estimate at the grant; when the request ends with its real usage
   * the workload's finish tag moves by the difference, so a tenant that asks for far more than it uses
   * gets the excess back and one that uses more than it asked pays for it. A workload whose tag was already
   * dropped (it fell behind the join level: idle) gets no credit, which would let it cash in its
   * absence, but does carry a debt. The finish tag stays ≥ the request's start tag (actual ≥ 0).
   */
  #trueUp(workloadId: string, charged: number, actual: number, weight: number): void {
    const delta = (Math.min(MAX_TOKEN_ESTIMATE, Math.max(0, actual)) - charged) / weight;
    if (delta === 0) return;
    const w = this.#workloads.get(workloadId);
    const finish = w?.hasFinishTag ? w.finishTag : undefined;
    if (finish !== undefined && w) w.finishTag = finish + delta;
    else if (delta > 0) {
      const r = w ?? this.#record(workloadId);
      r.hasFinishTag = true;
      r.finishTag = this.#lastGrantedTag + delta;
    }
    // A head already waiting took its start tag from the old finish tag: it moves with it, unclamped, so a
    // backlogged workload's tag is always its service so far (the bound in workload-aware.ts needs it).
    const ready = w?.ready;
    const tag = ready?.signals.serviceTag;
    if (!w || !ready || tag === undefined || finish === undefined || tag !== finish) return;
    const moved = this.#legacy ? Math.max(this.#lastGrantedTag, tag + delta) : tag + delta;
    this.#update(w, this.#ready(workloadId, ready.head, withTag(ready.signals, moved)));
  }

  /** A scrape of a backend's engine metrics, started at `scrapedAt`, succeeded. */
  reportLoad(backend: string, load: EngineLoad, scrapedAt: number, arrivedAt?: number): void {
    this.#pool.reportLoad(backend, load, scrapedAt, arrivedAt);
  }

  reportScrapeFailed(backend: string, at: number): number {
    return this.#pool.reportScrapeFailed(backend, at);
  }

  /** See BackendPool.downUntil: when every backend is out, the earliest time one may be back. */
  poolDownUntil(now: number): number | null {
    return this.#pool.downUntil(now);
  }

  probesDue(now: number): string[] {
    return this.#pool.probesDue(now);
  }

  onProbe(backend: string, ok: boolean, at: number): void {
    this.#pool.onProbe(backend, ok, at);
  }

  get readsMetrics(): boolean {
    return this.#pool.readsMetrics;
  }

  backendsInService(now: number): string[] {
    return this.#pool.inService(now);
  }

  /** A lease's backend could not be reached: it is skipped for a cooldown (see BackendPool). */
  reportUnreachable(backend: string, now: number): void {
    this.#pool.reportUnreachable(backend, now);
  }

  reportReachable(backend: string, observedAt: number): void {
    this.#pool.reportReachable(backend, observedAt);
  }

  /** Frees the slots of leases that were never released by their expiry time. */
  expireLeases(now: number): Lease[] {
    const expired: Lease[] = [];
    for (let l = this.#leases.peek(); l && l.expiresAt <= now; l = this.#leases.peek()) {
      this.release(l.leaseId, now);
      expired.push(l);
    }
    return expired;
  }

  /** When the host should wake next (its alarm): a lease expiry or a backend's cooldown end, or null. */
  nextDeadline(now: number): number | null {
    const lease = this.#leases.peek()?.expiresAt ?? Infinity;
    const recovery = this.#pool.nextRecovery(now) ?? Infinity;
    const next = Math.min(lease, recovery);
    return Number.isFinite(next) ? next : null;
  }

  /** Whether any lease held here is the workload's (no copy of the lease list). */
  holdsLeaseOf(workloadId: string): boolean {
    for (const lease of this.#leases.values()) if (lease.workloadId === workloadId) return true;
    return false;
  }

  leases(): Lease[] {
    return [...this.#leases.values()];
  }

  /** Re-installs leases persisted by a previous instance of the host, holding their slots. */
  restoreLeases(leases: readonly Lease[]): void {
    for (const lease of leases) {
      if (this.#leases.has(lease.leaseId)) continue;
      this.#leases.push(lease);
      this.#pool.restore(lease.backend);
    }
  }

  backends(now: number): BackendStatus[] {
    return this.#pool.status(now);
  }

  freeSlots(now: number): number {
    return this.#pool.freeSlots(now);
  }
}
