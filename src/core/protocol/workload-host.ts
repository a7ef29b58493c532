// The workload side of the protocol: one workload's state (registry entry + queue) plus everything it
// must remember to talk to its coordinator correctly: which lease each running request holds, releases
// not yet acknowledged, offers in flight, held admissions, the alarm. A WorkloadDO hosts one of these;
// so does the in-process scheduler. It performs no I/O: calls leave through ports and their replies come
// back through the on* methods, so tests can deliver them in any order, late, or never.

import { DEFAULT_LEASE_TTL_MS, leaseRenewIntervalMs, REOFFER_INTERVAL_MS } from '../defaults.ts';
import type { Lease } from '../dispatcher.ts';
import { ENDED, type Ended } from '../outcome.ts';
import type { RegistrySnapshot } from '../registry-entry.ts';
import { DEFAULT_POOL } from '../pools.ts';
import { WorkloadState, type SweepResult } from '../workload-state.ts';
import { WorkloadLimiter } from '../workload-limits.ts';
import { chargeAtEnd } from '../token-charge.ts';
import type { TokenUsage } from '../usage.ts';
import type { HeadView } from '../policy/types.ts';
import type { TallySnapshot } from '../metrics/workload-tally.ts';
import type { HeldLease, PersistedWorkload, WorkloadHostOptions, WorkloadPorts } from './workload-ports.ts';
import { RunningLeases } from './running-leases.ts';
import { derivedOnce } from '../derived-once.ts';
import type {
  AdmitReply,
  AdmitRequest,
  BackendHealth,
  CarriedRelease,
  CompleteReply,
  DeclaredLease,
  GrantReply,
  HeadSeq,
  Informed,
  OfferReply,
  RenewReply,
  RetryRequest,
  WorkloadDescription,
} from './messages.ts';

export type {
  CoordinatorCalls,
  HeldLease,
  PersistedWorkload,
  WorkloadHostOptions,
  WorkloadPorts,
} from './workload-ports.ts';

const NOTHING_CARRIED: readonly CarriedRelease[] = Object.freeze([]);
const NO_FENCES: ReadonlyMap<string, number> = new Map();
const NO_AVOIDED: ReadonlyMap<string, Avoided> = new Map();
const NO_LEASE_IDS: ReadonlySet<string> = new Set();
const NO_PENDING_RELEASES: ReadonlyMap<string, PendingRelease> = new Map();

/** A running request's lease, with what a restarted coordinator needs to count it again. */
interface RunningLease extends HeldLease {
  /** Absent for a lease restored from state written before leases were declared. */
  readonly backend?: string;
  readonly epoch?: number;
}

function declared({ leaseId, backend, epoch }: RunningLease): DeclaredLease {
  return backend === undefined
    ? { leaseId }
    : epoch === undefined
      ? { leaseId, backend }
      : { leaseId, backend, epoch };
}

/** A request back from a failed dispatch: the backend it failed on and the failed lease (see #avoid). */
interface Avoided {
  readonly backend: string;
  readonly leaseId: string;
  /** Where the coordinator stood once it had the failed lease back; null until it acknowledges. */
  informed: Informed | null;
  /**
   * The request's failure before this one, if it failed over before: a grant on that backend issued
   * before the coordinator knew of that failure may still be on its way (a request can fail over as
   * many times as UPSTREAM_MAX_ATTEMPTS allows, so the chain is short).
   */
  readonly earlier: Avoided | null;
}

/**
 * An older coordinator's acknowledgement (it numbers no grants): every grant delivered from then on
 * counts as informed, as when the failure was forgotten at the acknowledgement.
 */
const ACKNOWLEDGED: Informed = Object.freeze({ epoch: -Infinity, seq: -Infinity });

/** The failure of `avoid`'s chain that `lease` must not be taken against, if any. */
function failureAgainst(lease: Lease, avoid: Avoided | undefined): Avoided | undefined {
  for (let a: Avoided | null | undefined = avoid; a; a = a.earlier)
    if (a.backend === lease.backend && !grantedKnowing(lease, a)) return a;
  return undefined;
}

/**
 * Whether `lease` was granted knowing of the failure `avoid` records: after the coordinator had the
 * failed lease back (a later grant of that incarnation, or any of a later one). A coordinator that does
 * not number its grants (an older version) counts as informed once it acknowledged, as it used to.
 */
function grantedKnowing(lease: Lease, avoid: Avoided): boolean {
  const informed = avoid.informed;
  if (informed === null) return false;
  const epoch = lease.epoch ?? 0;
  if (epoch !== informed.epoch) return epoch > informed.epoch;
  return lease.seq === undefined || lease.seq >= informed.seq;
}

interface PendingRelease {
  readonly pool: string;
  readonly health: BackendHealth | null;
  /** The request's real token charge, for token fairness (absent when unknown). */
  readonly actualTokens?: number;
}

/** One pool's offer state: coalesced, one in flight at a time. */
interface OfferState {
  readonly pool: string;
  inFlight: boolean;
  dirty: boolean;
  /**
   * This workload has offered to the pool (or had, before a restart): it is one of the workload's pools,
   * persisted, and told goodbye when the workload goes idle. Only grows.
   */
  listed: boolean;
  /** Releases to carry in the next offer (failover), and those the offer in flight carries. */
  carry: readonly CarriedRelease[];
  carrying: readonly CarriedRelease[];
}

function offerState(pool: string, listed: boolean): OfferState {
  return { pool, inFlight: false, dirty: false, listed, carry: NOTHING_CARRIED, carrying: NOTHING_CARRIED };
}

function pendingRelease(
  pool: string,
  health: BackendHealth | null,
  actualTokens: number | undefined,
): PendingRelease {
  return actualTokens === undefined ? { pool, health } : { pool, health, actualTokens };
}

/** What a host derives from its options; the same for every host made with one options object. */
interface HostConfig {
  readonly renewEveryMs: number;
  readonly leaseTtlMs: number;
  readonly reofferEveryMs: number;
  readonly keepIdle: boolean;
  readonly sendsMetrics: boolean;
}

/**
 * Not copied into every host: a grant to a workload not touched for thousands of requests reads these
 * from memory that is no longer in cache. One shared object stays in cache; per-host copies (numbers such
 * as a lease TTL beyond the small-integer range are boxed, one more object each) cost a miss or two per
 * cold host.
 */
const hostConfigOf = derivedOnce((opts: WorkloadHostOptions): HostConfig => {
  const leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  return {
    leaseTtlMs,
    renewEveryMs: leaseRenewIntervalMs(leaseTtlMs),
    reofferEveryMs: opts.reofferIntervalMs ?? REOFFER_INTERVAL_MS,
    keepIdle: opts.keepIdle ?? false,
    sendsMetrics: opts.metricsReports ?? true,
  };
});

export class WorkloadHost {
  readonly #opts: WorkloadHostOptions;
  readonly #ports: WorkloadPorts;
  readonly #config: HostConfig;
  #state: WorkloadState | null = null;
  /** requestId → the lease its running request holds. */
  readonly #leases = new RunningLeases<RunningLease>();
  /**
   * pool → the coordinator incarnation this workload last declared its leases to. A grant from an
   * earlier one (sent before that coordinator restarted, delivered after) is refused: the restarted
   * coordinator was not told of it and may have handed its slot out again.
   */
  #fencesMap: Map<string, number> | null = null;
  /** leaseId → where and what to report; kept until the coordinator acknowledges. */
  #pendingReleasesMap: Map<string, PendingRelease> | null = null;
  #releasingSet: Set<string> | null = null;
  /**
   * The release being sent, and whether its acknowledgement (or failure) came back before the call
   * returned, as an in-process coordinator's does: then nothing needs to be kept pending for it.
   */
  #sendingRelease: string | null = null;
  #releaseAnswer: 'acked' | 'failed' | null = null;
  #releaseFailedAt = 0;
  /**
   * Each pool's offer state: the first pool's in a field, a map only for more (most workloads use one
   * pool, and a process can hold tens of thousands of workload hosts).
   */
  #firstOffer: OfferState | null = null;
  #moreOffers: Map<string, OfferState> | null = null;
  /** How many pools have an offer in flight. */
  #offersInFlight = 0;
  /** Offer replies handled so far, and the time of the last (admit's offer may be answered at once). */
  #offerReplies = 0;
  #lastReplyAt = NaN;
  /**
   * Requests back from a failed dispatch → the backend they failed on and the failed lease, with their
   * earlier failures, until they end (not only until dispatched: a request may fail over again, and a
   * grant issued before its first failure must still not send it back there). A grant on a backend
   * issued before the coordinator had that failed lease back (and so knew of the failure and cooled the
   * backend down) goes back instead of sending the request straight to a dead server, even one that
   * arrives after the acknowledgement (calls can be reordered): the acknowledgement says from which grant
   * on the coordinator knew (Informed). A grant there from then on is its informed choice (the cooldown
   * ended, or the pool has no other backend) and is taken. In memory only: after a restart at worst one
   * more attempt lands there.
   */
  #avoidMap: Map<string, Avoided> | null = null;
  /**
   * The failures of #avoid whose lease the coordinator has not acknowledged yet, by that lease: an
   * acknowledgement finds its failure in one lookup, however many failed-over requests are running.
   */
  #unacknowledged: Map<string, Avoided> | null = null;
  #alarmAt: number | null = null;
  #lastRenewAt = -Infinity;
  /** Per-workload limits (workload-limits.ts): in flight = requests holding a lease here. */
  #limiter = new WorkloadLimiter();
  readonly #epoch: number;
  #reports = 0;

  // Rarely used per-workload maps are made on first write (a router process or the lab can hold tens of
  // thousands of workload hosts, and every empty Map costs about 190 bytes); reads see an empty one.
  get #fences(): ReadonlyMap<string, number> {
    return this.#fencesMap ?? NO_FENCES;
  }

  #writableFences(): Map<string, number> {
    return (this.#fencesMap ??= new Map());
  }

  get #pendingReleases(): ReadonlyMap<string, PendingRelease> {
    return this.#pendingReleasesMap ?? NO_PENDING_RELEASES;
  }

  #writablePendingReleases(): Map<string, PendingRelease> {
    return (this.#pendingReleasesMap ??= new Map());
  }

  get #releasing(): ReadonlySet<string> {
    return this.#releasingSet ?? NO_LEASE_IDS;
  }

  #writableReleasing(): Set<string> {
    return (this.#releasingSet ??= new Set());
  }

  /** The request has ended: its failures no longer matter. */
  #forgetFailures(requestId: string): void {
    const avoid = this.#avoidMap;
    const last = avoid?.get(requestId);
    if (last === undefined) return;
    avoid?.delete(requestId);
    for (let a: Avoided | null = last; a !== null; a = a.earlier)
      if (a.informed === null) this.#unacknowledged?.delete(a.leaseId);
  }

  get #avoid(): ReadonlyMap<string, Avoided> {
    return this.#avoidMap ?? NO_AVOIDED;
  }

  #writableAvoid(): Map<string, Avoided> {
    return (this.#avoidMap ??= new Map());
  }

  constructor(opts: WorkloadHostOptions, ports: WorkloadPorts, saved?: PersistedWorkload, now = 0) {
    this.#opts = opts;
    this.#ports = ports;
    this.#config = hostConfigOf(opts);
    this.#epoch = now;
    if (saved) {
      this.#state = this.#newState(saved.workloadId, now, saved.registry, saved.tally);
      for (const [requestId, leaseId, pool, backend, epoch] of saved.leases) {
        this.#leases.set(requestId, {
          leaseId,
          pool: pool ?? DEFAULT_POOL,
          ...(backend !== undefined ? { backend } : {}),
          ...(epoch !== undefined ? { epoch } : {}),
        });
      }
      for (const [pool, epoch] of saved.fences ?? []) this.#writableFences().set(pool, epoch);
      for (const [leaseId, health, pool] of saved.pendingReleases ?? []) {
        this.#writablePendingReleases().set(leaseId, { health, pool: pool ?? DEFAULT_POOL });
      }
      for (const pool of saved.pools ?? [DEFAULT_POOL]) this.#offerState(pool).listed = true;
      this.#limiter = new WorkloadLimiter(saved.limiter);
      // Renew at once (#lastRenewAt stays -Infinity): when the leases were last renewed is not persisted,
      // and the coordinator's expiry kept running through the restart. Deferring a whole interval from
      // each start let restarts in a row push the renewal past the expiry while the request still ran
      // (found by random runs: a workload restarted twice before its first renewal, over-booking).
      this.#ports.persist();
      this.#armAlarm(now);
    }
  }

  get state(): WorkloadState | null {
    return this.#state;
  }

  /** The workload's state, created empty if this host has none yet. */
  open(workloadId: string, now: number): WorkloadState {
    return this.#ensure(workloadId, now);
  }

  /** Records *new* and queues; the answer comes through ports.reply (at once if it is an end). */
  admit(req: AdmitRequest, now: number): void {
    const state = this.#ensure(req.workloadId, now);
    // The caller's limits (its key's) replace the workload's; a raised maxInFlight may unblock heads.
    if (req.limits !== undefined && this.#limiter.configure(req.limits)) this.#offerQueuedPools(now);
    const rate = this.#limiter.admit(req.tokenEstimate, now);
    if (!rate.ok) {
      state.refuse(
        {
          requestId: req.requestId,
          pool: req.pool,
          criticality: req.criticality,
          tokenEstimate: req.tokenEstimate,
        },
        ENDED.rateLimited,
        now,
      );
      this.#ports.persist();
      this.#ports.reply(req.requestId, {
        kind: 'ended',
        end: ENDED.rateLimited,
        retryAfterSec: rate.retryAfterSec,
      });
      this.#armAlarm(now);
      return;
    }
    // Two literals, not a conditional spread (which builds a temporary object): once per admission.
    const { requestId, pool, criticality, tokenEstimate, weight } = req;
    const admitted = state.admit(
      weight === undefined
        ? { requestId, pool, criticality, tokenEstimate }
        : { requestId, pool, criticality, tokenEstimate, weight },
      now,
      this.#offersInFlight > 0,
    );
    this.#ports.persist();
    if (admitted.kind === 'rejected') {
      this.#ports.reply(req.requestId, this.#endReply(admitted.end, now));
      return;
    }
    const replies = this.#offerReplies;
    this.#offer(req.pool, now);
    // An offer answered before #offer returned (in process) ended by arming from this same state.
    if (this.#offerReplies === replies || this.#lastReplyAt !== now) this.#armAlarm(now);
  }

  /**
   * Failover: hands back the failed lease (its backend's health goes with it, so the coordinator cools
   * that backend down) and queues the request again in its old place; the answer comes through
   * ports.reply like an admit's. A request no longer in flight here (swept as lost, or completed) is
   * answered with its end at once.
   */
  retry(req: RetryRequest, now: number): void {
    // The release rides with the next offer of the pool (see CoordinatorCalls.offer); until that is
    // answered it is pending like any other, so a lost offer leaves it to the alarm's retries.
    // The failed lease is charged nothing: the request is charged again when it is granted anew.
    this.#writablePendingReleases().set(req.failedLeaseId, {
      pool: req.pool,
      health: req.health,
      actualTokens: 0,
    });
    this.#writableReleasing().add(req.failedLeaseId);
    const offer = this.#offerState(req.pool);
    offer.carry = [...offer.carry, { leaseId: req.failedLeaseId, health: req.health }];
    const avoid = this.#writableAvoid();
    const failure: Avoided = {
      backend: req.failedBackend,
      leaseId: req.failedLeaseId,
      informed: null,
      earlier: avoid.get(req.requestId) ?? null,
    };
    avoid.set(req.requestId, failure);
    (this.#unacknowledged ??= new Map()).set(req.failedLeaseId, failure);
    const held = this.#leases.get(req.requestId);
    const blocked = !this.#limiter.allowsStart(this.#leases.size);
    if (held?.leaseId === req.failedLeaseId) this.#leases.delete(req.requestId);
    const state = this.#state;
    const requeued =
      state?.requeue(
        req.requestId,
        {
          pool: req.pool,
          criticality: req.criticality,
          tokenEstimate: req.tokenEstimate,
          ...(req.weight !== undefined ? { weight: req.weight } : {}),
          enqueuedAt: req.enqueuedAt,
        },
        now,
      ) ?? false;
    this.#ports.persist();
    if (!requeued) {
      this.#forgetFailures(req.requestId);
      this.#ports.reply(req.requestId, { kind: 'ended', end: ENDED.leaseExpired });
      return;
    }
    this.#offer(req.pool, now);
    if (blocked) this.#offerQueuedPools(now);
    this.#armAlarm(now);
  }

  /** From a pool's coordinator: one slot for this workload, given to its current head in that pool. */
  grant(pool: string, lease: Lease, now: number): GrantReply {
    const taken = this.#applyGrant(pool, lease, now);
    if (taken) this.#armAlarm(now);
    const state = this.#state;
    // Peeked, not taken: a lost grant reply is never reported back to this host.
    const report = this.#config.sendsMetrics ? state?.tally.peekReport(pool) : undefined;
    const head = this.offeredHead(now, pool);
    const signals = state?.signals(now) ?? {
      requestRatePerSec: 0,
      averageWaitMs: null,
      lastDispatchedAt: null,
    };
    const seq = this.#nextSeq();
    // Two literals, not a conditional spread (which builds a temporary object): once per grant.
    const reply: GrantReply = report ? { taken, head, signals, seq, report } : { taken, head, signals, seq };
    // A refusal that found a failed lease still queued to ride on an offer sends that offer (#applyGrant).
    // After the reply is made: the offer is newer, so the coordinator keeps the offer's head.
    const offer = taken === null ? this.#offerState(pool) : null;
    if (offer !== null && offer.dirty && !offer.inFlight) this.#sendOffer(pool, now);
    return reply;
  }

  /**
   * Records *completed* exactly once and hands the lease back with what was learned of the backend.
   * `leaseId` comes from the caller too, so the slot is freed even when this host no longer knows the
   * request (it restarted between the grant and its next write).
   */
  complete(
    requestId: string,
    end: Ended,
    health: BackendHealth | null,
    lease: HeldLease | undefined,
    now: number,
    usage?: TokenUsage | null,
  ): CompleteReply {
    const state = this.#state;
    const queuedIn = state?.poolOfQueued(requestId);
    const recorded = state?.complete(requestId, end, now, usage) ?? false;
    if (this.#avoid.size > 0) this.#forgetFailures(requestId);
    // Only a queued request still waits for its admit reply.
    if (queuedIn !== undefined) this.#resolve(requestId, { kind: 'ended', end });
    const held = this.#leases.get(requestId) ?? lease;
    const blocked = !this.#limiter.allowsStart(this.#leases.size);
    this.#leases.delete(requestId);
    this.#ports.persist();
    const charge = chargeAtEnd(end, usage);
    if (held !== undefined) this.#release(held.pool, held.leaseId, health, charge);
    if (queuedIn !== undefined) this.#offer(queuedIn, now);
    // A head held back by maxInFlight is offered again now that one of the workload's slots is free.
    if (blocked) this.#offerQueuedPools(now);
    this.#armAlarm(now);
    return { recorded };
  }

  /**
   * The Worker's heartbeat for a running request: keeps it from being swept as lost. Its lease is
   * renewed at the coordinator with all of this workload's others, once per renew interval (alarm).
   */
  touch(requestId: string, now: number): boolean {
    const live = this.#state?.touch(requestId, now) ?? false;
    if (live) this.#ports.persist();
    return live;
  }

  /** Sweeps, retries releases, renews leases, re-offers, and deletes the workload once idle. */
  alarm(now: number): SweepResult {
    this.#alarmAt = null;
    const state = this.#state;
    if (!state) return { evicted: [], lost: [] };
    const { evicted, lost } = state.sweep(now);
    if (this.#avoid.size > 0) for (const id of [...evicted, ...lost]) this.#forgetFailures(id);
    for (const id of evicted) this.#resolve(id, this.#endReply(ENDED.ttlExpired, now));
    for (const id of lost) {
      const held = this.#leases.get(id);
      this.#leases.delete(id);
      if (held !== undefined)
        this.#writablePendingReleases().set(held.leaseId, { pool: held.pool, health: null });
    }
    this.#ports.persist();
    // A due deadline may be a head change by aging alone; a waiting head is re-offered on every beat.
    // Re-offer before releasing: a slot freed here must be weighed against this workload's new head (the
    // TTL may just have taken the old one), not granted for a head that is gone.
    if (state.queueSize > 0 || evicted.length > 0)
      for (const pool of this.#poolList()) this.#offer(pool, now);
    for (const [leaseId, { pool, health, actualTokens }] of this.#pendingReleases) {
      this.#release(pool, leaseId, health, actualTokens);
    }
    if (this.#leases.size > 0 && now >= this.#lastRenewAt + this.#config.renewEveryMs) {
      this.#lastRenewAt = now;
      const byPool = new Map<string, DeclaredLease[]>();
      for (const lease of this.#leases.values()) {
        const held = byPool.get(lease.pool) ?? [];
        held.push(declared(lease));
        byPool.set(lease.pool, held);
      }
      for (const [pool, held] of byPool)
        this.#ports.coordinator.renew(
          pool,
          state.workloadId,
          held,
          this.#config.sendsMetrics ? state.tally.peekReport(pool) : undefined,
        );
    }
    if (
      !this.#opts.keepIdle &&
      state.isEvictable(now) &&
      this.#pendingReleases.size === 0 &&
      state.queueSize === 0
    ) {
      this.#state = null;
      this.#ports.deleteState();
      for (const pool of this.#poolList()) {
        this.#ports.coordinator.forget(
          pool,
          state.workloadId,
          this.#config.sendsMetrics ? state.tally.takeReport(pool) : undefined,
        );
      }
      return { evicted, lost };
    }
    // Counts no message carried yet (a rejection at the door sends nothing) ride on a re-offer.
    if (this.#config.sendsMetrics)
      for (const pool of state.tally.unreportedPools()) if (this.#isListed(pool)) this.#offer(pool, now);
    this.#armAlarm(now);
    return { evicted, lost };
  }

  onOfferReply(pool: string, reply: OfferReply, now: number): void {
    this.#offerReplies++;
    this.#lastReplyAt = now;
    const offer = this.#offerState(pool);
    this.#landed(offer);
    if (offer.carrying.length > 0) {
      for (const carried of offer.carrying) this.onReleased(carried.leaseId, reply.informed);
      offer.carrying = NOTHING_CARRIED;
    }
    for (const lease of reply.grants) {
      if (this.#applyGrant(pool, lease, now)) offer.dirty = true;
      else this.#release(pool, lease.leaseId, null);
    }
    if (reply.poolDownUntil !== null) {
      const retryAfterSec = Math.max(1, Math.ceil((reply.poolDownUntil - now) / 1000));
      const evicted = this.#state?.evictPool(pool, now) ?? [];
      for (const id of evicted) {
        this.#forgetFailures(id);
        this.#resolve(id, { kind: 'ended', end: ENDED.poolDown, retryAfterSec });
      }
      // The coordinator must hear that the head is gone (it would otherwise keep offering it slots).
      if (evicted.length > 0) {
        offer.dirty = true;
        this.#ports.persist();
      }
    }
    // Held admissions wait while a pool still has room (the next round's grants may take them) and while
    // any other pool's offer is on its way.
    if ((reply.freeSlots === 0 || !offer.dirty) && this.#offersInFlight === 0) this.#settleHeld(now);
    if (this.#moreOffers === null) {
      if (offer.dirty && !offer.inFlight) this.#sendOffer(pool, now);
    } else {
      for (const o of this.#allOffers()) if (o.dirty && !o.inFlight) this.#sendOffer(o.pool, now);
    }
    this.#armAlarm(now);
  }

  /** The offer did not arrive: the alarm re-offers within the re-offer interval. */
  onOfferFailed(pool: string, now: number): void {
    const offer = this.#offerState(pool);
    this.#landed(offer);
    this.#state?.tally.reportLost(pool);
    // The carried releases stay pending: the alarm sends them on their own.
    if (offer.carrying.length > 0) {
      for (const carried of offer.carrying) this.#releasingSet?.delete(carried.leaseId);
      offer.carrying = NOTHING_CARRIED;
    }
    if (this.#offersInFlight === 0) this.#settleHeld(now);
    offer.dirty = false;
    this.#armAlarm(now);
  }

  /** `informed`: where the coordinator stood once it had the lease (absent from an older version). */
  onReleased(leaseId: string, informed?: Informed): void {
    if (leaseId === this.#sendingRelease) this.#releaseAnswer = 'acked';
    const failure = this.#unacknowledged?.get(leaseId);
    if (failure !== undefined) {
      // An older coordinator does not say: stop avoiding at its acknowledgement, as before.
      failure.informed = informed ?? ACKNOWLEDGED;
      this.#unacknowledged?.delete(leaseId);
    }
    this.#releasingSet?.delete(leaseId);
    if (this.#pendingReleasesMap?.delete(leaseId)) this.#ports.persist();
  }

  /** Kept pending; the alarm retries it. */
  onReleaseFailed(leaseId: string, now: number): void {
    if (leaseId === this.#sendingRelease) {
      // Failed before the call returned: #release records it pending, then arms as below.
      this.#releaseAnswer = 'failed';
      this.#releaseFailedAt = now;
      return;
    }
    this.#releasingSet?.delete(leaseId);
    const pool = this.#pendingReleases.get(leaseId)?.pool;
    if (pool !== undefined) this.#state?.tally.reportLost(pool);
    this.#armAlarm(now);
  }

  /**
   * Leases the coordinator no longer holds belong to requests it has presumed lost (its lease expired
   * while renewals could not get through), or to requests that have ended (a restored workload can
   * declare a lease its predecessor already released). Their slots are already free; nothing else to do
   * but stop renewing them, which happens when the requests end.
   */
  onRenewReply(_reply: RenewReply): void {}

  /**
   * A restarted coordinator of `pool` (incarnation `epoch`) asks what this workload holds there. From
   * now on grants of its predecessors are refused, so the answer stays complete; the fence is written
   * before the answer leaves, so a restart of this workload does not forget it.
   */
  heldLeases(pool: string, epoch: number): DeclaredLease[] {
    if (epoch > (this.#fences.get(pool) ?? -Infinity)) {
      this.#writableFences().set(pool, epoch);
      this.#ports.persist(true);
    }
    const held: DeclaredLease[] = [];
    for (const lease of this.#leases.values()) if (lease.pool === pool) held.push(declared(lease));
    return held;
  }

  describe(now: number): WorkloadDescription | null {
    const state = this.#state;
    if (!state) return null;
    const queues = this.#poolList()
      .sort()
      .map((pool) => ({
        pool,
        queued: state.queueSizeOf(pool),
        head: state.head(now, pool),
      }));
    const description = { workloadId: state.workloadId, metrics: state.metrics(now), queues };
    return this.#limiter.snapshot() === undefined
      ? description
      : { ...description, limits: this.#limiter.view(now) };
  }

  /** What the host persists; null once the workload is gone. */
  persisted(): PersistedWorkload | null {
    const state = this.#state;
    if (!state) return null;
    return {
      workloadId: state.workloadId,
      registry: state.snapshot(),
      leases: [...this.#leases.entries()].map(
        ([requestId, { leaseId, pool, backend, epoch }]) =>
          [requestId, leaseId, pool, backend, epoch] as const,
      ),
      ...(this.#fences.size > 0 ? { fences: [...this.#fences] } : {}),
      pendingReleases: [...this.#pendingReleases].map(
        ([leaseId, { health, pool }]) => [leaseId, health, pool] as const,
      ),
      pools: this.#poolList(),
      ...this.#limiterSnapshot(),
      tally: state.tally.snapshot(),
    };
  }

  #limiterSnapshot(): { limiter?: NonNullable<PersistedWorkload['limiter']> } {
    const limiter = this.#limiter.snapshot();
    return limiter === undefined ? {} : { limiter };
  }

  /** The head this workload offers a pool: none while maxInFlight of its requests are running. */
  offeredHead(now: number, pool: string = DEFAULT_POOL): HeadView | null {
    if (!this.#limiter.allowsStart(this.#leases.size)) return null;
    return this.#state?.head(now, pool) ?? null;
  }

  #offerQueuedPools(now: number): void {
    for (const pool of this.#state?.pools() ?? []) this.#offer(pool, now);
  }

  #ensure(workloadId: string, now: number): WorkloadState {
    if (!this.#state) this.#state = this.#newState(workloadId, now);
    return this.#state;
  }

  #newState(
    workloadId: string,
    now: number,
    snapshot?: RegistrySnapshot,
    tally?: TallySnapshot,
  ): WorkloadState {
    return new WorkloadState(workloadId, this.#opts, snapshot, now, tally);
  }

  /**
   * Gives a granted slot to the current head; null (the slot goes back) when nothing is queued, or when
   * the grant arrives too late to be renewed before its lease expires: the coordinator may already have
   * handed that slot to someone else, and running on it would over-book the backend.
   */
  #applyGrant(pool: string, lease: Lease, now: number): { requestId: string; waitMs: number } | null {
    // Half a TTL left leaves a quarter of one as slack for a late alarm before the next renewal beat.
    if (now + this.#config.leaseTtlMs / 2 >= lease.expiresAt) return null;
    // From a coordinator that has restarted since: its successor does not count this slot.
    const fence = this.#fences.size > 0 ? this.#fences.get(pool) : undefined;
    if (fence !== undefined && (lease.epoch ?? 0) < fence) return null;
    // At maxInFlight the slot goes back; the head is offered again when a request of this one ends.
    if (!this.#limiter.allowsStart(this.#leases.size)) return null;
    // Only after a failover is there anything to avoid (the common path stays one lookup lighter).
    const head = this.#avoid.size > 0 ? this.#state?.head(now, pool) : undefined;
    const avoid = head ? failureAgainst(lease, this.#avoid.get(head.requestId)) : undefined;
    if (avoid !== undefined) {
      // Make sure the failure is on its way (a lost offer may have carried it), so this stops soon.
      const pending = this.#pendingReleases.get(avoid.leaseId);
      if (pending && !this.#releasing.has(avoid.leaseId)) {
        this.#release(pending.pool, avoid.leaseId, pending.health);
      } else if (pending) {
        // Queued to ride on the pool's next offer, which has not left (the last one failed, so the alarm
        // would send it): until the coordinator has it, it may grant this backend to this head again
        // and again. The offer goes now (see grant and onOfferReply).
        const offer = this.#offerState(pending.pool);
        if (offer.carry.some((c) => c.leaseId === avoid.leaseId)) offer.dirty = true;
      }
      return null;
    }
    const taken = this.#state?.dispatchHead(now, pool) ?? null;
    if (!taken) return null;
    if (this.#leases.size === 0) this.#lastRenewAt = now;
    this.#leases.set(
      taken.requestId,
      lease.epoch === undefined
        ? { pool, leaseId: lease.leaseId, backend: lease.backend }
        : { pool, leaseId: lease.leaseId, backend: lease.backend, epoch: lease.epoch },
    );
    // Durable before the grant reaches the Worker: a restarted coordinator counts this slot from here.
    this.#ports.persist(true);
    this.#resolve(taken.requestId, {
      kind: 'granted',
      leaseId: lease.leaseId,
      backend: lease.backend,
      waitMs: taken.waitMs,
      enqueuedAt: taken.enqueuedAt,
    });
    return taken;
  }

  /**
   * Offers the current head. Offers asked for while one is in flight coalesce into one more round with
   * the then-current head, so the coordinator's last word from this workload is always its latest head.
   */
  #offer(pool: string, now: number): void {
    const offer = this.#offerState(pool);
    offer.dirty = true;
    if (!offer.inFlight) this.#sendOffer(pool, now);
  }

  #sendOffer(pool: string, now: number): void {
    const state = this.#state;
    const offer = this.#offerState(pool);
    offer.dirty = false;
    if (!state) return;
    offer.inFlight = true;
    this.#offersInFlight++;
    // Hot path: no allocation when nothing rides along (almost always).
    if (offer.carry.length > 0) {
      offer.carrying = offer.carry;
      offer.carry = NOTHING_CARRIED;
    }
    if (!offer.listed) {
      offer.listed = true;
      this.#ports.persist();
    }
    // Last statement: an in-process coordinator may answer (re-entering this host) before it returns.
    this.#ports.coordinator.offer(
      pool,
      state.workloadId,
      this.offeredHead(now, pool),
      state.signals(now),
      this.#nextSeq(),
      offer.carrying,
      this.#config.sendsMetrics ? state.tally.takeReport(pool) : undefined,
    );
  }

  #offerState(pool: string): OfferState {
    const first = this.#firstOffer;
    if (first !== null && first.pool === pool) return first;
    let offer = this.#moreOffers?.get(pool);
    if (offer === undefined) {
      offer = offerState(pool, false);
      if (first === null) this.#firstOffer = offer;
      else (this.#moreOffers ??= new Map()).set(pool, offer);
    }
    return offer;
  }

  /** Every pool's offer state, in the order the pools were first seen. */
  #allOffers(): OfferState[] {
    const first = this.#firstOffer;
    if (first === null) return [];
    return this.#moreOffers === null ? [first] : [first, ...this.#moreOffers.values()];
  }

  /** The pools this workload has offered to (see OfferState.listed). */
  #poolList(): string[] {
    return this.#allOffers()
      .filter((o) => o.listed)
      .map((o) => o.pool);
  }

  #isListed(pool: string): boolean {
    const first = this.#firstOffer;
    return first !== null && first.pool === pool
      ? first.listed
      : (this.#moreOffers?.get(pool)?.listed ?? false);
  }

  /** The offer in flight came back (answered or failed). */
  #landed(offer: OfferState): void {
    if (offer.inFlight) this.#offersInFlight--;
    offer.inFlight = false;
  }

  #nextSeq(): HeadSeq {
    return { epoch: this.#epoch, n: ++this.#reports };
  }

  /** Held admissions are judged once no grant that could make room for them is on its way. */
  #settleHeld(now: number): void {
    const state = this.#state;
    if (!state || state.heldCount === 0) return;
    const pools = new Map(state.heldIds().map((id) => [id, state.poolOfQueued(id)]));
    const rejected = state.settleHeld(now);
    for (const id of rejected) {
      this.#resolve(id, this.#endReply(ENDED.queueFull, now));
      // It may have been the head that pool's coordinator was told about.
      const pool = pools.get(id);
      if (pool !== undefined) this.#offerState(pool).dirty = true;
    }
    this.#ports.persist();
  }

  /** Hands a lease back; it stays pending until the coordinator acknowledges. */
  #release(pool: string, leaseId: string, health: BackendHealth | null, actualTokens?: number): void {
    if (this.#releasing.has(leaseId)) {
      this.#writablePendingReleases().set(leaseId, pendingRelease(pool, health, actualTokens));
      return;
    }
    // Sent first, recorded after (in the same turn, so what is persisted is the same): an answer that
    // comes back before the call returns (in process) then leaves nothing to record. Nested releases
    // (a coordinator that answers at once may grant to this host meanwhile) keep their own answer.
    const outer = this.#sendingRelease;
    const outerAnswer = this.#releaseAnswer;
    this.#sendingRelease = leaseId;
    this.#releaseAnswer = null;
    this.#ports.coordinator.release(
      pool,
      leaseId,
      health,
      actualTokens,
      this.#config.sendsMetrics ? this.#state?.tally.takeReport(pool) : undefined,
    );
    const answer = this.#releaseAnswer;
    this.#sendingRelease = outer;
    this.#releaseAnswer = outerAnswer;
    if (answer === 'acked') return;
    this.#writablePendingReleases().set(leaseId, pendingRelease(pool, health, actualTokens));
    if (answer === null) this.#writableReleasing().add(leaseId);
    this.#ports.persist();
    if (answer === 'failed') {
      this.#state?.tally.reportLost(pool);
      this.#armAlarm(this.#releaseFailedAt);
    }
  }

  /** Replies to a request that is waiting for its admit reply (queued), exactly once per admission. */
  #resolve(requestId: string, reply: AdmitReply): void {
    this.#ports.reply(requestId, reply);
  }

  #endReply(end: Ended, now: number): AdmitReply {
    return { kind: 'ended', end, retryAfterSec: this.#state?.retryAfterSec(now) ?? 1 };
  }

  #armAlarm(now: number): void {
    const state = this.#state;
    if (!state) return;
    let next = state.nextDeadline(now, !this.#config.keepIdle) ?? Infinity;
    if (
      state.queueSize > 0 ||
      this.#pendingReleases.size > 0 ||
      (this.#config.sendsMetrics && state.tally.hasUnreported())
    )
      next = Math.min(next, now + this.#config.reofferEveryMs);
    if (this.#leases.size > 0)
      next = Math.min(next, Math.max(now, this.#lastRenewAt + this.#config.renewEveryMs));
    if (!Number.isFinite(next)) return;
    // Only move the alarm earlier; a late-firing alarm just re-arms, so extra writes are not worth it.
    if (this.#alarmAt !== null && this.#alarmAt <= next && this.#alarmAt > now) return;
    this.#alarmAt = next;
    this.#ports.setAlarm(next);
  }
}
