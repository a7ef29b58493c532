// The whole protocol in one process: a workload host per workload and one coordinator host, the same
// objects the Durable Objects host, wired by calls that answer at once (the interleaving where every
// message is delivered instantly). Used by the policy lab and the property tests. Unlike a WorkloadDO,
// it never deletes idle workloads, so their numbers stay readable after a run.

import type { BackendSpec } from './backend-pool.ts';
import type { Dispatcher, Lease } from './dispatcher.ts';
import type { Ended } from './outcome.ts';
import type { Policy } from './policy/types.ts';
import { CoordinatorHost, IN_MEMORY_COORDINATOR_PORTS } from './protocol/coordinator-host.ts';
import type {
  AdmitReply,
  BackendHealth,
  CarriedRelease,
  DeclaredLease,
  HeadSeq,
} from './protocol/messages.ts';
import type { HeadView, WorkloadSignals } from './policy/types.ts';
import {
  WorkloadHost,
  type CoordinatorCalls,
  type WorkloadHostOptions,
  type WorkloadPorts,
} from './protocol/workload-host.ts';
import type { WorkloadState, WorkloadStateOptions } from './workload-state.ts';
import { DEFAULT_LEASE_TTL_MS } from './defaults.ts';
import { DEFAULT_POOL } from './pools.ts';
import type { TokenUsage } from './usage.ts';
import type { MetricsReport } from './metrics/workload-tally.ts';
import type { Criticality } from './workload-context.ts';

export interface LocalSchedulerOptions {
  readonly policy: Policy;
  readonly backends: readonly BackendSpec[];
  readonly workload?: Omit<WorkloadStateOptions, 'policy'>;
  readonly leaseTtlMs?: number;
  /** See DispatcherOptions.legacyTokenTags (the policy lab's "before"). */
  readonly legacyTokenTags?: boolean;
  /** See WorkloadHostOptions.metricsReports (default true: the coordinator's /metrics summary is fed). */
  readonly metricsReports?: boolean;
}

export interface Dispatched {
  readonly leaseId: string;
  readonly workloadId: string;
  readonly requestId: string;
  readonly backend: string;
  readonly waitMs: number;
}

export type LocalAdmitResult =
  | { readonly kind: 'queued' }
  | { readonly kind: 'rejected'; readonly end: Ended; readonly retryAfterSec: number };

export class LocalScheduler {
  readonly coordinator: CoordinatorHost;
  /** Each workload's ports, which hold its host and its alarm. */
  readonly #hosts = new Map<string, LocalWorkloadPorts>();
  readonly #leaseTtlMs: number;
  /** One options object for every host: with thousands of workloads, a copy each is memory for nothing. */
  readonly #hostOpts: WorkloadHostOptions;
  /** Time of the call being served: every message of that call is delivered at the same instant. */
  #now = 0;
  /**
   * Grants since the last dispatch(); null while there are none. Made at the first grant, with room for
   * that one: an empty array grows to 17 slots at its first push, and most calls return one grant.
   */
  #dispatched: Dispatched[] | null = null;
  /** The request being admitted, and its end if it ended at once (queue full). */
  #admitting: string | null = null;
  #ended: (AdmitReply & { kind: 'ended' }) | null = null;

  constructor(opts: LocalSchedulerOptions) {
    this.#leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#hostOpts = {
      ...opts.workload,
      policy: opts.policy,
      leaseTtlMs: this.#leaseTtlMs,
      // Calls here cannot be lost, so no re-offer heartbeat; idle workloads stay readable.
      reofferIntervalMs: Infinity,
      keepIdle: true,
      metricsReports: opts.metricsReports ?? true,
    };
    this.coordinator = new CoordinatorHost(
      {
        backends: opts.backends,
        policy: opts.policy,
        leaseTtlMs: this.#leaseTtlMs,
        ...(opts.legacyTokenTags ? { legacyTokenTags: true } : {}),
      },
      {
        grant: (lease) => this.#deliverGrant(lease),
        ...IN_MEMORY_COORDINATOR_PORTS,
      },
    );
  }

  get dispatcher(): Dispatcher {
    return this.coordinator.dispatcher;
  }

  /** The workload's state (created empty on first use). */
  workload(workloadId: string): WorkloadState {
    return this.#host(workloadId).open(workloadId, this.#now);
  }

  *workloads(): IterableIterator<WorkloadState> {
    for (const { host } of this.#hosts.values()) if (host.state) yield host.state;
  }

  admit(
    workloadId: string,
    requestId: string,
    criticality: Criticality,
    now: number,
    tokenEstimate = 0,
    weight?: number,
  ): LocalAdmitResult {
    this.#now = now;
    this.#admitting = requestId;
    // Two literals, not a conditional spread: the spread builds a temporary object on every admission.
    this.#host(workloadId).admit(
      weight === undefined
        ? { requestId, workloadId, pool: DEFAULT_POOL, criticality, tokenEstimate }
        : { requestId, workloadId, pool: DEFAULT_POOL, criticality, tokenEstimate, weight },
      now,
    );
    this.#admitting = null;
    const end = this.#ended;
    this.#ended = null;
    if (!end) return { kind: 'queued' };
    return { kind: 'rejected', end: end.end, retryAfterSec: end.retryAfterSec ?? 1 };
  }

  /** What was dispatched since the last call (grants happen as soon as a slot and a head meet). */
  dispatch(now: number): Dispatched[] {
    this.#now = now;
    const out = this.#dispatched ?? [];
    this.#dispatched = null;
    return out;
  }

  /** Completion by request: releases its lease if it holds one. Exactly once; false on repeats. */
  complete(workloadId: string, requestId: string, end: Ended, now: number, usage?: TokenUsage): boolean {
    this.#now = now;
    const host = this.#hosts.get(workloadId)?.host;
    if (!host) return false;
    return host.complete(requestId, end, null, undefined, now, usage).recorded;
  }

  /** Client gone while queued. False if the request is not queued. */
  cancel(workloadId: string, requestId: string, now: number): boolean {
    this.#now = now;
    const host = this.#hosts.get(workloadId)?.host;
    if (!host?.state?.isQueued(requestId)) return false;
    return host.complete(requestId, { outcome: 'cancelled', reason: 'client_closed' }, null, undefined, now)
      .recorded;
  }

  /** TTL evictions, lost in-flight requests and lease expiries, as the hosts' alarms would run them. */
  sweep(now: number): { evicted: string[]; lost: string[] } {
    this.#now = now;
    const evicted: string[] = [];
    const lost: string[] = [];
    for (const ports of this.#hosts.values()) {
      // Like each WorkloadDO's alarm: only a workload whose own deadline has come does anything.
      if (ports.dueAt > now || !ports.host.state) continue;
      ports.dueAt = Infinity;
      const swept = ports.host.alarm(now);
      evicted.push(...swept.evicted);
      lost.push(...swept.lost);
    }
    // After the workloads: a caller that skipped beats must not lose leases their renewals would keep.
    this.coordinator.alarm(now);
    return { evicted, lost };
  }

  /** The earliest time any host would wake up on its own. */
  nextDeadline(now: number): number | null {
    let next = this.dispatcher.nextDeadline(now) ?? Infinity;
    for (const ports of this.#hosts.values()) next = Math.min(next, ports.dueAt);
    return Number.isFinite(next) ? next : null;
  }

  #host(workloadId: string): WorkloadHost {
    const known = this.#hosts.get(workloadId);
    if (known) return known.host;
    const ports = new LocalWorkloadPorts(this, workloadId);
    const host = new WorkloadHost(this.#hostOpts, ports);
    ports.host = host;
    this.#hosts.set(workloadId, ports);
    return host;
  }

  /** @internal The time of the call being served (for the ports). */
  get now(): number {
    return this.#now;
  }

  /** @internal */
  onReply(workloadId: string, requestId: string, reply: AdmitReply): void {
    this.#onReply(workloadId, requestId, reply);
  }

  #deliverGrant(lease: Lease): void {
    const host = this.#hosts.get(lease.workloadId)?.host;
    if (!host) {
      this.coordinator.onGrantFailed(lease, this.#now, 'unknown workload');
      return;
    }
    this.coordinator.onGrantReply(lease, host.grant(DEFAULT_POOL, lease, this.#now), this.#now);
  }

  #onReply(workloadId: string, requestId: string, reply: AdmitReply): void {
    if (reply.kind === 'granted') {
      const dispatched: Dispatched = {
        leaseId: reply.leaseId,
        workloadId,
        requestId,
        backend: reply.backend,
        waitMs: reply.waitMs,
      };
      if (this.#dispatched === null) this.#dispatched = [dispatched];
      else this.#dispatched.push(dispatched);
    } else if (requestId === this.#admitting) {
      this.#ended = reply;
    }
  }
}

/**
 * One workload host's ports in process: a class, so that every host's calls go through the same
 * functions (with thousands of workloads, per-host closures would make each call site megamorphic).
 * One pool: every call goes to the one coordinator, and answers at once.
 */
class LocalWorkloadPorts implements WorkloadPorts, CoordinatorCalls {
  host!: WorkloadHost;
  /**
   * The workload's alarm as its host last set it (Infinity: none): the in-process stand-in for a
   * WorkloadDO's alarm, kept rather than recomputed at sweep time because a deadline that has just passed
   * (a head change by aging) is no longer reported by the queue once it is in the past.
   */
  dueAt = Infinity;
  readonly #scheduler: LocalScheduler;
  readonly #workloadId: string;

  constructor(scheduler: LocalScheduler, workloadId: string) {
    this.#scheduler = scheduler;
    this.#workloadId = workloadId;
  }

  get coordinator(): CoordinatorCalls {
    return this;
  }

  offer(
    pool: string,
    workloadId: string,
    head: HeadView | null,
    signals: WorkloadSignals,
    seq: HeadSeq,
    releases: readonly CarriedRelease[],
    report?: MetricsReport,
  ): void {
    const now = this.#scheduler.now;
    this.host.onOfferReply(
      pool,
      this.#scheduler.coordinator.offer(workloadId, head, signals, seq, now, releases, report),
      now,
    );
  }

  release(
    _pool: string,
    leaseId: string,
    health: BackendHealth | null,
    actualTokens?: number,
    report?: MetricsReport,
  ): void {
    const reply = this.#scheduler.coordinator.release(
      leaseId,
      health,
      this.#scheduler.now,
      actualTokens,
      report,
    );
    this.host.onReleased(leaseId, reply.informed);
  }

  renew(_pool: string, workloadId: string, leases: readonly DeclaredLease[], report?: MetricsReport): void {
    this.host.onRenewReply(
      this.#scheduler.coordinator.renew(workloadId, leases, this.#scheduler.now, report),
    );
  }

  forget(_pool: string, workloadId: string, report?: MetricsReport): void {
    this.#scheduler.coordinator.forget(workloadId, report, this.#scheduler.now);
  }

  reply(requestId: string, reply: AdmitReply): void {
    this.#scheduler.onReply(this.#workloadId, requestId, reply);
  }

  persist(): void {}

  setAlarm(at: number): void {
    this.dueAt = at;
  }

  deleteState(): void {}
}
