// Reduces one run (scenario × policy) to the numbers the report prints. Deterministic: no wall-clock
// figures here; those stay in SimResult.decisionCost.

import { activeFairness } from './active-fairness.ts';
import { windowedJain } from './fairness.ts';
import { mean, percentile } from './metrics.ts';
import type { LabPolicyName } from './policies.ts';
import type { RequestRecord, SimResult } from './simulate.ts';

/** G: the scenario's group IDs (see WorkloadSpec); a summary built here knows them only as strings. */
export interface GroupSummary<G extends string = string> {
  /** A workload ID, or a group of workloads of one criticality (many-tenants). */
  readonly group: G;
  readonly criticality: number;
  readonly workloads: number;
  readonly requests: number;
  /** Completed successfully. */
  readonly completed: number;
  readonly evictedTtl: number;
  readonly rejected: number;
  readonly waitP50Ms: number | null;
  readonly waitP95Ms: number | null;
  readonly waitP99Ms: number | null;
  readonly waitMaxMs: number | null;
  readonly meanCompletionPosition: number | null;
  /** Share of all successful completions (requests), and of all tokens they generated. */
  readonly requestShare: number;
  readonly tokenShare: number;
  /** Mean and longest completion (tokens) among the group's requests, served or not. */
  readonly meanTokens: number;
  readonly maxTokens: number;
  /** Mean max_tokens its requests asked for (the router's estimate in the lab). */
  readonly meanMaxTokens: number;
  /** See active-fairness.ts: its share of tokens served while backlogged; null if never backlogged. */
  readonly activeTokenShare: number | null;
}

export interface RunSummary<G extends string = string> {
  readonly scenario: string;
  readonly policy: LabPolicyName;
  readonly groups: readonly GroupSummary<G>[];
  readonly requests: number;
  readonly completed: number;
  readonly evictedTtl: number;
  readonly rejected: number;
  /** Virtual time of the run's last event. */
  readonly endMs: number;
  /** Most workloads competing for a slot at one decision. */
  readonly peakReadyWorkloads: number;
  /** Successful completions per second, from the first arrival to the last event. */
  readonly throughputReqPerSec: number;
  readonly throughputTokensPerSec: number;
  /** See fairness.ts; null when no two workloads of equal criticality competed. */
  readonly jain: number | null;
  /** See active-fairness.ts: tokens per weight among tenants backlogged throughout a window. */
  readonly activeJain: number | null;
  readonly lowestCriticality: number;
  readonly lowestCriticalityMaxWaitMs: number | null;
  readonly lowestCriticalityEvicted: number;
}

/**
 * How long a request sat in the queue: until dispatch, or until it was evicted. Rejected requests never
 * queued and have none.
 */
export function queueWaitMs(r: RequestRecord): number | null {
  if (r.dispatchedAtMs !== null) return r.dispatchedAtMs - r.request.arriveAtMs;
  if (r.outcome === 'rejected' || r.endedAtMs === null) return null;
  return r.endedAtMs - r.request.arriveAtMs;
}

export function summarize(result: SimResult): RunSummary {
  const byGroup = new Map<string, RequestRecord[]>();
  const workloadsOf = new Map<string, Set<string>>();
  for (const r of result.records) {
    const g = r.request.group;
    let list = byGroup.get(g);
    if (!list) {
      byGroup.set(g, (list = []));
      workloadsOf.set(g, new Set());
    }
    list.push(r);
    workloadsOf.get(g)?.add(r.request.workloadId);
  }
  const successes = result.records.filter((r) => r.outcome === 'success');
  const totalTokens = successes.reduce((sum, r) => sum + r.request.tokens, 0);

  const active = activeFairness(result.records);
  const groups = [...byGroup].map(([group, records]): GroupSummary => {
    const waits = sortedWaits(records);
    const done = records.filter((r) => r.outcome === 'success');
    const positions = done.map((r) => r.completionPosition ?? 0);
    return {
      group,
      criticality: (records[0] as RequestRecord).request.criticality,
      workloads: workloadsOf.get(group)?.size ?? 0,
      requests: records.length,
      completed: done.length,
      evictedTtl: records.filter((r) => r.outcome === 'evicted').length,
      rejected: records.filter((r) => r.outcome === 'rejected').length,
      waitP50Ms: percentile(waits, 50),
      waitP95Ms: percentile(waits, 95),
      waitP99Ms: percentile(waits, 99),
      waitMaxMs: waits.at(-1) ?? null,
      meanCompletionPosition: mean(positions),
      requestShare: successes.length === 0 ? 0 : done.length / successes.length,
      tokenShare: totalTokens === 0 ? 0 : done.reduce((sum, r) => sum + r.request.tokens, 0) / totalTokens,
      meanTokens: mean(records.map((r) => r.request.tokens)) ?? 0,
      maxTokens: records.reduce((max, r) => Math.max(max, r.request.tokens), 0),
      meanMaxTokens: mean(records.map((r) => r.request.maxTokens)) ?? 0,
      activeTokenShare: active.groupShares.get(group) ?? null,
    };
  });

  const firstArrivalMs = Math.min(...result.records.map((r) => r.request.arriveAtMs));
  const spanSec = Math.max(1, result.endMs - firstArrivalMs) / 1000;
  const lowest = Math.min(...result.records.map((r) => r.request.criticality));
  const lowestRecords = result.records.filter((r) => r.request.criticality === lowest);
  return {
    scenario: result.scenario,
    policy: result.policy,
    groups,
    requests: result.records.length,
    completed: successes.length,
    evictedTtl: result.records.filter((r) => r.outcome === 'evicted').length,
    rejected: result.records.filter((r) => r.outcome === 'rejected').length,
    endMs: result.endMs,
    peakReadyWorkloads: result.peakReadyWorkloads,
    throughputReqPerSec: successes.length / spanSec,
    throughputTokensPerSec: totalTokens / spanSec,
    jain: windowedJain(result.records),
    activeJain: active.jain,
    lowestCriticality: lowest,
    lowestCriticalityMaxWaitMs: sortedWaits(lowestRecords).at(-1) ?? null,
    lowestCriticalityEvicted: lowestRecords.filter((r) => r.outcome === 'evicted').length,
  };
}

function sortedWaits(records: readonly RequestRecord[]): number[] {
  const waits: number[] = [];
  for (const r of records) {
    const w = queueWaitMs(r);
    if (w !== null) waits.push(w);
  }
  return waits.sort((a, b) => a - b);
}
