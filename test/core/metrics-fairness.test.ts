// The live fairness gauge is the lab's Jain's index: the same run, measured by the coordinator's pool
// summary (from the workloads' reports) and by lab/fairness.ts (from the full request records), agrees.

import { describe, expect, it } from 'vitest';
import { windowedJain } from '../../lab/fairness.ts';
import { IX } from '../../src/core/metrics/counter-layout.ts';
import type { RequestRecord } from '../../lab/simulate.ts';
import {
  ENDED,
  FAIRNESS_RECENT_WINDOWS,
  FAIRNESS_WINDOW_MS,
  LocalScheduler,
  PoolSummary,
  createPolicy,
  type Criticality,
  type PolicyName,
} from '../../src/core/index.ts';

interface Live {
  workloadId: string;
  criticality: Criticality;
  arriveAtMs: number;
  dispatchedAtMs: number | null;
  endedAtMs: number | null;
}

/** Three tenants at criticality 3 with different rates and one at 5, on 3 slots of 0.7 s each, overloaded for 20 s, drained by 60 s. */
function run(policy: PolicyName): { scheduler: LocalScheduler; records: RequestRecord[] } {
  const s = new LocalScheduler({
    policy: createPolicy(policy),
    backends: [{ name: 'b', maxConcurrency: 3 }],
  });
  const tenants: Array<{ id: string; c: Criticality; everyMs: number }> = [
    { id: 'heavy', c: 3, everyMs: 200 },
    { id: 'light', c: 3, everyMs: 1500 },
    { id: 'mid', c: 3, everyMs: 900 },
    { id: 'vip', c: 5, everyMs: 2500 },
  ];
  const live = new Map<string, Live>();
  const running: Array<{ id: string; workloadId: string; doneAt: number }> = [];
  for (let t = 0; t <= 6 * FAIRNESS_WINDOW_MS - 1000; t += 100) {
    for (let i = running.length - 1; i >= 0; i--) {
      const r = running[i];
      if (r && r.doneAt <= t) {
        running.splice(i, 1);
        s.complete(r.workloadId, r.id, ENDED.completed, t);
        const l = live.get(r.id);
        if (l) l.endedAtMs = t;
      }
    }
    if (t < 20_000) {
      for (const tenant of tenants) {
        if (t % tenant.everyMs !== 0) continue;
        const id = `${tenant.id}-${t}`;
        live.set(id, {
          workloadId: tenant.id,
          criticality: tenant.c,
          arriveAtMs: t,
          dispatchedAtMs: null,
          endedAtMs: null,
        });
        s.admit(tenant.id, id, tenant.c, t);
      }
    }
    // Read the gauge as a dashboard would, mid-run: complete windows are computed once and kept, so
    // these reads must not change the final number.
    if (t % 3_300 === 0) s.coordinator.metrics.fairness(t);
    for (const d of s.dispatch(t)) {
      const l = live.get(d.requestId);
      if (l) l.dispatchedAtMs = t;
      running.push({ id: d.requestId, workloadId: d.workloadId, doneAt: t + 700 });
    }
  }
  const records: RequestRecord[] = [...live].map(([id, l]) => ({
    request: {
      id,
      workloadId: l.workloadId,
      group: l.workloadId,
      series: l.workloadId,
      criticality: l.criticality,
      arriveAtMs: l.arriveAtMs,
      tokens: 1,
      maxTokens: 1,
    },
    outcome: l.endedAtMs === null ? null : 'success',
    dispatchedAtMs: l.dispatchedAtMs,
    endedAtMs: l.endedAtMs,
    backend: 'b',
    completionPosition: null,
  }));
  return { scheduler: s, records };
}

describe('live fairness gauge', () => {
  for (const policy of ['fcfs', 'workload-aware'] as const) {
    it(`equals the lab's windowed Jain over the same run (${policy})`, () => {
      const { scheduler, records } = run(policy);
      expect(
        records.filter((r) => r.dispatchedAtMs === null).map((r) => [r.request.id, r.endedAtMs]),
      ).toEqual([]);
      const lab = windowedJain(records);
      expect(lab).not.toBeNull();
      // The run is contended enough to tell the policies apart (fcfs lets the heavy tenant crowd out).
      if (policy === 'fcfs') expect(lab).toBeLessThan(0.9);
      // The run lies in the last FAIRNESS_RECENT_WINDOWS complete windows at this instant.
      const live = scheduler.coordinator.metrics.fairness(FAIRNESS_RECENT_WINDOWS * FAIRNESS_WINDOW_MS);
      expect(live.overall).toBeCloseTo(lab as number, 12);
      // Criticality 5 has one tenant: nobody to be unfair to.
      expect(live.byCriticality.find((l) => l.criticality === 5)?.jain).toBeNull();
    });
  }

  it('a starved workload that reports nothing still counts as demanding', () => {
    const s = new PoolSummary();
    const report = (workloadId: string, n: number, counters: number[]) => ({
      workloadId,
      bornAt: 0,
      epoch: 0,
      n,
      counters,
    });
    // Both queue 4 at criticality 2 in window 0; only `fed` is ever served (4 dispatches in window 1).
    s.apply(report('fed', 1, [IX.level(2, 'enqueued'), 4, IX.level(2, 'queued'), 4]), 0);
    s.apply(report('starved', 1, [IX.level(2, 'enqueued'), 4, IX.level(2, 'queued'), 4]), 0);
    s.apply(
      report('fed', 2, [IX.level(2, 'enqueued'), 4, IX.level(2, 'dispatched'), 4]),
      FAIRNESS_WINDOW_MS + 1,
    );
    const g = s.fairness(2 * FAIRNESS_WINDOW_MS);
    // Window 1: demands 4 and 4, capacity 4, shares 2 and 2, scores 2 and 0 → Jain 0.5.
    expect(g.overall).toBeCloseTo(0.5, 12);
  });
});
