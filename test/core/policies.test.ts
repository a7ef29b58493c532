// The three policies: fcfs and seed formulas exactly; workload-aware's formula, its rankKey contract
// (same order as the score below the horizon, at any `now`), and its aging guarantee.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WORKLOAD_AWARE_PARAMS,
  POLICY_NAMES,
  createPolicy,
  createWorkloadAwarePolicy,
  isOverdue,
  type HeadView,
  type WorkloadSignals,
} from '../../src/core/index.ts';

const head = (criticality: number, enqueuedAt: number, requestId = 'r'): HeadView => ({
  requestId,
  criticality,
  enqueuedAt,
});
const signals = (s: Partial<WorkloadSignals> = {}): WorkloadSignals => ({
  requestRatePerSec: 0,
  averageWaitMs: null,
  lastDispatchedAt: null,
  ...s,
});

describe('createPolicy', () => {
  it('builds each named policy', () => {
    for (const name of POLICY_NAMES) expect(createPolicy(name).name).toBe(name);
    expect(POLICY_NAMES).toEqual(['fcfs', 'seed', 'workload-aware']);
  });

  it('passes parameters to workload-aware', () => {
    expect(createPolicy('workload-aware', { agingHorizonMs: 1_234 }).agingHorizonMs).toBe(1_234);
  });
});

describe('fcfs', () => {
  const fcfs = createPolicy('fcfs');

  it('scores the head’s own wait and ignores everything else', () => {
    expect(fcfs.score(head(1, 1_000), signals(), 4_500)).toBe(3_500);
    expect(fcfs.score(head(5, 1_000), signals({ requestRatePerSec: 500, averageWaitMs: 9e9 }), 4_500)).toBe(
      3_500,
    );
    expect(fcfs.rankKey(head(3, 1_000), signals())).toBe(-1_000);
  });

  it('orders queues by arrival and has no aging horizon', () => {
    expect(fcfs.queueOrder).toBe('fifo');
    expect(fcfs.agingHorizonMs).toBeNull();
    expect(isOverdue(fcfs, head(1, 0), 1e12)).toBe(false);
  });
});

describe('seed (reference formula)', () => {
  const seed = createPolicy('seed');
  // 0.4·min(avgWaitSec/60, 1) + 0.4·c/5 − 0.2·min(rate/100, 1)
  it.each([
    ['no history, c=5', 5, null, 0, 0.4],
    ['no history, c=1', 1, null, 0, 0.08],
    ['half-capped terms', 1, 30_000, 50, 0.2 + 0.08 - 0.1],
    ['capped wait and rate', 3, 120_000, 500, 0.4 + 0.24 - 0.2],
    ['exactly at the caps', 4, 60_000, 100, 0.4 + 0.32 - 0.2],
    ['small values', 2, 6_000, 10, 0.04 + 0.16 - 0.02],
  ])('%s', (_label, c, avgWaitMs, rate, want) => {
    const s = signals({ averageWaitMs: avgWaitMs, requestRatePerSec: rate });
    expect(seed.score(head(c, 0), s, 0)).toBeCloseTo(want, 12);
    expect(seed.rankKey(head(c, 0), s)).toBeCloseTo(want, 12);
  });

  it('ignores the head’s own wait: a request that has waited an hour scores as a new one (flaw, kept)', () => {
    const s = signals({ averageWaitMs: 1_000 });
    expect(seed.score(head(1, 0), s, 3_600_000)).toBe(seed.score(head(1, 3_599_999), s, 3_600_000));
    expect(seed.agingHorizonMs).toBeNull();
    expect(seed.queueOrder).toBe('criticality');
  });
});

describe('workload-aware', () => {
  // The service-gap formula is request fairness's; token fairness (the default) is in token-fairness.test.ts.
  const wa = createPolicy('workload-aware', { fairness: 'requests' });
  const {
    agingHorizonMs: H,
    criticalityStepMs: S,
    ratePenaltyMs: P,
    rateCapPerSec: R,
  } = DEFAULT_WORKLOAD_AWARE_PARAMS;

  it('has the documented defaults', () => {
    expect(DEFAULT_WORKLOAD_AWARE_PARAMS).toEqual({
      agingHorizonMs: 30_000,
      criticalityStepMs: 5_000,
      ratePenaltyMs: 2_000,
      rateCapPerSec: 50,
      fairness: 'tokens',
      tokenCostMsPer1k: 1_000,
    });
    expect(wa.agingHorizonMs).toBe(30_000);
    expect(wa.queueOrder).toBe('criticality');
  });

  it('below the horizon: score = gap + S·(c − 1) − P·min(r/R, 1)', () => {
    // gap = now − enqueuedAt when never dispatched
    expect(wa.score(head(3, 0), signals({ requestRatePerSec: 25 }), 10_000)).toBeCloseTo(
      10_000 + 10_000 - 1_000,
      9,
    );
    // gap = now − lastDispatchedAt when that is later than the arrival
    expect(
      wa.score(head(3, 0), signals({ requestRatePerSec: 25, lastDispatchedAt: 4_000 }), 10_000),
    ).toBeCloseTo(6_000 + 10_000 - 1_000, 9);
    // the rate penalty saturates at P
    expect(wa.score(head(1, 0), signals({ requestRatePerSec: 5_000 }), 1_000)).toBeCloseTo(1_000 - P, 9);
    // the EMA of past waits plays no part
    expect(wa.score(head(2, 0), signals({ averageWaitMs: 59_000 }), 1_000)).toBe(
      wa.score(head(2, 0), signals(), 1_000),
    );
  });

  it('at and beyond the horizon: score = H + 4·S + gap, whatever the criticality or rate', () => {
    const s = signals({ requestRatePerSec: 1e6, lastDispatchedAt: 29_999 });
    expect(wa.score(head(1, 0), s, H)).toBe(H + 4 * S + 1);
    expect(wa.score(head(5, 0), signals(), H + 7)).toBe(H + 4 * S + H + 7);
    expect(wa.score(head(3, 0), signals({ lastDispatchedAt: H + 7 }), H + 7)).toBe(H + 4 * S);
    expect(isOverdue(wa, head(1, 0), H - 1)).toBe(false);
    expect(isOverdue(wa, head(1, 0), H)).toBe(true);
  });

  it('fcfs and seed keep a single tier: overdueKey equals rankKey', () => {
    for (const name of ['fcfs', 'seed'] as const) {
      const p = createPolicy(name);
      const h = head(2, 1_234);
      const s = signals({ requestRatePerSec: 17, averageWaitMs: 4_000 });
      expect(p.overdueKey(h, s)).toBe(p.rankKey(h, s));
    }
  });

  const criticality = fc.integer({ min: 1, max: 5 });
  const rate = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.double({ min: 0, max: 1e4, noNaN: true }));
  const nowArb = fc.integer({ min: -1e12, max: 1e12 });

  /** A head waiting `wait` ms at `now`, with a last dispatch somewhere before `now` (or never). */
  const headAt = (now: number, maxWait: number, minWait = 0) =>
    fc
      .tuple(
        criticality,
        fc.integer({ min: minWait, max: maxWait }),
        rate,
        fc.option(fc.integer({ min: 0, max: 1e6 })),
      )
      .map(([c, wait, r, sinceDispatch]) => ({
        head: head(c, now - wait),
        signals: signals({
          requestRatePerSec: r,
          lastDispatchedAt: sinceDispatch === null ? null : now - sinceDispatch,
        }),
      }));

  it('rankKey orders non-overdue heads exactly as score does, at any now (property)', () => {
    fc.assert(
      fc.property(
        nowArb.chain((now) => fc.tuple(fc.constant(now), headAt(now, H - 1), headAt(now, H - 1))),
        ([now, a, b]) => {
          const keyDiff = wa.rankKey(a.head, a.signals) - wa.rankKey(b.head, b.signals);
          const scoreDiff = wa.score(a.head, a.signals, now) - wa.score(b.head, b.signals, now);
          // rankKey carries an absolute time (~1e12 ms for epoch clocks), so it is exact only to ~1e-4 ms.
          const tolMs = 1e-3;
          if (Math.abs(scoreDiff) > tolMs) expect(Math.sign(keyDiff)).toBe(Math.sign(scoreDiff));
          if (Math.abs(keyDiff) > tolMs) expect(Math.sign(scoreDiff)).toBe(Math.sign(keyDiff));
          if (Math.abs(keyDiff) === 0) expect(Math.abs(scoreDiff)).toBeLessThanOrEqual(tolMs);
        },
      ),
      { seed: 19, numRuns: 2_000 },
    );
  });

  it('an overdue head outranks every non-overdue head, whatever the criticalities and rates (property)', () => {
    fc.assert(
      fc.property(
        nowArb.chain((now) => fc.tuple(fc.constant(now), headAt(now, 10 * H, H), headAt(now, H - 1))),
        ([now, overdue, fresh]) => {
          expect(isOverdue(wa, overdue.head, now)).toBe(true);
          expect(isOverdue(wa, fresh.head, now)).toBe(false);
          expect(wa.score(overdue.head, overdue.signals, now)).toBeGreaterThan(
            wa.score(fresh.head, fresh.signals, now),
          );
        },
      ),
      { seed: 23, numRuns: 2_000 },
    );
  });

  it('the same guarantee holds with custom parameters (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          agingHorizonMs: fc.integer({ min: 1, max: 120_000 }),
          criticalityStepMs: fc.integer({ min: 0, max: 60_000 }),
          ratePenaltyMs: fc.integer({ min: 0, max: 60_000 }),
          rateCapPerSec: fc.integer({ min: 1, max: 1_000 }),
        }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        criticality,
        criticality,
        rate,
        rate,
        (params, now, overdueFrac, freshFrac, c1, c2, r1, r2) => {
          const policy = createWorkloadAwarePolicy(params);
          const h = params.agingHorizonMs;
          const overdue = head(c1, now - h - Math.floor(overdueFrac * 10 * h));
          const fresh = head(c2, now - Math.floor(freshFrac * h));
          expect(policy.score(overdue, signals({ requestRatePerSec: r1 }), now)).toBeGreaterThan(
            policy.score(fresh, signals({ requestRatePerSec: r2, lastDispatchedAt: now - 1 }), now),
          );
        },
      ),
      { seed: 29, numRuns: 1_000 },
    );
  });

  it('overdue heads: the workload longest without a slot goes first, not the oldest request', () => {
    const now = 100_000;
    const oldButJustServed = { h: head(5, 0), s: signals({ lastDispatchedAt: 90_000 }) };
    const youngerNeverServed = { h: head(1, 50_000), s: signals() };
    expect(isOverdue(wa, oldButJustServed.h, now) && isOverdue(wa, youngerNeverServed.h, now)).toBe(true);
    expect(wa.score(youngerNeverServed.h, youngerNeverServed.s, now)).toBeGreaterThan(
      wa.score(oldButJustServed.h, oldButJustServed.s, now),
    );
    expect(wa.overdueKey(youngerNeverServed.h, youngerNeverServed.s)).toBeGreaterThan(
      wa.overdueKey(oldButJustServed.h, oldButJustServed.s),
    );
    // Equal gaps: equal scores (the dispatcher then takes the earlier enqueuedAt).
    expect(wa.score(head(1, 0), signals(), 50_000)).toBe(
      wa.score(head(5, 0), signals({ requestRatePerSec: 99 }), 50_000),
    );
  });

  it('overdueKey orders overdue heads exactly as score does, at any now (property)', () => {
    fc.assert(
      fc.property(
        nowArb.chain((now) => fc.tuple(fc.constant(now), headAt(now, 10 * H, H), headAt(now, 10 * H, H))),
        ([now, a, b]) => {
          const keyDiff = wa.overdueKey(a.head, a.signals) - wa.overdueKey(b.head, b.signals);
          const scoreDiff = wa.score(a.head, a.signals, now) - wa.score(b.head, b.signals, now);
          expect(Math.sign(scoreDiff)).toBe(Math.sign(keyDiff));
        },
      ),
      { seed: 47, numRuns: 1_000 },
    );
  });

  it('higher criticality goes first at equal gap', () => {
    for (let c = 1; c < 5; c++) {
      expect(wa.score(head(c + 1, 1_000), signals(), 5_000)).toBeGreaterThan(
        wa.score(head(c, 1_000), signals(), 5_000),
      );
      expect(wa.rankKey(head(c + 1, 1_000), signals())).toBeGreaterThan(
        wa.rankKey(head(c, 1_000), signals()),
      );
    }
    // Equal gap through different histories: one waited 4 s since arrival, the other 4 s since its last dispatch.
    const viaArrival = wa.score(head(4, 6_000), signals(), 10_000);
    const viaDispatch = wa.score(head(3, 0), signals({ lastDispatchedAt: 6_000 }), 10_000);
    expect(viaArrival - viaDispatch).toBe(S);
  });

  it('a heavy workload yields to a light one at equal criticality and gap, by at most P ms', () => {
    const light = wa.score(head(3, 1_000), signals({ requestRatePerSec: 0 }), 8_000);
    const heavy = wa.score(head(3, 1_000), signals({ requestRatePerSec: 200 }), 8_000);
    expect(light - heavy).toBe(P);
    const halfCap = wa.score(head(3, 1_000), signals({ requestRatePerSec: R / 2 }), 8_000);
    expect(light - halfCap).toBeCloseTo(P / 2, 9);
    // Beyond P ms of extra gap, the heavy workload wins again: the penalty is bounded.
    const heavyOlder = wa.score(head(3, 1_000 - P - 1), signals({ requestRatePerSec: 200 }), 8_000);
    expect(heavyOlder).toBeGreaterThan(light);
    // With the defaults the penalty never outweighs one criticality level (P < S).
    expect(wa.score(head(4, 1_000), signals({ requestRatePerSec: 200 }), 8_000)).toBeGreaterThan(
      wa.score(head(3, 1_000), signals(), 8_000),
    );
  });

  it.each([
    ['agingHorizonMs', 0],
    ['agingHorizonMs', -1],
    ['agingHorizonMs', Number.POSITIVE_INFINITY],
    ['criticalityStepMs', -1],
    ['criticalityStepMs', Number.NaN],
    ['ratePenaltyMs', -0.5],
    ['ratePenaltyMs', Number.POSITIVE_INFINITY],
    ['rateCapPerSec', 0],
    ['rateCapPerSec', Number.NaN],
  ] as const)('rejects %s = %d with a TypeError naming the field and the value', (field, value) => {
    const make = (): unknown => createWorkloadAwarePolicy({ [field]: value });
    expect(make).toThrow(TypeError);
    expect(make).toThrow(new RegExp(`${field}.*got ${String(value)}`));
  });

  it('accepts zero step and zero penalty (pure aging by gap)', () => {
    const flat = createWorkloadAwarePolicy({ criticalityStepMs: 0, ratePenaltyMs: 0 });
    expect(flat.score(head(5, 0), signals(), 1_000)).toBe(
      flat.score(head(1, 0), signals({ requestRatePerSec: 99 }), 1_000),
    );
  });
});
