// The coordinator side of the protocol: a pool's Dispatcher plus what it must remember to talk to the
// workloads correctly: the newest head report seen from each workload (the stale-report rule), the set of
// known workloads, the recovery after a restart, the alarm. A CoordinatorDO hosts one of these; so does
// the in-process scheduler. No I/O: grants leave through a port, their replies come back via on* methods.
//
// Leases live in memory only. Each workload keeps its own running requests' leases durably (written
// before a grant reaches its Worker), so the pool-wide object makes no storage write per request. After a
// restart the coordinator grants nothing until every known workload has declared what it holds (or one
// lease TTL has passed, by when any lease not declared or renewed would have expired anyway).

import { Dispatcher, type DispatcherOptions, type Lease, type WorkloadRecord } from '../dispatcher.ts';
import type { BackendState } from '../backend-pool.ts';
import type { EngineLoad } from '../engine-load.ts';
import type { HeadView, WorkloadSignals } from '../policy/types.ts';
import {
  type BackendHealth,
  type CarriedRelease,
  type DeclaredLease,
  type GrantReply,
  type HeadSeq,
  type Informed,
  type OfferReply,
  type ReleaseReply,
  type RenewReply,
} from './messages.ts';
import { PoolSummary, type PoolMetricsSnapshot } from '../metrics/pool-summary.ts';
import { RECOVERY_ASKS_IN_FLIGHT } from '../defaults.ts';
import type { MetricsReport } from '../metrics/workload-tally.ts';

const NO_GRANTS: readonly Lease[] = Object.freeze([]);

export interface CoordinatorPorts {
  /** Delivers a grant to its workload. The reply MUST come back through onGrantReply / onGrantFailed. */
  grant(lease: Lease): void;
  /**
   * After a restart: asks a known workload which of this pool's leases it holds, telling it this
   * incarnation's epoch. The answer MUST come back through onLeasesHeld or onAskFailed.
   */
  askLeases(workloadId: string, epoch: number): void;
  /**
   * The set of workloads that have offered here (the admin listing, and whom to ask after a restart).
   * Durable, and written before anything leaves: no workload is granted a slot before it is listed.
   */
  addWorkload(workloadId: string): void;
  deleteWorkload(workloadId: string): void;
  /** Call alarm() at `at`. */
  setAlarm(at: number): void;
  /** Something an operator should know (a lease expired unreleased, a grant failed). */
  warn(message: string): void;
  /**
   * Reads a backend's engine metrics. The result MUST come back through onScrape (with the time the
   * scrape started) or onScrapeFailed. Only called when the host reads metrics.
   */
  scrape(backend: string): void;
  /**
   * Checks a backend's health endpoint. The answer MUST come back through onProbe. Only called for a
   * backend whose cooldown is over (probing on), so no live request is spent finding out.
   */
  probe(backend: string): void;
  /** A backend moved between healthy, cooling, probing and half-open (for the operator's log). */
  healthChanged(change: BackendHealthChange): void;
}

export interface BackendHealthChange {
  readonly backend: string;
  readonly from: BackendState;
  readonly to: BackendState;
  readonly consecutiveFailures: number;
}

/**
 * Ports for a coordinator that keeps nothing outside its memory and reads no engine (the in-process
 * scheduler and tests): everything but the grant delivery does nothing.
 */
export const IN_MEMORY_COORDINATOR_PORTS: Omit<CoordinatorPorts, 'grant'> = Object.freeze({
  askLeases: () => undefined,
  addWorkload: () => undefined,
  deleteWorkload: () => undefined,
  setAlarm: () => undefined,
  warn: () => undefined,
  scrape: () => undefined,
  probe: () => undefined,
  healthChanged: () => undefined,
});

export interface CoordinatorSaved {
  /** Leases a version that wrote them per grant left in storage; restored once, then never written. */
  readonly leases?: readonly Lease[];
  readonly workloads: readonly string[];
}

export interface CoordinatorStats {
  readonly leases: number;
  readonly ready: number;
  readonly freeSlots: number;
  /** Workloads a restarted coordinator still waits to hear from before it grants again (0: serving). */
  readonly recovering: number;
}

/** After a restart: whom the coordinator still waits for, and until when at most. */
interface Recovery {
  readonly until: number;
  /** Known workloads that have not answered an ask yet (the answer comes with their fence). */
  readonly waiting: Set<string>;
  /**
   * Workloads to ask, taken from the end as earlier asks come back (RECOVERY_ASKS_IN_FLIGHT at a time); a
   * workload that renews meanwhile is pushed onto the end, so it is asked next.
   */
  readonly toAsk: string[];
  /** Asked, with no answer (or failure) yet. */
  readonly asked: Set<string>;
}

export class CoordinatorHost {
  readonly dispatcher: Dispatcher;
  /** What /metrics reads: fed by the reports riding on workloads' messages and by this host's events. */
  readonly metrics = new PoolSummary();
  readonly #ports: CoordinatorPorts;
  readonly #leaseTtlMs: number;
  readonly #workloads = new Set<string>();
  #alarmAt: number | null = null;
  #draining = false;
  /** This incarnation; stamped on its leases. A restarted coordinator's is larger. */
  readonly epoch: number;
  #recovery: Recovery | null = null;
  /** #askMore is running (a port answering at once re-enters it). */
  #asking = false;
  readonly #asksInFlight: number;
  /** Each backend's state as last reported to healthChanged. */
  readonly #states = new Map<string, BackendState>();
  /** Whether any backend was out of full health at the last look (only then do successes matter). */
  #anyRecovering = false;
  /**
   * Leases released here while not held, or adopted from an earlier incarnation → until when that is
   * remembered (one lease TTL). After a restart, a workload's answer or renewal read before its request
   * ended can arrive after the release: adopting the lease then would hold a slot nothing uses until it
   * expired. In release order, so the expired ones are at the front; they are dropped when the next one
   * is added, so the map holds at most one TTL's worth. Made at the first such release (they are rare:
   * retried releases, releases after an expiry, adopted leases, and this race).
   */
  #releasedUnheld: Map<string, number> | null = null;

  readonly #metricsIntervalMs: number;
  /** When the next round of scrapes is due (only while the pool has work). */
  #nextScrapeAt = -Infinity;

  constructor(
    opts: DispatcherOptions & {
      readonly leaseTtlMs: number;
      readonly metricsIntervalMs?: number;
      /** This incarnation, larger than every earlier one of the same pool (a persisted counter). */
      readonly epoch?: number;
      /** Asks out at once while recovering (default RECOVERY_ASKS_IN_FLIGHT; tests use small windows). */
      readonly recoveryAsksInFlight?: number;
    },
    ports: CoordinatorPorts,
  ) {
    this.epoch = opts.epoch ?? 0;
    this.dispatcher = new Dispatcher({ ...opts, leaseEpoch: this.epoch });
    this.#leaseTtlMs = opts.leaseTtlMs;
    this.#ports = ports;
    this.#metricsIntervalMs = this.dispatcher.readsMetrics ? (opts.metricsIntervalMs ?? 0) : 0;
    this.#asksInFlight = Math.max(1, opts.recoveryAsksInFlight ?? RECOVERY_ASKS_IN_FLIGHT);
  }

  /**
   * Starts from what a previous instance persisted: the known workloads. Their running requests' leases
   * are in their own storage, so until each has answered an ask (askLeases → onLeasesHeld, which also
   * fences it against this coordinator's predecessors) nothing is granted: a slot that looks free may be
   * in use. A renewal counts its leases at once and puts it next in line to be asked. A workload that
   * cannot be reached holds things up for one lease TTL at most; by then any lease it did not renew
   * would have expired anyway, and a grant of the predecessor is too old for a workload to take.
   * Leases an older version stored are restored with a fresh TTL (their renewals were never written).
   */
  restore(saved: CoordinatorSaved, now: number): void {
    const expiresAt = now + this.#leaseTtlMs;
    this.dispatcher.restoreLeases(
      (saved.leases ?? []).map((l) => ({ ...l, expiresAt: Math.max(l.expiresAt, expiresAt) })),
    );
    for (const id of saved.workloads) this.#workloads.add(id);
    if (this.#workloads.size > 0) {
      this.#recovery = {
        until: now + this.#leaseTtlMs,
        waiting: new Set(this.#workloads),
        // Asked from the end: reversed, so the first known is asked first.
        toAsk: [...this.#workloads].reverse(),
        asked: new Set(),
      };
      this.#askMore();
    }
    this.#armAlarm(now);
  }

  /** A known workload's answer after a restart: every lease of this pool it holds. */
  onLeasesHeld(workloadId: string, leases: readonly DeclaredLease[], now: number): void {
    this.#adopt(workloadId, leases, now);
    this.#answered(workloadId);
    this.#heardFrom(workloadId, now);
  }

  /** The question did not reach the workload: it is asked again if it renews; else the deadline. */
  onAskFailed(workloadId: string, why: string): void {
    this.#ports.warn(`asking workload ${workloadId} for its leases after a restart failed: ${why}`);
    this.#answered(workloadId);
  }

  /** An ask came back (or failed): its place goes to the next workload. */
  #answered(workloadId: string): void {
    if (this.#recovery?.asked.delete(workloadId)) this.#askMore();
  }

  /**
   * Asks workloads not asked yet, up to #asksInFlight (RECOVERY_ASKS_IN_FLIGHT) outstanding. A port that
   * answers at once re-enters through #answered: the loop running here then finds the free place (no
   * recursion, however many answer at once).
   */
  #askMore(): void {
    const recovery = this.#recovery;
    if (recovery === null || this.#asking) return;
    this.#asking = true;
    try {
      while (recovery.asked.size < this.#asksInFlight && this.#recovery === recovery) {
        const id = recovery.toAsk.pop();
        if (id === undefined) return;
        // Answered already, or its ask is out (a renewal may have queued it twice).
        if (!recovery.waiting.has(id) || recovery.asked.has(id)) continue;
        recovery.asked.add(id);
        this.#ports.askLeases(id, this.epoch);
      }
    } finally {
      this.#asking = false;
    }
  }

  get recovering(): boolean {
    return this.#recovery !== null;
  }

  /**
   * Counts the slots of leases granted by an earlier incarnation that this one has never seen. A lease
   * of this incarnation that is unknown was released or expired here, and one of an earlier incarnation
   * released here within a TTL has ended (its release overtook this declaration): neither is brought
   * back.
   */
  #adopt(workloadId: string, leases: readonly DeclaredLease[], now: number): string[] {
    const missing: string[] = [];
    const expiresAt = now + this.#leaseTtlMs;
    for (const l of leases) {
      if (this.dispatcher.renew(l.leaseId, now) !== null) continue;
      // Its release overtook this declaration: the request has ended.
      if (l.backend === undefined || (l.epoch ?? 0) >= this.epoch || this.#wasReleased(l.leaseId, now)) {
        missing.push(l.leaseId);
        continue;
      }
      this.dispatcher.restoreLeases([
        {
          leaseId: l.leaseId,
          workloadId,
          requestId: '',
          backend: l.backend,
          grantedAt: now,
          expiresAt,
          epoch: l.epoch ?? 0,
        },
      ]);
    }
    return missing;
  }

  #rememberReleased(leaseId: string, now: number): void {
    const released = (this.#releasedUnheld ??= new Map());
    for (const [id, until] of released) {
      if (until > now) break;
      released.delete(id);
    }
    released.delete(leaseId);
    released.set(leaseId, now + this.#leaseTtlMs);
  }

  #wasReleased(leaseId: string, now: number): boolean {
    const until = this.#releasedUnheld?.get(leaseId);
    return until !== undefined && until > now;
  }

  #heardFrom(workloadId: string, now: number): void {
    const recovery = this.#recovery;
    if (recovery === null || !recovery.waiting.delete(workloadId)) return;
    if (recovery.waiting.size === 0) this.#endRecovery(now);
  }

  #endRecovery(now: number): void {
    const recovery = this.#recovery;
    if (recovery === null) return;
    this.#recovery = null;
    if (recovery.waiting.size > 0) {
      this.#ports.warn(
        `granting again after a restart without hearing from ${recovery.waiting.size} workload(s) ` +
          `(${[...recovery.waiting].slice(0, 5).join(', ')}): one lease TTL has passed`,
      );
    }
    this.#drain(now);
  }

  /** A workload's current head (or none). Grants for the caller come back inline. */
  offer(
    workloadId: string,
    head: HeadView | null,
    signals: WorkloadSignals,
    seq: HeadSeq,
    now: number,
    releases: readonly CarriedRelease[] = [],
    report?: MetricsReport,
  ): OfferReply {
    if (report) this.metrics.apply(report, now);
    // Failed leases first, with their backends' health: the head must not go back where it just failed.
    // Carried releases are failovers: the request was not served and is charged again at its next grant.
    for (const r of releases) {
      const failed = this.#free(r.leaseId, r.health, now, 0);
      if (failed) this.metrics.countFailover(failed.backend);
    }
    // Grants from here on are made knowing of those failures (the workload avoids the failed backend
    // only for grants made before).
    const informed = releases.length > 0 ? this.#informed() : null;
    const known = this.#report(workloadId, head, signals, seq);
    if (!known.listed) this.#remember(workloadId, known);
    const grants = this.#drain(now, workloadId);
    if (releases.length > 0 && releases.some((r) => r.health?.reachable === false)) {
      this.#armAlarm(now);
      this.#noteHealth(now);
    }
    // While recovering, no slot is known to be free: the workload's held admissions really wait.
    const freeSlots = this.#recovery === null ? this.dispatcher.freeSlots(now) : 0;
    const poolDownUntil = grants.length > 0 ? null : this.dispatcher.poolDownUntil(now);
    // Two literals, not a conditional spread: one offer per request.
    return informed === null
      ? { grants, freeSlots, poolDownUntil }
      : { grants, freeSlots, poolDownUntil, informed };
  }

  /**
   * Idempotent. Frees the slot and hands it on. `health` says what the request learned of its backend
   * and when: unreachable starts that backend's cooldown; reachable ends it unless a failure was seen
   * after that observation (a stream that started before the backend died must not revive it).
   */
  /** `actualTokens`: the request's real charge (token fairness true-up); absent when not known. */
  release(
    leaseId: string,
    health: BackendHealth | null,
    now: number,
    actualTokens?: number,
    report?: MetricsReport,
  ): ReleaseReply {
    if (report) this.metrics.apply(report, now);
    const released = this.#free(leaseId, health, now, actualTokens) !== null;
    const informed = this.#informed();
    this.#drain(now);
    if (health?.reachable === false) this.#armAlarm(now);
    if (health?.reachable === false || (health && this.#anyRecovering)) this.#noteHealth(now);
    return { released, informed };
  }

  /** Where this coordinator stands now: its grants from here on are made knowing what it has heard. */
  #informed(): Informed {
    return { epoch: this.epoch, seq: this.dispatcher.grantsIssued };
  }

  /** The lease freed, or null if it was not held (already released or expired). */
  #free(leaseId: string, health: BackendHealth | null, now: number, actualTokens?: number): Lease | null {
    const lease = this.dispatcher.release(leaseId, now, actualTokens);
    // Unknown here, or adopted from an earlier incarnation: a declaration read before the release may
    // still be on its way (a renewal or a late answer), and must not bring the lease back.
    if (!lease || (lease.epoch ?? 0) < this.epoch) this.#rememberReleased(leaseId, now);
    if (!lease) return null;
    if (health?.reachable === false) this.dispatcher.reportUnreachable(lease.backend, health.observedAt);
    if (health?.reachable === true) this.dispatcher.reportReachable(lease.backend, health.observedAt);
    return lease;
  }

  /**
   * The requests behind these leases are still running: push their expiry out. The list is all the
   * workload holds in this pool, so for a restarted coordinator it is also the workload's declaration.
   */
  renew(
    workloadId: string,
    leases: readonly DeclaredLease[],
    now: number,
    report?: MetricsReport,
  ): RenewReply {
    if (report) this.metrics.apply(report, now);
    const missing = this.#adopt(workloadId, leases, now);
    // Its leases count from now, but a renewal does not end the wait for it: only an ask's answer comes
    // with the fence that refuses the earlier incarnation's grants still in flight (heldLeases), and a
    // grant taken after this declaration left would over-book. So it is asked next (again, if its ask
    // failed: it is reachable after all).
    const recovery = this.#recovery;
    if (recovery?.waiting.has(workloadId) && !recovery.asked.has(workloadId)) {
      recovery.toAsk.push(workloadId);
      this.#askMore();
    }
    return { missing };
  }

  /** The workload deleted itself (idle): stop listing it, unless it has offered a head since. */
  forget(workloadId: string, report?: MetricsReport, now = 0): void {
    if (report) this.metrics.apply(report, now);
    if (this.dispatcher.peekReady(workloadId)) return;
    // A goodbye overtaken by a grant: still listed, so a restart asks it about that lease.
    if (this.dispatcher.holdsLeaseOf(workloadId)) return;
    this.metrics.retire(workloadId);
    // With its record go the newest report applied and the listed flag (see #report).
    this.dispatcher.forget(workloadId);
    if (this.#workloads.delete(workloadId)) this.#ports.deleteWorkload(workloadId);
  }

  alarm(now: number): void {
    this.#alarmAt = null;
    if (this.#recovery !== null && now >= this.#recovery.until) this.#endRecovery(now);
    for (const lease of this.dispatcher.expireLeases(now)) {
      this.metrics.countLeaseExpired();
      this.#ports.warn(`lease ${lease.leaseId} of workload ${lease.workloadId} expired unreleased`);
    }
    this.#noteHealth(now);
    for (const backend of this.dispatcher.probesDue(now)) this.#ports.probe(backend);
    this.#drain(now);
    this.#armAlarm(now);
  }

  /** A backend's engine metrics, scraped from `startedAt`: saturation may have cleared, so drain. */
  onScrape(backend: string, load: EngineLoad, startedAt: number, now: number): void {
    this.dispatcher.reportLoad(backend, load, startedAt, now);
    this.#drain(now);
  }

  /** A health probe sent at `sentAt` answered; a good one brings the backend back with one slot. */
  onProbe(backend: string, ok: boolean, sentAt: number, now: number): void {
    this.dispatcher.onProbe(backend, ok, sentAt);
    this.#noteHealth(now);
    if (ok) this.#drain(now);
    else this.#armAlarm(now);
  }

  onScrapeFailed(backend: string, startedAt: number, why: string): void {
    const inARow = this.dispatcher.reportScrapeFailed(backend, startedAt);
    // Once when it starts failing, then about once a minute at the default interval: a backend without
    // engine metrics must not fill the log every second.
    if (inARow === 1 || inARow % 60 === 0) {
      this.#ports.warn(
        `metrics of backend ${backend} unreadable (${inARow} in a row, slot counting meanwhile): ${why}`,
      );
    }
  }

  /**
   * Metrics are read while the pool has work (a waiting head or a running request) and the interval has
   * passed; an idle pool costs its backends nothing.
   */
  #scrapeDue(now: number): boolean {
    return this.#metricsIntervalMs > 0 && this.#busy() && now >= this.#nextScrapeAt;
  }

  #startScrapes(now: number): void {
    this.#nextScrapeAt = now + this.#metricsIntervalMs;
    for (const backend of this.dispatcher.backendsInService(now)) this.#ports.scrape(backend);
  }

  #busy(): boolean {
    return this.dispatcher.readyCount > 0 || this.dispatcher.leaseCount > 0;
  }

  /** The workload took the slot (or not) and told its head after that. */
  onGrantReply(lease: Lease, reply: GrantReply, now: number): void {
    if (reply.report) this.metrics.apply(reply.report, now);
    if (reply.taken === null) this.dispatcher.release(lease.leaseId, now);
    this.#report(lease.workloadId, reply.head, reply.signals, reply.seq);
    this.#drain(now);
  }

  /**
   * The grant's reply did not come back. The workload may or may not have taken the slot (a reply can
   * be lost after the call ran), so the lease is kept, not released: if the workload took it, its
   * renewals keep it; if not, it expires within one lease TTL. Releasing here would over-book the backend
   * whenever only the reply was lost. The workload's next head arrives with its next offer (at the latest
   * its re-offer beat).
   */
  onGrantFailed(lease: Lease, _now: number, why: string): void {
    this.#ports.warn(`grant of lease ${lease.leaseId} to workload ${lease.workloadId} failed: ${why}`);
  }

  listWorkloads(): string[] {
    return [...this.#workloads].sort();
  }

  /** Current policy scores of the workloads' heads (null for a workload with no head here). */
  scoresOf(workloadIds: readonly string[], now: number): Array<number | null> {
    return workloadIds.map((id) => this.dispatcher.scoreOf(id, now));
  }

  /** One scrape's view of this pool: the summary plus its backends (see metrics/pool-summary.ts). */
  metricsSnapshot(now: number, topN: number, offset = 0): PoolMetricsSnapshot {
    return {
      ...this.metrics.snapshot(now, topN, offset),
      backends: this.dispatcher.backends(now),
      recovering: this.#recovery?.waiting.size ?? 0,
    };
  }

  stats(now: number): CoordinatorStats {
    return {
      leases: this.dispatcher.leaseCount,
      ready: this.dispatcher.readyCount,
      freeSlots: this.dispatcher.freeSlots(now),
      recovering: this.#recovery?.waiting.size ?? 0,
    };
  }

  /**
   * Grants every free slot it can, synchronously, so no other call can interleave between choosing a
   * head and reserving its slot. Grants for `caller` are returned; the rest go out through the port. A
   * port that answers at once re-enters through onGrantReply; that inner drain is left to this loop.
   */
  #drain(now: number, caller?: string): readonly Lease[] {
    if (this.#draining) return NO_GRANTS;
    if (this.#recovery !== null) {
      if (this.#alarmAt === null) this.#armAlarm(now);
      return NO_GRANTS;
    }
    this.#draining = true;
    let inline: Lease[] | null = null;
    try {
      // A Grant is a Lease plus its score; the extra field travels along harmlessly.
      for (let lease = this.dispatcher.next(now); lease; lease = this.dispatcher.next(now)) {
        // Made with its first grant: an empty array grows to 17 slots at its first push, for one grant.
        if (lease.workloadId === caller) {
          if (inline === null) inline = [lease];
          else inline.push(lease);
        } else this.#ports.grant(lease);
      }
    } finally {
      this.#draining = false;
    }
    // A pool that reads metrics scrapes while it has work. A due round starts here, not from an alarm set
    // for `now`: such an alarm is a storage write, and a pool whose requests end before it fires (light
    // load) would never move the beat on, so it paid one write and one wake-up per request.
    if (this.#scrapeDue(now)) this.#startScrapes(now);
    // New leases expire after every existing one (same TTL), so only an unarmed alarm needs setting.
    if (this.#alarmAt === null && this.#busy()) this.#armAlarm(now);
    return inline ?? NO_GRANTS;
  }

  /** Reports each backend whose state changed since the last look. */
  #noteHealth(now: number): void {
    let recovering = false;
    for (const b of this.dispatcher.backends(now)) {
      if (b.state !== 'healthy') recovering = true;
      const before = this.#states.get(b.name) ?? 'healthy';
      if (before === b.state) continue;
      this.#states.set(b.name, b.state);
      this.#ports.healthChanged({
        backend: b.name,
        from: before,
        to: b.state,
        consecutiveFailures: b.consecutiveFailures,
      });
    }
    this.#anyRecovering = recovering;
  }

  /**
   * Applies a workload's head report unless a newer one was applied already. Offers and grant replies
   * can arrive out of order (an offer read before a grant may land after the grant's reply); a report
   * older than the one applied is dropped, so the coordinator's view of a workload is always the latest
   * head it reported. The dispatcher keeps the newest (epoch, n) and the listed flag in the workload's
   * record (one lookup per report; the map can hold thousands).
   */
  #report(workloadId: string, head: HeadView | null, signals: WorkloadSignals, seq: HeadSeq): WorkloadRecord {
    return this.dispatcher.offerNewer(workloadId, head, signals, seq.epoch, seq.n);
  }

  #armAlarm(now: number): void {
    let next = this.dispatcher.nextDeadline(now) ?? Infinity;
    if (this.#recovery !== null) next = Math.min(next, this.#recovery.until);
    if (this.#metricsIntervalMs > 0 && this.#busy()) next = Math.min(next, Math.max(now, this.#nextScrapeAt));
    if (!Number.isFinite(next)) return;
    if (this.#alarmAt !== null && this.#alarmAt <= next && this.#alarmAt > now) return;
    this.#alarmAt = next;
    this.#ports.setAlarm(next);
  }

  #remember(workloadId: string, known: WorkloadRecord): void {
    known.listed = true;
    if (this.#workloads.has(workloadId)) return;
    this.#workloads.add(workloadId);
    this.#ports.addWorkload(workloadId);
  }
}
