// /metrics' two halves in core: the workload tally (reported on messages the protocol sends anyway) and
// the coordinator's pool summary. Driven through the LocalScheduler, so the reports take the same paths
// as between Durable Objects; the counters must equal the registry's (what /admin shows).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COUNTER_LENGTH,
  countersOnly,
  decodeSparse,
  emptyCounters,
  encodeSparse,
  ENDED,
  IX,
  LocalScheduler,
  OTHER_WORKLOADS,
  PoolSummary,
  REASONS,
  WorkloadTally,
  createPolicy,
  type MetricsReport,
  type PoolSummarySnapshot,
} from '../../src/core/index.ts';

function sumOf(snap: PoolSummarySnapshot, at: (c: number[]) => number): number {
  return [...snap.top, snap.other].reduce((s, row) => s + at(decodeSparse(row.counters)), 0);
}

describe('pool summary through the local scheduler', () => {
  it('after N requests, M cancelled while queued and K rejected, the counters equal the registry', () => {
    const s = new LocalScheduler({
      policy: createPolicy('workload-aware'),
      backends: [{ name: 'b1', maxConcurrency: 2 }],
      workload: { maxQueue: 3 },
    });
    let t = 0;
    const ids: Array<[string, string]> = [];
    // 3 workloads × 6 requests at once: 2 run, 3 wait per workload at most, the rest are rejected.
    for (const w of ['a', 'b', 'c']) {
      for (let i = 0; i < 6; i++) {
        const id = `${w}-${i}`;
        s.admit(w, id, w === 'c' ? 5 : 2, t);
        ids.push([w, id]);
      }
    }
    t += 100;
    let cancelled = 0;
    for (const [w, id] of ids) {
      if (s.workload(w).isQueued(id) && cancelled < 2) cancelled += s.cancel(w, id, t) ? 1 : 0;
    }
    // Finish everything that runs, with usage, until nothing is left.
    for (let round = 0; round < 20; round++) {
      t += 50;
      for (const d of s.dispatch(t)) {
        s.complete(d.workloadId, d.requestId, ENDED.completed, t + 10, {
          promptTokens: 7,
          completionTokens: 3,
        });
      }
    }
    const snap = s.coordinator.metrics.snapshot(t, 2);
    expect(snap.top).toHaveLength(2);
    expect(snap.other.workloadId).toBe(OTHER_WORKLOADS);

    const registry = [...s.workloads()].map((w) => w.metrics(t));
    const total = (f: (m: (typeof registry)[number]) => number) => registry.reduce((a, m) => a + f(m), 0);
    expect(sumOf(snap, (c) => c[IX.requests] as number)).toBe(total((m) => m.totalRequests));
    expect(total((m) => m.totalRequests)).toBe(18);
    for (const reason of REASONS) {
      expect(
        sumOf(snap, (c) => c[IX.ended(reason)] as number),
        reason,
      ).toBe(total((m) => m.reasons[reason]));
    }
    expect(total((m) => m.reasons.client_closed)).toBe(2);
    expect(total((m) => m.reasons.queue_full)).toBeGreaterThan(0);
    expect(sumOf(snap, (c) => c[IX.promptTokens] as number)).toBe(total((m) => m.promptTokens));
    expect(sumOf(snap, (c) => c[IX.completionTokens] as number)).toBe(total((m) => m.completionTokens));
    // Pool-wide totals hold the same (they feed the histograms).
    const totals = decodeSparse(snap.totals);
    expect(totals[IX.requests]).toBe(18);
    expect(sumOf(snap, (c) => c[IX.inFlight] as number)).toBe(0);
  });

  it('per-workload gauges follow the queue and the running requests', () => {
    const s = new LocalScheduler({
      policy: createPolicy('fcfs'),
      backends: [{ name: 'b1', maxConcurrency: 1 }],
    });
    for (let i = 0; i < 4; i++) s.admit('w', `r${i}`, 3, 0);
    const row = s.coordinator.metrics.snapshot(0, 5).top.find((r) => r.workloadId === 'w');
    const c = decodeSparse(row?.counters ?? []);
    expect(c[IX.inFlight]).toBe(1);
    expect(c[IX.level(3, 'queued')]).toBe(3);
    expect(c[IX.level(3, 'dispatched')]).toBe(1);
  });
});

describe('PoolSummary', () => {
  const report = (
    workloadId: string,
    bornAt: number,
    epoch: number,
    n: number,
    requests: number,
  ): MetricsReport => {
    const t = new WorkloadTally(workloadId, bornAt);
    for (let i = 0; i < requests; i++) {
      t.arrived(`r${i}`, 'p', 3);
      t.ended(`r${i}`, ENDED.completed);
    }
    const r = t.takeReport('p');
    if (!r) throw new Error('no report');
    return { ...r, epoch, n };
  };
  const requestsOf = (s: PoolSummary, now = 0) => decodeSparse(s.snapshot(now, 10).totals)[IX.requests];

  it('drops a report overtaken by a newer one of the same life', () => {
    const s = new PoolSummary();
    s.apply(report('w', 0, 0, 2, 5), 0);
    s.apply(report('w', 0, 0, 1, 3), 0);
    expect(requestsOf(s)).toBe(5);
  });

  it('a restarted host continues its counts; a new life (deleted when idle) adds to them', () => {
    const s = new PoolSummary();
    s.apply(report('w', 0, 0, 1, 5), 0);
    s.apply(report('w', 0, 1000, 1, 6), 1000);
    expect(requestsOf(s)).toBe(6);
    s.apply(report('w', 5000, 5000, 1, 2), 5000);
    expect(requestsOf(s)).toBe(8);
    // A late report of the earlier life changes nothing.
    s.apply(report('w', 0, 1000, 9, 7), 6000);
    expect(requestsOf(s)).toBe(8);
  });

  it('a retired workload stays in the totals, under other', () => {
    const s = new PoolSummary();
    s.apply(report('a', 0, 0, 1, 4), 0);
    s.apply(report('b', 0, 0, 1, 1), 0);
    s.retire('a');
    const snap = s.snapshot(0, 10);
    expect(snap.top.map((r) => r.workloadId)).toEqual(['b']);
    expect(decodeSparse(snap.other.counters)[IX.requests]).toBe(4);
    expect(decodeSparse(snap.totals)[IX.requests]).toBe(5);
  });

  it('labels only the top N by recent traffic; other holds the rest', () => {
    const s = new PoolSummary();
    for (let w = 0; w < 50; w++) s.apply(report(`w${w}`, 0, 0, 1, w + 1), 1000);
    const snap = s.snapshot(1000, 3);
    expect(snap.top.map((r) => r.workloadId)).toEqual(['w49', 'w48', 'w47']);
    expect(snap.workloadCount).toBe(50);
    const top = 50 + 49 + 48;
    expect(decodeSparse(snap.other.counters)[IX.requests]).toBe((50 * 51) / 2 - top);
  });

  it('applies reports exactly as a dense decode would: gauges back to 0, new lives, pairs out of order, stale ones', () => {
    // A few indexes, gauges among them (inFlight, queued levels), so entries come and go between reports.
    const indexes = [
      IX.requests,
      IX.inFlight,
      IX.level(2, 'queued'),
      IX.level(2, 'enqueued'),
      COUNTER_LENGTH - 1,
    ];
    const stepArb = fc.record({
      w: fc.nat({ max: 2 }),
      values: fc.array(fc.nat({ max: 3 }), { minLength: indexes.length, maxLength: indexes.length }),
      newLife: fc.boolean(),
      stale: fc.boolean(),
      shuffled: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
        const s = new PoolSummary();
        // The reference: per workload, the last life's counters and the earlier lives' counters.
        const ref = new Map<string, { bornAt: number; n: number; base: number[]; last: number[] }>();
        let now = 0;
        for (const step of steps) {
          now += 1_000;
          const id = `w${step.w}`;
          const known = ref.get(id);
          const counters = emptyCounters();
          indexes.forEach((i, k) => (counters[i] = step.values[k] as number));
          const pairs = encodeSparse(counters);
          if (step.shuffled && pairs.length >= 4) pairs.push(...pairs.splice(0, 2));
          const bornAt = (known?.bornAt ?? 0) + (step.newLife ? 1 : 0);
          const n = (known?.n ?? 0) + (step.stale && known ? -1 : 1);
          s.apply({ workloadId: id, bornAt, epoch: 0, n, counters: pairs }, now);
          if (!known) ref.set(id, { bornAt, n, base: emptyCounters(), last: counters });
          else if (bornAt > known.bornAt || n > known.n) {
            if (bornAt > known.bornAt)
              known.base = known.base.map((b, i) => b + (countersOnly(known.last)[i] ?? 0));
            Object.assign(known, { bornAt, n, last: counters });
          }
          const totals = emptyCounters().map((_, i) =>
            [...ref.values()].reduce((sum, r) => sum + (r.base[i] ?? 0) + (r.last[i] ?? 0), 0),
          );
          const snap = s.snapshot(now, 10);
          expect(decodeSparse(snap.totals)).toEqual(totals);
          for (const row of snap.top) {
            const r = ref.get(row.workloadId);
            expect(decodeSparse(row.counters)).toEqual(r?.base.map((b, i) => b + (r.last[i] ?? 0)));
          }
        }
      }),
      { seed: 17, numRuns: 200 },
    );
  });

  it('counts an unreadable report instead of applying it', () => {
    const s = new PoolSummary();
    s.apply({ workloadId: 'w', bornAt: 0, epoch: 0, n: 1, counters: [100_000, 1] }, 0);
    const snap = s.snapshot(0, 10);
    expect(snap.badReports).toBe(1);
    expect(snap.workloadCount).toBe(0);
  });
});

describe('WorkloadTally', () => {
  it('survives a snapshot round trip and counts each end once', () => {
    const t = new WorkloadTally('w', 0);
    t.arrived('r1', 'p', 2);
    t.dispatched('r1', 1500);
    const restored = new WorkloadTally('w', 10, t.snapshot());
    restored.ended('r1', ENDED.completed, { promptTokens: 5, completionTokens: 9 });
    restored.ended('r1', ENDED.completed, { promptTokens: 5, completionTokens: 9 });
    const c = restored.countersOf('p') ?? [];
    expect(c[IX.ended('completed')]).toBe(1);
    expect(c[IX.completionTokens]).toBe(9);
    expect(c[IX.inFlight]).toBe(0);
    expect(c[IX.level(2, 'waitSumMs')]).toBe(1500);
    expect(restored.takeReport('p')?.bornAt).toBe(0);
  });

  it('a lost report is sent again with the next message', () => {
    const t = new WorkloadTally('w', 0);
    t.arrived('r1', 'p', 1);
    expect(t.takeReport('p')).toBeDefined();
    expect(t.takeReport('p')).toBeUndefined();
    t.reportLost('p');
    expect(t.takeReport('p')?.n).toBe(2);
  });
});
