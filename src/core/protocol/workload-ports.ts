// What a workload host needs from its surroundings (ports: calls to each pool's coordinator, the admit
// replies, persistence, the alarm) and what it persists. The host itself is workload-host.ts.

import type { HeadView, WorkloadSignals } from '../policy/types.ts';
import type { RegistrySnapshot } from '../registry-entry.ts';
import type { WorkloadStateOptions } from '../workload-state.ts';
import type { LimiterSnapshot } from '../workload-limits.ts';
import type { MetricsReport, TallySnapshot } from '../metrics/workload-tally.ts';
import type { AdmitReply, BackendHealth, CarriedRelease, DeclaredLease, HeadSeq } from './messages.ts';

/**
 * Calls to the coordinator of a pool (one per pool). Each reply MUST be fed back through the matching
 * on* method, with the same pool.
 */
export interface CoordinatorCalls {
  /**
   * → onOfferReply / onOfferFailed. At most one offer per pool is in flight at a time. `releases` are
   * applied first: a failover hands its failed lease back in the same message that offers the request
   * again, so the coordinator has cooled the failed backend down before it picks the next one.
   */
  offer(
    pool: string,
    workloadId: string,
    head: HeadView | null,
    signals: WorkloadSignals,
    seq: HeadSeq,
    releases: readonly CarriedRelease[],
    report?: MetricsReport,
  ): void;
  /** → onReleased / onReleaseFailed. Idempotent at the coordinator, so retries are safe. */
  release(
    pool: string,
    leaseId: string,
    health: BackendHealth | null,
    actualTokens?: number,
    report?: MetricsReport,
  ): void;
  /**
   * → onRenewReply (a lost renewal is simply superseded by the next one). Every lease this workload
   * holds in the pool, in one call: for a restarted coordinator, a renewal is a full declaration.
   */
  renew(pool: string, workloadId: string, leases: readonly DeclaredLease[], report?: MetricsReport): void;
  /** The workload deleted itself; fire and forget. */
  forget(pool: string, workloadId: string, report?: MetricsReport): void;
}

/** A lease as the workload knows it: which pool's coordinator holds it. */
export interface HeldLease {
  readonly pool: string;
  readonly leaseId: string;
}

export interface WorkloadPorts {
  readonly coordinator: CoordinatorCalls;
  /** The answer to a pending admit (exactly one per admitted request that is still waiting). */
  reply(requestId: string, reply: AdmitReply): void;
  /**
   * State changed: persist `persisted()`. Writes may be coalesced, except with `now`: then the write
   * must be durable before any reply or message leaves (a Durable Object's output gate does that). The
   * host asks for it when it takes a lease, because its storage is what a restarted coordinator
   * recovers the pool's running requests from.
   */
  persist(now?: boolean): void;
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
  /**
   * Attach /metrics reports to outgoing messages (default true). The in-process scheduler can turn them
   * off where nothing reads the coordinator's summary (the policy lab, the core benchmark).
   */
  readonly metricsReports?: boolean;
}

export interface PersistedWorkload {
  readonly workloadId: string;
  readonly registry: RegistrySnapshot;
  /**
   * [requestId, leaseId, pool, backend, epoch] for requests in flight, so completion after a restart
   * still frees the slot and a restarted coordinator learns them again. The pool is absent in state
   * written before pools existed (then it is the default pool); backend and epoch, in state written
   * before leases were declared.
   */
  readonly leases: ReadonlyArray<readonly [string, string, string?, string?, number?]>;
  /**
   * [pool, epoch]: the latest coordinator incarnation of each pool this workload has declared its
   * leases to; grants from an earlier one are refused.
   */
  readonly fences?: ReadonlyArray<readonly [string, number]>;
  /** [leaseId, health, pool]: releases the coordinator has not acknowledged yet; retried by the alarm. */
  readonly pendingReleases?: ReadonlyArray<readonly [string, BackendHealth | null, string?]>;
  /** Pools this workload has offered to, so an idle workload says goodbye to each. */
  readonly pools?: readonly string[];
  /** Its limits and rate buckets, so a restart neither forgets them nor refills the buckets. */
  readonly limiter?: LimiterSnapshot;
  /** Its /metrics counts (absent in state written before they were kept). */
  readonly tally?: TallySnapshot;
}
