// The values the Worker, the workload hosts and the coordinator hosts exchange. In the router they cross
// Durable Object RPC, where thrown errors lose their class, so every expected end travels as a value.

import type { Lease } from '../dispatcher.ts';
import type { Ended } from '../outcome.ts';
import type { HeadView, WorkloadSignals } from '../policy/types.ts';
import type { WorkloadMetrics } from '../registry-entry.ts';
import type { Criticality } from '../workload-context.ts';
import type { LimitsView, WorkloadLimits } from '../workload-limits.ts';
import type { MetricsReport } from '../metrics/workload-tally.ts';

export interface AdmitRequest {
  /** Sluice's own ID for the request (unique), not the client's x-request-id. */
  readonly requestId: string;
  readonly workloadId: string;
  /** The backend pool its model routes to (config decides; see pools.ts). */
  readonly pool: string;
  readonly criticality: Criticality;
  readonly tokenEstimate: number;
  /** The caller's limits for this workload (its API key's); absent: keep the workload's current ones. */
  readonly limits?: WorkloadLimits;
  /** The workload's share weight under token fairness; absent means DEFAULT_WORKLOAD_WEIGHT. */
  readonly weight?: number;
}

/** The answer to an admit: a slot, or the request's end (decided by the workload host). */
export type AdmitReply =
  | {
      readonly kind: 'granted';
      readonly leaseId: string;
      readonly backend: string;
      readonly waitMs: number;
      /** When the request first entered its queue; sent back with a failover so it keeps its place. */
      readonly enqueuedAt: number;
    }
  | {
      readonly kind: 'ended';
      readonly end: Ended;
      /** When retrying can help: the workload's own estimate of when its queue will have moved. */
      readonly retryAfterSec?: number;
    };

/**
 * Orders a workload's head reports (offers and grant replies), which can reach the coordinator out of
 * order: an offer read before a grant may arrive after it. `epoch` is when the workload's host started
 * (a restarted host reports from a later epoch, so it wins over its predecessor's late messages); `n`
 * counts reports within the epoch.
 */
export interface HeadSeq {
  readonly epoch: number;
  readonly n: number;
}

/**
 * The Worker's dispatch failed before the client saw a byte: the request goes back to its queue for
 * another backend of the same pool, in its old place, and the failed lease is handed back with what was
 * learned of that backend.
 */
export interface RetryRequest {
  readonly requestId: string;
  readonly workloadId: string;
  readonly pool: string;
  readonly criticality: Criticality;
  readonly tokenEstimate: number;
  readonly weight?: number;
  readonly enqueuedAt: number;
  readonly failedLeaseId: string;
  /** The backend it failed on: it is not sent back there. */
  readonly failedBackend: string;
  readonly health: BackendHealth;
}

export interface GrantReply {
  /** The request that took the slot, or null when nothing was queued any more (the slot goes back). */
  readonly taken: { readonly requestId: string; readonly waitMs: number } | null;
  /** The workload's head after the grant, read in the same turn. */
  readonly head: HeadView | null;
  readonly signals: WorkloadSignals;
  readonly seq: HeadSeq;
  /** The workload's /metrics counts for this pool, when they changed (the grant just changed them). */
  readonly report?: MetricsReport;
}

/**
 * Where a coordinator stood when it learned of the releases a reply acknowledges: its incarnation and the
 * `seq` its next grant gets. A grant of that incarnation with a smaller `seq` (or of an earlier one) was
 * issued before it knew.
 */
export interface Informed {
  readonly epoch: number;
  readonly seq: number;
}

/** A lease handed back inside an offer, applied before the offered head is weighed. */
export interface CarriedRelease {
  readonly leaseId: string;
  readonly health: BackendHealth | null;
}

export interface OfferReply {
  /** Slots granted to the offering workload right away, saving a round trip. */
  readonly grants: readonly Lease[];
  /**
   * Slots still free after those grants. Non-zero means every waiting head was granted, so this
   * workload's next head will be too: its held admissions are not really waiting yet.
   */
  readonly freeSlots: number;
  /**
   * Set when every backend of the pool is out (cooling down or waiting for a probe): the earliest time
   * one may be back. The workload then ends that pool's waiting requests (503 with Retry-After) instead
   * of holding them until their TTL.
   */
  readonly poolDownUntil: number | null;
  /** With carried releases: where the coordinator stood once it had them (see Informed). */
  readonly informed?: Informed;
}

/** The answer to a release. */
export interface ReleaseReply {
  readonly released: boolean;
  /** Where the coordinator stood once it had the release (see Informed). */
  readonly informed: Informed;
}

/** What the Worker learned about the backend, and when, reported with a completion. */
export interface BackendHealth {
  readonly reachable: boolean;
  /** When it was observed (ms): connect failure, or response headers received. */
  readonly observedAt: number;
}

export interface CompleteReply {
  /** False when the request had already been completed (the call changed nothing). */
  readonly recorded: boolean;
}

/**
 * A running request's lease as its workload declares it to the coordinator: in each renewal, and in the
 * answer to a restarted coordinator that asks what it holds (see CoordinatorHost's recovery). With its
 * backend and granting incarnation, a coordinator that never saw it can count its slot again.
 */
export interface DeclaredLease {
  readonly leaseId: string;
  /** Absent for a lease held since before leases were declared (its coordinator restored it itself). */
  readonly backend?: string;
  readonly epoch?: number;
}

export interface RenewReply {
  /** Lease IDs the coordinator no longer holds (already released or expired). */
  readonly missing: readonly string[];
}

export interface WorkloadDescription {
  readonly workloadId: string;
  readonly metrics: WorkloadMetrics;
  /** Each pool's queue: how many wait there and who is first. */
  readonly queues: ReadonlyArray<{
    readonly pool: string;
    readonly queued: number;
    readonly head: HeadView | null;
  }>;
  /** Present when the workload has limits: them, and what is left of its per-minute buckets. */
  readonly limits?: LimitsView;
}
