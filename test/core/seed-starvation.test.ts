// Documentation test: why the default policy is not the reference `seed` formula.
// Under sustained criticality-5 load, `seed` never dispatches a criticality-1 workload: its wait term is the
// workload's EMA, which only moves when the workload is dispatched, and it ignores the request's own wait.
// The low workload's requests sit until their TTL and end `evicted_ttl`. `workload-aware` scores the wait
// itself (one criticality level is worth S = 5 s of it) and lets nothing outrank a request that has waited
// the aging horizon, so the same workload is served within the horizon.

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_AGING_HORIZON_MS,
  DEFAULT_CRITICALITY_STEP_MS,
  DEFAULT_QUEUE_TTL_MS,
  DEFAULT_RATE_PENALTY_MS,
  LocalScheduler,
  createPolicy,
  type PolicyName,
} from '../../src/core/index.ts';
import { driveEventLoop, type Arrival, type DriveResult } from './scheduler-driver.ts';

const SERVICE_MS = 200;
const BATCH_AT = [500, 10_000, 20_000];

// One slot; interactive (criticality 5) arrives every 100 ms for 95 s but is served at 5/s, so it always
// has a backlog. Batch (criticality 1) sends three requests early on.
function scenario(): Arrival[] {
  const arrivals: Arrival[] = [];
  for (let at = 0; at <= 95_000; at += 100) {
    arrivals.push({
      at,
      workloadId: 'interactive',
      requestId: `i${at}`,
      criticality: 5,
      serviceMs: SERVICE_MS,
    });
  }
  for (const at of BATCH_AT) {
    arrivals.push({ at, workloadId: 'batch', requestId: `b${at}`, criticality: 1, serviceMs: SERVICE_MS });
  }
  return arrivals;
}

function run(
  policy: PolicyName,
  fairness?: 'requests' | 'tokens',
): { result: DriveResult; scheduler: LocalScheduler } {
  const scheduler = new LocalScheduler({
    policy: createPolicy(policy, fairness ? { fairness } : {}),
    backends: [{ name: 'gpu', maxConcurrency: 1 }],
  });
  return { result: driveEventLoop(scheduler, scenario(), 100_000), scheduler };
}

describe('seed starves a low-criticality workload under sustained high-criticality load', () => {
  it('seed: batch is never dispatched; every batch request ends evicted_ttl', () => {
    const { result, scheduler } = run('seed');
    expect(result.dispatched.filter((d) => d.workloadId === 'batch')).toEqual([]);
    expect(result.dispatched.filter((d) => d.workloadId === 'interactive').length).toBeGreaterThan(400);
    expect([...result.evicted].filter((id) => id.startsWith('b')).sort()).toEqual(
      BATCH_AT.map((at) => `b${at}`).sort(),
    );
    const batch = scheduler.workload('batch').metrics(result.endMs);
    expect(batch).toMatchObject({
      totalRequests: 3,
      dispatchedCount: 0,
      activeRequests: 0,
      averageWaitMs: null,
    });
    expect(batch.outcomes.evicted).toBe(3);
    // The EMA that seed reads never moves, so batch's score stays at its floor: 0.4·1/5 = 0.08, against
    // interactive's ≥ 0.4·5/5 − 0.2 = 0.2.
    expect(result.endMs).toBeGreaterThan(Math.max(...BATCH_AT) + DEFAULT_QUEUE_TTL_MS);
  });

  it('workload-aware (default, token fairness): batch waits at most the horizon plus one service turn', () => {
    const { result, scheduler } = run('workload-aware');
    const batch = result.dispatched.filter((d) => d.workloadId === 'batch');
    expect(batch.map((d) => d.requestId)).toEqual(BATCH_AT.map((at) => `b${at}`));
    for (const d of batch) {
      // Below the horizon token tags order only within a criticality, so criticality 5 goes first until
      // batch is overdue; then it outranks everything, and waits at most the one request in service.
      expect(d.waitMs).toBeGreaterThanOrEqual(DEFAULT_AGING_HORIZON_MS - SERVICE_MS);
      expect(d.waitMs).toBeLessThanOrEqual(DEFAULT_AGING_HORIZON_MS + SERVICE_MS);
    }
    expect(result.evicted.filter((id) => id.startsWith('b'))).toEqual([]);
    expect(scheduler.workload('batch').metrics(result.endMs).outcomes.success).toBe(3);
  });

  it('workload-aware, request fairness: every batch request is dispatched within the aging horizon, none evicted', () => {
    const { result, scheduler } = run('workload-aware', 'requests');
    const batch = result.dispatched.filter((d) => d.workloadId === 'batch');
    expect(batch.map((d) => d.requestId)).toEqual(BATCH_AT.map((at) => `b${at}`));
    for (const d of batch) {
      // Four criticality levels are worth 4·S = 20 s of waiting, so batch waits about that long, and
      // never past the horizon.
      expect(d.waitMs).toBeGreaterThan(
        4 * DEFAULT_CRITICALITY_STEP_MS - DEFAULT_RATE_PENALTY_MS - 2 * SERVICE_MS,
      );
      expect(d.waitMs).toBeLessThanOrEqual(DEFAULT_AGING_HORIZON_MS);
    }
    expect(result.evicted.filter((id) => id.startsWith('b'))).toEqual([]);
    expect(scheduler.workload('batch').metrics(result.endMs).outcomes.success).toBe(3);
  });
});
