// starvation exists to show that seed starves a low-criticality trickle and workload-aware does not, with
// either fairness mode: token fairness reorders tenants below the horizon and leaves the aging tier alone.

import { describe, expect, it } from 'vitest';
import { DEFAULT_AGING_HORIZON_MS, DEFAULT_QUEUE_TTL_MS } from '../../src/core/defaults.ts';
import { serviceTimeMs } from '../../lab/backend-model.ts';
import type { LabPolicyName } from '../../lab/policies.ts';
import { starvation as scenario } from '../../lab/scenarios/starvation.ts';
import { groupOf, recordsOf, runOf, runScenario } from './lab-runs.ts';

const runs = runScenario(scenario);
const H = DEFAULT_AGING_HORIZON_MS;
// Fixed 100-token completions on one backend model: 2,180 ms.
const SERVICE_MS = serviceTimeMs(scenario.backends[0] as (typeof scenario.backends)[0], 100);

describe('starvation', () => {
  it('uses the default TTL, so a starved request is evicted as a real client would see it', () => {
    expect(scenario.queueTtlMs).toBe(DEFAULT_QUEUE_TTL_MS);
  });

  it('seed starves the trickle: its requests are evicted by TTL after waiting the full TTL', () => {
    const trickle = groupOf(runOf(runs, 'seed'), 'trickle');
    expect(trickle.evictedTtl).toBeGreaterThan(trickle.requests / 2);
    expect(trickle.waitMaxMs).toBeGreaterThanOrEqual(DEFAULT_QUEUE_TTL_MS);
  });
});

const BOUNDED: readonly LabPolicyName[] = ['workload-aware', 'workload-aware+tokens'];

describe.each(BOUNDED)('starvation: %s bounds the trickle', (policy) => {
  it('serves every trickle request, none evicted', () => {
    const trickle = groupOf(runOf(runs, policy), 'trickle');
    expect(trickle.evictedTtl).toBe(0);
    expect(trickle.completed).toBe(trickle.requests);
    expect(trickle.waitMaxMs).toBeLessThan(DEFAULT_QUEUE_TTL_MS);
  });

  // The policy's stated guarantee: wait ≤ H + time to serve the overdue requests that arrived earlier.
  // Checked directly: once a trickle request is overdue, no request that arrived after it is dispatched first.
  it('past the horizon, nothing that arrived later overtakes a trickle request', () => {
    const run = runOf(runs, policy);
    const dispatched = run.result.records.filter((r) => r.dispatchedAtMs !== null);
    for (const t of recordsOf(run, 'trickle')) {
      const overdueAt = t.request.arriveAtMs + H;
      const servedAt = t.dispatchedAtMs as number;
      const overtakers = dispatched.filter(
        (r) =>
          (r.dispatchedAtMs as number) >= overdueAt &&
          (r.dispatchedAtMs as number) < servedAt &&
          r.request.arriveAtMs > t.request.arriveAtMs,
      );
      expect(
        overtakers.map((r) => r.request.id),
        t.request.id,
      ).toEqual([]);
    }
  });

  // While the criticality-5 requests it competes with are not themselves overdue, the trickle waits at most
  // the horizon plus the time for one slot to free.
  it('while no competing request is overdue, trickle wait ≤ horizon + one service time', () => {
    const run = runOf(runs, policy);
    const dispatched = run.result.records.filter((r) => r.dispatchedAtMs !== null);
    let checked = 0;
    for (const t of recordsOf(run, 'trickle')) {
      const servedAt = t.dispatchedAtMs as number;
      const competingOverdue = dispatched.some(
        (r) =>
          r.request.workloadId !== 'trickle' &&
          (r.dispatchedAtMs as number) >= t.request.arriveAtMs &&
          (r.dispatchedAtMs as number) <= servedAt &&
          (r.dispatchedAtMs as number) - r.request.arriveAtMs >= H,
      );
      if (competingOverdue) continue;
      checked++;
      expect(servedAt - t.request.arriveAtMs, t.request.id).toBeLessThanOrEqual(H + SERVICE_MS);
    }
    expect(checked).toBeGreaterThan(10);
  });

  // Overdue workloads take turns (the overdue tier orders by service gap, not arrival), so even while the
  // criticality-5 overload is itself past the horizon the trickle is served within one turn.
  it('trickle max wait ≤ horizon + one service time throughout', () => {
    expect(groupOf(runOf(runs, policy), 'trickle').waitMaxMs).toBeLessThanOrEqual(H + SERVICE_MS);
  });
});
