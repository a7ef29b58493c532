// workload-aware with fairness = 'tokens': service is charged by token estimate below the horizon, while
// the aging guarantee (overdue outranks everything else) and the rankKey contract still hold.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createWorkloadAwarePolicy,
  isOverdue,
  LocalScheduler,
  WorkloadRegistryEntry,
  type HeadView,
  type WorkloadSignals,
} from '../../src/core/index.ts';

const H = 30_000;
const tokens = createWorkloadAwarePolicy({ fairness: 'tokens', tokenCostMsPer1k: 1_000 });
const requests = createWorkloadAwarePolicy();

const head = (criticality: number, enqueuedAt: number): HeadView => ({
  requestId: 'r',
  criticality,
  enqueuedAt,
});
const signals = (s: Partial<WorkloadSignals> = {}): WorkloadSignals => ({
  requestRatePerSec: 0,
  averageWaitMs: null,
  lastDispatchedAt: null,
  serviceMarkAt: null,
  ...s,
});

describe('token fairness in the policy', () => {
  it('charges a workload for the tokens it was just served', () => {
    // A got an 8,000-token generation at t=0; B's head arrived at t=1 s. At t=2 s, equal criticality:
    const a = { head: head(3, 0), signals: signals({ lastDispatchedAt: 0, serviceMarkAt: 8_000 }) };
    const b = { head: head(3, 1_000), signals: signals() };
    // counting requests, A has waited longer since its last slot and goes first…
    expect(requests.score(a.head, a.signals, 2_000)).toBeGreaterThan(
      requests.score(b.head, b.signals, 2_000),
    );
    // …counting tokens, A is still paying for its 8 s of service and B goes first.
    expect(tokens.score(b.head, b.signals, 2_000)).toBeGreaterThan(tokens.score(a.head, a.signals, 2_000));
  });

  it('moves the service mark like a start tag: by the cost served, from max(mark, arrival), capped', () => {
    // Counting requests the mark is just the dispatch time.
    expect(requests.serviceMarkAfter(1_000, 0, 8_000, 2_000)).toBe(2_000);
    // First dispatch: from the arrival, 1 ms per token.
    expect(tokens.serviceMarkAfter(null, 0, 2_000, 100)).toBe(2_000);
    // Backlogged: advances from the previous mark, not from the clock.
    expect(tokens.serviceMarkAfter(2_000, 0, 2_000, 300)).toBe(4_000);
    // Idle in between: catches up with the new arrival, so nobody saves up credit.
    expect(tokens.serviceMarkAfter(1_000, 50_000, 100, 50_010)).toBe(50_100);
    // Never more than one criticality step (5 s) ahead of the dispatch time.
    expect(tokens.serviceMarkAfter(null, 0, 8_000, 100)).toBe(5_100);
    expect(
      createWorkloadAwarePolicy({ fairness: 'tokens', tokenCostMsPer1k: 250 }).serviceMarkAfter(
        null,
        0,
        8_000,
        0,
      ),
    ).toBe(2_000);
  });

  it('rejects an unknown fairness mode or a negative token cost, naming the field', () => {
    expect(() => createWorkloadAwarePolicy({ fairness: 'bytes' as never })).toThrow(/fairness/);
    expect(() => createWorkloadAwarePolicy({ tokenCostMsPer1k: -1 })).toThrow(/tokenCostMsPer1k/);
  });

  const arbHead = fc.record({
    c: fc.integer({ min: 1, max: 5 }),
    enq: fc.integer({ min: 0, max: 100_000 }),
    last: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
    debt: fc.integer({ min: 0, max: 60_000 }),
    rate: fc.double({ min: 0, max: 200, noNaN: true }),
  });
  const build = (x: { c: number; enq: number; last: number | null; debt: number; rate: number }) => ({
    head: head(x.c, x.enq),
    signals: signals({
      requestRatePerSec: x.rate,
      lastDispatchedAt: x.last,
      serviceMarkAt: x.last === null ? null : x.last + x.debt,
    }),
  });

  it('keeps the guarantee: an overdue head outranks every head that is not, whatever its token debt', () => {
    fc.assert(
      fc.property(arbHead, arbHead, fc.integer({ min: 0, max: 200_000 }), (x, y, now) => {
        const a = build(x);
        const b = build(y);
        if (a.head.enqueuedAt > now || b.head.enqueuedAt > now) return;
        if ((x.last ?? 0) > now || (y.last ?? 0) > now) return;
        const aOver = isOverdue(tokens, a.head, now);
        const bOver = isOverdue(tokens, b.head, now);
        if (aOver && !bOver) {
          expect(tokens.score(a.head, a.signals, now)).toBeGreaterThan(tokens.score(b.head, b.signals, now));
        }
      }),
    );
  });

  it('keeps the rankKey contract below the horizon', () => {
    fc.assert(
      fc.property(arbHead, arbHead, fc.integer({ min: 0, max: 200_000 }), (x, y, now) => {
        const a = build(x);
        const b = build(y);
        if (a.head.enqueuedAt > now || b.head.enqueuedAt > now) return;
        if (isOverdue(tokens, a.head, now) || isOverdue(tokens, b.head, now)) return;
        const byScore = tokens.score(a.head, a.signals, now) - tokens.score(b.head, b.signals, now);
        const byKey = tokens.rankKey(a.head, a.signals) - tokens.rankKey(b.head, b.signals);
        if (Math.abs(byScore) > 1e-6) expect(Math.sign(byKey)).toBe(Math.sign(byScore));
      }),
    );
  });
});

describe('token fairness through the registry and the scheduler', () => {
  it('records the service mark the policy computed, and keeps it across a snapshot', () => {
    const r = new WorkloadRegistryEntry();
    r.onNew('a', 0);
    r.onNew('b', 0);
    r.onDispatched('a', 0, 1_000);
    expect(r.metrics(1_000).serviceMarkAt).toBe(1_000);
    r.onDispatched('b', 2_000, 2_000, 6_100);
    expect(r.metrics(2_000).serviceMarkAt).toBe(6_100);
    expect(WorkloadRegistryEntry.fromSnapshot(r.snapshot()).metrics(2_000).serviceMarkAt).toBe(6_100);
  });

  /**
   * Two equal-criticality tenants with deep backlogs, one slot: `long` asks for 4,000-token generations,
   * `short` for 50-token ones. Returns short's share of the first 30 slots.
   */
  function shareOfShort(fairness: 'requests' | 'tokens'): number {
    const s = new LocalScheduler({
      policy: createWorkloadAwarePolicy({ fairness }),
      backends: [{ name: 'gpu', maxConcurrency: 1 }],
      workload: { queueTtlMs: 1e9, maxQueue: 10_000 },
    });
    const serviceMs = (workload: string) => 200 + (workload === 'long' ? 4_000 : 50);
    for (let i = 0; i < 40; i++) {
      s.admit('long', `l${i}`, 3, 0, 4_000);
      s.admit('short', `s${i}`, 3, 0, 50);
    }
    let now = 0;
    let short = 0;
    for (let slot = 0; slot < 30; slot++) {
      const [d] = s.dispatch(now);
      if (!d) throw new Error('nothing dispatched');
      if (d.workloadId === 'short') short++;
      now += serviceMs(d.workloadId);
      s.complete(d.workloadId, d.requestId, 'success', now);
    }
    return short / 30;
  }

  it('gives the short-request tenant most slots when fairness counts tokens, half when it counts requests', () => {
    const byRequests = shareOfShort('requests');
    const byTokens = shareOfShort('tokens');
    expect(byRequests).toBeGreaterThanOrEqual(0.4);
    expect(byRequests).toBeLessThanOrEqual(0.6);
    expect(byTokens).toBeGreaterThan(0.9);
  });
});
