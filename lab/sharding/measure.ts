// The figures a sharded run is judged by, next to the single coordinator's: waits (and the starvation
// bound: the longest wait of a request served after crossing the aging horizon), priority inversions,
// and the calls the root and the busiest shard take. Deterministic: virtual time only.

import type { Outcome } from '../../src/core/outcome.ts';
import { percentile } from '../metrics.ts';
import type { SimRequest } from '../requests.ts';
import { rootCallTotal, type ShardedResult } from './sharded-run.ts';
import { shardOf } from './simulate-sharded.ts';

interface Served {
  readonly request: SimRequest;
  readonly outcome: Outcome | null;
  readonly dispatchedAtMs: number | null;
}

export interface WaitFigures {
  readonly requests: number;
  readonly dispatched: number;
  readonly evicted: number;
  /** Turned away at admission (a workload's queue was full). */
  readonly rejected: number;
  readonly waitP50Ms: number | null;
  readonly waitP99Ms: number | null;
  readonly waitMaxMs: number | null;
  /** Requests dispatched after waiting at least the aging horizon, and the longest such wait. */
  readonly overdueServed: number;
  readonly overdueWaitMaxMs: number | null;
  /** The longest wait of a criticality-1 request (the ones the starvation rule exists for). */
  readonly lowestCriticalityWaitMaxMs: number | null;
  /** Criticality-5 requests: what priority buys, and what sharding costs it. */
  readonly topCriticalityWaitP50Ms: number | null;
  readonly topCriticalityWaitP99Ms: number | null;
}

export function waitFigures(records: readonly Served[], agingHorizonMs: number): WaitFigures {
  const waits: number[] = [];
  const overdue: number[] = [];
  const top: number[] = [];
  let lowest: number | null = null;
  let evicted = 0;
  let rejected = 0;
  for (const r of records) {
    if (r.outcome === 'evicted') evicted++;
    if (r.outcome === 'rejected') rejected++;
    if (r.dispatchedAtMs === null) continue;
    const wait = r.dispatchedAtMs - r.request.arriveAtMs;
    waits.push(wait);
    if (wait >= agingHorizonMs) overdue.push(wait);
    if (r.request.criticality === 1) lowest = Math.max(lowest ?? 0, wait);
    if (r.request.criticality === 5) top.push(wait);
  }
  waits.sort((a, b) => a - b);
  top.sort((a, b) => a - b);
  return {
    requests: records.length,
    dispatched: waits.length,
    evicted,
    rejected,
    waitP50Ms: percentile(waits, 50),
    waitP99Ms: percentile(waits, 99),
    waitMaxMs: waits.at(-1) ?? null,
    overdueServed: overdue.length,
    overdueWaitMaxMs: overdue.length === 0 ? null : Math.max(...overdue),
    lowestCriticalityWaitMaxMs: lowest,
    topCriticalityWaitP50Ms: percentile(top, 50),
    topCriticalityWaitP99Ms: percentile(top, 99),
  };
}

export interface InversionFigures {
  /** Share of dispatches made while a better head waited on another shard. */
  readonly invertedShare: number;
  /** Share of dispatches of a head that was not overdue while an overdue one waited elsewhere. */
  readonly skippedOverdueShare: number;
  /** How much better the skipped head was, in ms of the policy's score (p50, p99, max of inversions). */
  readonly gapP50Ms: number | null;
  readonly gapP99Ms: number | null;
  readonly gapMaxMs: number | null;
  /**
   * How long the skipped head still waited after the inverted dispatch, until it was served itself (p50,
   * p99): how long an inversion lasted.
   */
  readonly residualP50Ms: number | null;
  readonly residualP99Ms: number | null;
}

export function inversionFigures(result: ShardedResult): InversionFigures {
  const gaps: number[] = [];
  const residuals: number[] = [];
  const byId = new Map(result.records.map((r) => [r.request.id, r]));
  let dispatched = 0;
  let skipped = 0;
  for (const r of result.records) {
    if (r.dispatchedAtMs === null) continue;
    dispatched++;
    if (r.inverted) gaps.push(r.inversionGapMs);
    if (r.skippedOverdue) skipped++;
    const other = r.skippedRequestId === null ? undefined : byId.get(r.skippedRequestId);
    const servedAt = other?.dispatchedAtMs ?? other?.endedAtMs;
    if (servedAt !== undefined && servedAt !== null) residuals.push(servedAt - r.dispatchedAtMs);
  }
  gaps.sort((a, b) => a - b);
  residuals.sort((a, b) => a - b);
  return {
    invertedShare: dispatched === 0 ? 0 : gaps.length / dispatched,
    skippedOverdueShare: dispatched === 0 ? 0 : skipped / dispatched,
    gapP50Ms: percentile(gaps, 50),
    gapP99Ms: percentile(gaps, 99),
    gapMaxMs: gaps.at(-1) ?? null,
    residualP50Ms: percentile(residuals, 50),
    residualP99Ms: percentile(residuals, 99),
  };
}

export interface LoadFigures {
  /** Calls per second over the run. A coordinator takes an offer and a release per request. */
  readonly rootCallsPerSec: number;
  readonly busiestShardCallsPerSec: number;
  /** What one coordinator for the whole pool would take: an offer and a release per dispatched request. */
  readonly singleCallsPerSec: number;
}

export function loadFigures(result: ShardedResult, durationMs: number): LoadFigures {
  const perShard = Array.from({ length: result.config.shards }, () => 0);
  let dispatched = 0;
  for (const r of result.records) {
    if (r.dispatchedAtMs === null) continue;
    dispatched++;
    const shard = shardOf(r.request.workloadId, result.config.shards);
    perShard[shard] = (perShard[shard] ?? 0) + 2;
  }
  const seconds = durationMs / 1000;
  return {
    rootCallsPerSec: rootCallTotal(result.rootCalls) / seconds,
    busiestShardCallsPerSec: Math.max(...perShard) / seconds,
    singleCallsPerSec: (2 * dispatched) / seconds,
  };
}
