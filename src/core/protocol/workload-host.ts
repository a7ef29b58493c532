// The workload side of the protocol: one workload's state (registry entry + queue) plus everything it
// must remember to talk to its coordinator correctly: which lease each running request holds, releases
// not yet acknowledged, offers in flight, held admissions, the alarm. A WorkloadDO hosts one of these;
// so does the in-process scheduler. It performs no I/O: calls leave through ports and their replies come
// back through the on* methods, so tests can deliver them in any order, late, or never.

import { DEFAULT_LEASE_TTL_MS, leaseRenewIntervalMs, REOFFER_INTERVAL_MS } from '../defaults.ts';
import type { Lease } from '../dispatcher.ts';
import { ENDED, type Ended } from '../outcome.ts';
import type { HeadView, WorkloadSignals } from '../policy/types.ts';
import type { RegistrySnapshot } from '../registry-entry.ts';
import { WorkloadState, type SweepResult, type WorkloadStateOptions } from '../workload-state.ts';
import type {
  AdmitReply,
  AdmitRequest,
  BackendHealth,
  CompleteReply,
  GrantReply,
  HeadSeq,
  OfferReply,
  RenewReply,
  WorkloadDescription,
} from './messages.ts';

/** Calls to the workload's coordinator. Each reply MUST be fed back through the matching on* method. */
export interface CoordinatorCalls {
  /** → onOfferReply / onOfferFailed. At most one offer per host is in flight at a time. */
  offer(workloadId: string, head: HeadView | null, signals: WorkloadSignals, seq: HeadSeq): void;
  /** → onReleased / onReleaseFailed. Idempotent at the coordinator, so retries are safe. */
  release(leaseId: string, health: BackendHealth | null): void;
  /** → onRenewReply (a lost renewal is simply superseded by the next one). */
  renew(leaseIds: readonly string[]): void;
  /** The workload deleted itself; fire and forget. */
  forget(workloadId: string): void;
}

export interface WorkloadPorts {
  readonly coordinator: CoordinatorCalls;
  /** The answer to a pending admit (exactly one per admitted request that is still waiting). */
  reply(requestId: string, reply: AdmitReply): void;
  /** State changed: persist `persisted()` (the host may coalesce writes). */
  persist(): void;
  /** Call alarm() at `at`. The host asks only when the new time is earlier than the one pending. */
  setAlarm(at: number): void;
  /** The workload was idle and is gone: delete its storage. */
  deleteState(): void;
}

export interface WorkloadHostOptions extends WorkloadStateOptions {
  readonly leaseTtlMs?: number;
  /** Infinity where offers cannot be lost (the in-process scheduler). */
  readonly reofferIntervalMs?: number;
  /** Never delete the workload when idle (the in-process scheduler keeps every number readable). */
  readonly keepIdle?: boolean;
}

export interface PersistedWorkload {
  readonly workloadId: string;
  readonly registry: RegistrySnapshot;
  /** requestId → leaseId for requests in flight, so completion after a restart still frees the slot. */
  readonly leases: ReadonlyArray<readonly [string, string]>;
  /** Releases the coordinator has not acknowledged yet; retried by the alarm. */
  readonly pendingReleases?: ReadonlyArray<readonly [string, BackendHealth | null]>;
}

export class WorkloadHost {
  readonly #opts: WorkloadHostOptions;
  readonly #ports: WorkloadPorts;
  readonly #renewEveryMs: number;
  readonly #leaseTtlMs: number;
  readonly #reofferEveryMs: number;
  #state: WorkloadState | null = null;
  readonly #leases = new Map<string, string>();
  /** leaseId → health to report; kept until the coordinator acknowledges. */
  readonly #pendingReleases = new Map<string, BackendHealth | null>();
  readonly #releasing = new Set<string>();
  /** Admitted requests whose admit reply is still owed. */
  readonly #waiting = new Set<string>();
  #offerInFlight = false;
  #offerDirty = false;
  #alarmAt: number | null = null;
  #lastRenewAt = -Infinity;
  readonly #epoch: number;
  #reports = 0;

  constructor(opts: WorkloadHostOptions, ports: WorkloadPorts, saved?: PersistedWorkload, now = 0) {
    this.#opts = opts;
    this.#ports = ports;
    this.#leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#renewEveryMs = leaseRenewIntervalMs(this.#leaseTtlMs);
    this.#reofferEveryMs = opts.reofferIntervalMs ?? REOFFER_INTERVAL_MS;
    this.#epoch = now;
    if (saved) {
      this.#state = this.#newState(saved.workloadId, now, saved.registry);
      for (const [requestId, leaseId] of saved.leases) this.#leases.set(requestId, leaseId);
      for (const [leaseId, health] of saved.pendingReleases ?? []) this.#pendingReleases.set(leaseId, health);
      // Renew at the next beat, not at once: a restored coordinator lease has a full TTL ahead of it.
      this.#lastRenewAt = now;
      this.#ports.persist();
      this.#armAlarm(now);
    }
  }

  get workloadId(): string | null {
    return this.#state?.workloadId ?? null;
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
    const admitted = state.admit(
      { requestId: req.requestId, criticality: req.criticality, tokenEstimate: req.tokenEstimate },
      now,
      this.#offerInFlight,
    );
    this.#ports.persist();
    if (admitted.kind === 'rejected') {
      this.#ports.reply(req.requestId, this.#endReply(admitted.end, now));
      return;
    }
    this.#waiting.add(req.requestId);
    this.#offer(now);
    this.#armAlarm(now);
  }

  /** From the coordinator: one slot for this workload, given to the current head. */
  grant(lease: Lease, now: number): GrantReply {
    const taken = this.#applyGrant(lease, now);
    if (taken) this.#armAlarm(now);
    const state = this.#state;
    return {
      taken,
      head: state?.head(now) ?? null,
      signals: state?.signals(now) ?? { requestRatePerSec: 0, averageWaitMs: null, lastDispatchedAt: null },
      seq: this.#nextSeq(),
    };
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
    leaseId: string | undefined,
    now: number,
  ): CompleteReply {
    const state = this.#state;
    const wasQueued = state?.isQueued(requestId) ?? false;
    const recorded = state?.complete(requestId, end, now) ?? false;
    this.#resolve(requestId, { kind: 'ended', end });
    const lease = this.#leases.get(requestId) ?? leaseId;
    this.#leases.delete(requestId);
    this.#ports.persist();
    if (lease !== undefined) this.#release(lease, health);
    if (wasQueued) this.#offer(now);
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
    for (const id of evicted) this.#resolve(id, this.#endReply(ENDED.ttlExpired, now));
    for (const id of lost) {
      const leaseId = this.#leases.get(id);
      this.#leases.delete(id);
      if (leaseId !== undefined) this.#pendingReleases.set(leaseId, null);
    }
    this.#ports.persist();
    // A due deadline may be a head change by aging alone; a waiting head is re-offered on every beat.
    // Re-offer before releasing: a slot freed here must be weighed against this workload's new head (the
    // TTL may just have taken the old one), not granted for a head that is gone.
    if (state.queueSize > 0 || evicted.length > 0) this.#offer(now);
    for (const [leaseId, health] of this.#pendingReleases) this.#release(leaseId, health);
    if (this.#leases.size > 0 && now >= this.#lastRenewAt + this.#renewEveryMs) {
      this.#lastRenewAt = now;
      this.#ports.coordinator.renew([...this.#leases.values()]);
    }
    if (
      !this.#opts.keepIdle &&
      state.isEvictable(now) &&
      this.#pendingReleases.size === 0 &&
      this.#waiting.size === 0
    ) {
      this.#state = null;
      this.#ports.deleteState();
      this.#ports.coordinator.forget(state.workloadId);
      return { evicted, lost };
    }
    this.#armAlarm(now);
    return { evicted, lost };
  }

  onOfferReply(reply: OfferReply, now: number): void {
    this.#offerInFlight = false;
    for (const lease of reply.grants) {
      if (this.#applyGrant(lease, now)) this.#offerDirty = true;
      else this.#release(lease.leaseId, null);
    }
    // Held admissions wait while the pool still has room: the next round's grants may take them.
    if (reply.freeSlots === 0 || !this.#offerDirty) this.#settleHeld(now);
    if (this.#offerDirty) this.#sendOffer(now);
    this.#armAlarm(now);
  }

  /** The offer did not arrive: the alarm re-offers within the re-offer interval. */
  onOfferFailed(now: number): void {
    this.#offerInFlight = false;
    this.#settleHeld(now);
    this.#offerDirty = false;
    this.#armAlarm(now);
  }

  onReleased(leaseId: string): void {
    this.#releasing.delete(leaseId);
    if (this.#pendingReleases.delete(leaseId)) this.#ports.persist();
  }

  /** Kept pending; the alarm retries it. */
  onReleaseFailed(leaseId: string, now: number): void {
    this.#releasing.delete(leaseId);
    this.#armAlarm(now);
  }

  /**
   * Leases the coordinator no longer holds belong to requests it has presumed lost (its lease expired
   * while renewals could not get through). Their slots are already free; nothing else to do but stop
   * renewing them, which happens when the requests end.
   */
  onRenewReply(_reply: RenewReply): void {}

  describe(now: number): WorkloadDescription | null {
    const state = this.#state;
    if (!state) return null;
    return { workloadId: state.workloadId, metrics: state.metrics(now), head: state.head(now) };
  }

  /** What the host persists; null once the workload is gone. */
  persisted(): PersistedWorkload | null {
    const state = this.#state;
    if (!state) return null;
    return {
      workloadId: state.workloadId,
      registry: state.snapshot(),
      leases: [...this.#leases.entries()],
      pendingReleases: [...this.#pendingReleases.entries()],
    };
  }

  /** Leases held by running requests (for tests and the in-process scheduler). */
  leaseOf(requestId: string): string | undefined {
    return this.#leases.get(requestId);
  }

  get pendingReleaseCount(): number {
    return this.#pendingReleases.size;
  }

  #ensure(workloadId: string, now: number): WorkloadState {
    if (!this.#state) this.#state = this.#newState(workloadId, now);
    return this.#state;
  }

  #newState(workloadId: string, now: number, snapshot?: RegistrySnapshot): WorkloadState {
    return new WorkloadState(workloadId, this.#opts, snapshot, now);
  }

  /**
   * Gives a granted slot to the current head; null (the slot goes back) when nothing is queued, or when
   * the grant arrives too late to be renewed before its lease expires: the coordinator may already have
   * handed that slot to someone else, and running on it would over-book the backend.
   */
  #applyGrant(lease: Lease, now: number): { requestId: string; waitMs: number } | null {
    // Half a TTL left leaves a quarter of one as slack for a late alarm before the next renewal beat.
    if (now + this.#leaseTtlMs / 2 >= lease.expiresAt) return null;
    const taken = this.#state?.dispatchHead(now) ?? null;
    if (!taken) return null;
    if (this.#leases.size === 0) this.#lastRenewAt = now;
    this.#leases.set(taken.requestId, lease.leaseId);
    this.#ports.persist();
    this.#resolve(taken.requestId, {
      kind: 'granted',
      leaseId: lease.leaseId,
      backend: lease.backend,
      waitMs: taken.waitMs,
    });
    return taken;
  }

  /**
   * Offers the current head. Offers asked for while one is in flight coalesce into one more round with
   * the then-current head, so the coordinator's last word from this workload is always its latest head.
   */
  #offer(now: number): void {
    this.#offerDirty = true;
    if (!this.#offerInFlight) this.#sendOffer(now);
  }

  #sendOffer(now: number): void {
    const state = this.#state;
    this.#offerDirty = false;
    if (!state) return;
    this.#offerInFlight = true;
    // Last statement: an in-process coordinator may answer (re-entering this host) before it returns.
    this.#ports.coordinator.offer(state.workloadId, state.head(now), state.signals(now), this.#nextSeq());
  }

  #nextSeq(): HeadSeq {
    return { epoch: this.#epoch, n: ++this.#reports };
  }

  /** Held admissions are judged once no grant that could make room for them is on its way. */
  #settleHeld(now: number): void {
    const state = this.#state;
    if (!state || state.heldCount === 0) return;
    const rejected = state.settleHeld(now);
    for (const id of rejected) this.#resolve(id, this.#endReply(ENDED.queueFull, now));
    // A rejected request may have been the head the coordinator was told about.
    if (rejected.length > 0) this.#offerDirty = true;
    this.#ports.persist();
  }

  /** Hands a lease back; it stays pending until the coordinator acknowledges. */
  #release(leaseId: string, health: BackendHealth | null): void {
    this.#pendingReleases.set(leaseId, health);
    if (this.#releasing.has(leaseId)) return;
    this.#releasing.add(leaseId);
    this.#ports.persist();
    this.#ports.coordinator.release(leaseId, health);
  }

  #resolve(requestId: string, reply: AdmitReply): void {
    if (!this.#waiting.delete(requestId)) return;
    this.#ports.reply(requestId, reply);
  }

  #endReply(end: Ended, now: number): AdmitReply {
    return { kind: 'ended', end, retryAfterSec: this.#state?.retryAfterSec(now) ?? 1 };
  }

  #armAlarm(now: number): void {
    const state = this.#state;
    if (!state) return;
    let next = state.nextDeadline(now, !this.#opts.keepIdle) ?? Infinity;
    if (state.queueSize > 0 || this.#pendingReleases.size > 0)
      next = Math.min(next, now + this.#reofferEveryMs);
    if (this.#leases.size > 0) next = Math.min(next, Math.max(now, this.#lastRenewAt + this.#renewEveryMs));
    if (!Number.isFinite(next)) return;
    // Only move the alarm earlier; a late-firing alarm just re-arms, so extra writes are not worth it.
    if (this.#alarmAt !== null && this.#alarmAt <= next && this.#alarmAt > now) return;
    this.#alarmAt = next;
    this.#ports.setAlarm(next);
  }
}
