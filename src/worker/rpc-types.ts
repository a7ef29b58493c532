// Values exchanged between the Worker, WorkloadDO and CoordinatorDO. Errors thrown across Durable Object
// RPC lose their class, so every expected outcome travels as one of these unions instead.

import type { HeadView, Lease, Outcome, WorkloadMetrics, WorkloadSignals } from '../core/index.ts';

export interface AdmitRequest {
  /** Sluice's own ID for the request (unique), not the client's x-request-id. */
  readonly requestId: string;
  readonly workloadId: string;
  readonly criticality: number;
  readonly tokenEstimate: number;
}

export type AdmitReply =
  | { readonly kind: 'granted'; readonly leaseId: string; readonly backend: string; readonly waitMs: number }
  | { readonly kind: 'rejected'; readonly outcome: 'rejected_capacity'; readonly retryAfterSec: number }
  | { readonly kind: 'evicted'; readonly outcome: 'evicted_ttl'; readonly retryAfterSec: number }
  | { readonly kind: 'cancelled'; readonly outcome: 'cancelled' };

export interface GrantReply {
  /** The request that took the slot, or null when nothing was queued any more (slot goes back). */
  readonly taken: { readonly requestId: string; readonly waitMs: number } | null;
  readonly head: HeadView | null;
  readonly signals: WorkloadSignals;
}

export interface OfferReply {
  /** Slots granted to the offering workload right away, saving a round trip. */
  readonly grants: readonly Lease[];
}

/** What the proxy learned about the backend, and when, reported with a completion. */
export interface BackendHealth {
  readonly reachable: boolean;
  /** When it was observed (ms): connect failure, or response headers received. */
  readonly observedAt: number;
}

export interface CompleteReply {
  /** False when the request had already been completed (the call changed nothing). */
  readonly recorded: boolean;
}

export interface WorkloadDescription {
  readonly workloadId: string;
  readonly metrics: WorkloadMetrics;
  readonly head: HeadView | null;
}

export type { Outcome };
