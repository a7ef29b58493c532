// What the dashboard shows, built from the pools' summaries: per pool its backends, fairness and chart
// history, and per workload (a page of the traffic ranking) the numbers an operator reads at a glance.
// Pure: the Worker's /dashboard/data route gathers one summary per pool and passes them here.

import type { BackendState, BackendStatus } from '../backend-pool.ts';
import { emptyOutcomeCounts, outcomeOf, REASONS, type OutcomeCounts } from '../outcome.ts';
import { decodeSparse, IX, queuedOf, waitBucketsOf, waitQuantileMs } from './counter-layout.ts';
import type { FairnessSummary, HistoryPoint, PoolMetricsSnapshot, WorkloadSummary } from './pool-summary.ts';

export interface DashboardWorkload {
  readonly workloadId: string;
  readonly queued: number;
  readonly running: number;
  /** Arrivals per second over the last minute. */
  readonly ratePerSec: number;
  readonly requests: number;
  readonly outcomes: OutcomeCounts;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Queue wait since the workload appeared (histogram estimate); null before its first dispatch. */
  readonly waitP50Ms: number | null;
  readonly waitP95Ms: number | null;
}

export interface DashboardBackend {
  readonly name: string;
  readonly inFlight: number;
  readonly slots: number;
  readonly state: BackendState;
  readonly saturated: boolean;
  /** Engine waiting and KV use from the last fresh scrape; null when unknown (saturation off). */
  readonly engineWaiting: number | null;
  readonly kvCacheUsage: number | null;
}

export interface DashboardPool {
  readonly pool: string;
  readonly workloadCount: number;
  readonly offset: number;
  readonly backends: readonly DashboardBackend[];
  readonly fairness: FairnessSummary;
  readonly workloads: readonly DashboardWorkload[];
  /** Everyone not on this page, summed. */
  readonly rest: DashboardWorkload;
  readonly history: readonly HistoryPoint[];
  readonly leaseExpiries: number;
}

export interface DashboardView {
  readonly at: number;
  readonly pools: readonly DashboardPool[];
}

export function workloadView(row: WorkloadSummary): DashboardWorkload {
  const c = decodeSparse(row.counters);
  const outcomes = emptyOutcomeCounts();
  for (const reason of REASONS) outcomes[outcomeOf(reason)] += c[IX.ended(reason)] as number;
  const buckets = waitBucketsOf(c);
  return {
    workloadId: row.workloadId,
    queued: queuedOf(c),
    running: c[IX.inFlight] as number,
    ratePerSec: row.ratePerSec,
    requests: c[IX.requests] as number,
    outcomes,
    promptTokens: c[IX.promptTokens] as number,
    completionTokens: c[IX.completionTokens] as number,
    waitP50Ms: waitQuantileMs(buckets, 0.5),
    waitP95Ms: waitQuantileMs(buckets, 0.95),
  };
}

function backendView(b: BackendStatus): DashboardBackend {
  const fresh = b.load?.fresh === true;
  return {
    name: b.name,
    inFlight: b.inFlight,
    slots: b.maxConcurrency,
    state: b.state,
    saturated: b.load?.saturated === true,
    engineWaiting: fresh ? (b.load?.estimatedWaiting ?? null) : null,
    kvCacheUsage: fresh ? (b.load?.kvCacheUsage ?? null) : null,
  };
}

export function dashboardView(
  at: number,
  offset: number,
  pools: ReadonlyArray<{
    readonly pool: string;
    readonly summary: PoolMetricsSnapshot;
  }>,
): DashboardView {
  return {
    at,
    pools: pools.map(({ pool, summary }) => ({
      pool,
      workloadCount: summary.workloadCount,
      offset,
      backends: summary.backends.map(backendView),
      fairness: summary.fairness,
      workloads: summary.top.map(workloadView),
      rest: workloadView(summary.other),
      history: summary.history,
      leaseExpiries: summary.leaseExpiries,
    })),
  };
}
