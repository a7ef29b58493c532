// The workload registry entry: three tracking points, the wait EMA, completion exactly once, counter
// invariants, idle eviction and the snapshot that survives a Durable Object restart.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OUTCOMES,
  WorkloadRegistryEntry,
  type Outcome,
  type RegistrySnapshot,
  type WorkloadMetrics,
} from '../../src/core/index.ts';
import { ENDED, ended, REASONS, type Ended } from '../../src/core/outcome.ts';

const IDLE_MS = 5 * 60_000;

function expectConsistent(m: WorkloadMetrics): void {
  expect(m.activeRequests).toBeGreaterThanOrEqual(0);
  expect(m.queuedRequests).toBeGreaterThanOrEqual(0);
  expect(m.inFlightRequests).toBeGreaterThanOrEqual(0);
  expect(m.totalRequests).toBe(m.activeRequests + m.completedCount);
  expect(m.activeRequests).toBe(m.queuedRequests + m.inFlightRequests);
  expect(Object.values(m.outcomes).reduce((a, b) => a + b, 0)).toBe(m.completedCount);
  expect(Object.values(m.reasons).reduce((a, b) => a + b, 0)).toBe(m.completedCount);
}

describe('WorkloadRegistryEntry tracking points', () => {
  it('onNew counts a queued request and its arrival', () => {
    const entry = new WorkloadRegistryEntry();
    entry.onNew('r1', 1_000);
    entry.onNew('r2', 2_000);
    const m = entry.metrics(2_000);
    expect(m).toMatchObject({
      totalRequests: 2,
      activeRequests: 2,
      queuedRequests: 2,
      inFlightRequests: 0,
      dispatchedCount: 0,
      completedCount: 0,
      averageWaitMs: null,
      lastRequestAt: 2_000,
      lastDispatchedAt: null,
    });
    expect(m.requestRate).toBeCloseTo(2 / 60, 12);
    expect(entry.phaseOf('r1')).toEqual({ phase: 'queued', since: 1_000 });
  });

  it('onDispatched moves a queued request in flight; a second call, or an unknown id, returns false', () => {
    const entry = new WorkloadRegistryEntry();
    entry.onNew('r1', 0);
    expect(entry.onDispatched('r1', 250, 250)).toBe(true);
    expect(entry.phaseOf('r1')).toEqual({ phase: 'in_flight', since: 250 });
    const before = entry.metrics(250);
    expect(before).toMatchObject({
      queuedRequests: 0,
      inFlightRequests: 1,
      dispatchedCount: 1,
      lastDispatchedAt: 250,
    });
    expect(entry.onDispatched('r1', 999, 999)).toBe(false);
    expect(entry.onDispatched('nope', 10, 999)).toBe(false);
    expect(entry.metrics(250)).toEqual(before);
  });

  it('averageWaitMs is an EMA with α = 0.2, seeded by the first sample', () => {
    const entry = new WorkloadRegistryEntry();
    const samples = [1_000, 2_000, 0, 500];
    const expected = [1_000, 1_200, 960, 868];
    samples.forEach((wait, i) => {
      entry.onNew(`r${i}`, i * 10_000);
      entry.onDispatched(`r${i}`, wait, i * 10_000 + wait);
      expect(entry.metrics(i * 10_000 + wait).averageWaitMs).toBeCloseTo(expected[i] ?? NaN, 9);
    });
  });

  it('a negative wait sample (clock skew) counts as 0', () => {
    const entry = new WorkloadRegistryEntry();
    entry.onNew('a', 0);
    entry.onDispatched('a', 1_000, 1_000);
    entry.onNew('b', 2_000);
    entry.onDispatched('b', -5_000, 2_000);
    expect(entry.metrics(2_000).averageWaitMs).toBeCloseTo(800, 9);
  });

  it('onNew with an ID that is still live throws (programming error)', () => {
    const entry = new WorkloadRegistryEntry();
    entry.onNew('r1', 0);
    expect(() => entry.onNew('r1', 1)).toThrow(/already live/);
    entry.onDispatched('r1', 1, 1);
    expect(() => entry.onNew('r1', 2)).toThrow(/already live/);
    expect(entry.metrics(2).totalRequests).toBe(1);
  });

  it.each(REASONS.map((r) => [r]))('completes exactly once with reason %s', (reason) => {
    const end = ended(reason);
    const entry = new WorkloadRegistryEntry();
    entry.onNew('queued', 0);
    entry.onNew('flying', 0);
    entry.onDispatched('flying', 10, 10);
    expect(entry.onCompleted('queued', end, 20)).toBe(true);
    expect(entry.onCompleted('flying', end, 30)).toBe(true);
    const after = entry.metrics(30);
    expect(after.outcomes[end.outcome]).toBe(2);
    expect(after.reasons[reason]).toBe(2);
    expect(after).toMatchObject({ activeRequests: 0, queuedRequests: 0, completedCount: 2 });
    // The second completion (abort racing stream end, a retry) changes nothing, whatever its outcome.
    for (const again of REASONS.map(ended)) {
      expect(entry.onCompleted('queued', again, 40)).toBe(false);
      expect(entry.onCompleted('flying', again, 40)).toBe(false);
    }
    expect(entry.metrics(30)).toEqual(after);
    expect(entry.phaseOf('queued')).toBeUndefined();
  });

  it('activeRequests never goes below 0: completing unknown requests changes nothing', () => {
    const entry = new WorkloadRegistryEntry();
    expect(entry.onCompleted('ghost', ENDED.completed, 0)).toBe(false);
    expect(entry.activeRequests).toBe(0);
    expect(entry.metrics(0)).toMatchObject({ activeRequests: 0, queuedRequests: 0, completedCount: 0 });
  });

  it('keeps its invariants under random sequences of new/dispatched/completed (against a model)', () => {
    type Op =
      | { kind: 'new' }
      | { kind: 'dispatch'; pick: number; waitMs: number }
      | { kind: 'complete'; pick: number; end: Ended };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('new' as const) }),
      fc.record({
        kind: fc.constant('dispatch' as const),
        pick: fc.nat(),
        waitMs: fc.integer({ min: 0, max: 60_000 }),
      }),
      fc.record({
        kind: fc.constant('complete' as const),
        pick: fc.nat(),
        end: fc.constantFrom(...REASONS.map(ended)),
      }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const entry = new WorkloadRegistryEntry();
        const model = new Map<string, 'queued' | 'in_flight' | 'done'>();
        const outcomes = new Map<Outcome, number>();
        let now = 0;
        let n = 0;
        for (const op of ops) {
          now += 100;
          const ids = [...model.keys()];
          if (op.kind === 'new') {
            const id = `r${n++}`;
            entry.onNew(id, now);
            model.set(id, 'queued');
          } else if (op.kind === 'dispatch') {
            const id = ids.length ? (ids[op.pick % ids.length] ?? '') : 'none';
            const ok = entry.onDispatched(id, op.waitMs, now);
            expect(ok).toBe(model.get(id) === 'queued');
            if (ok) model.set(id, 'in_flight');
          } else {
            const id = ids.length ? (ids[op.pick % ids.length] ?? '') : 'none';
            const state = model.get(id);
            const ok = entry.onCompleted(id, op.end, now);
            expect(ok).toBe(state === 'queued' || state === 'in_flight');
            if (ok) {
              model.set(id, 'done');
              outcomes.set(op.end.outcome, (outcomes.get(op.end.outcome) ?? 0) + 1);
            }
          }
          const m = entry.metrics(now);
          expectConsistent(m);
          const states = [...model.values()];
          expect(m.totalRequests).toBe(model.size);
          expect(m.queuedRequests).toBe(states.filter((s) => s === 'queued').length);
          expect(m.inFlightRequests).toBe(states.filter((s) => s === 'in_flight').length);
          for (const o of OUTCOMES) expect(m.outcomes[o]).toBe(outcomes.get(o) ?? 0);
        }
      }),
      { seed: 5, numRuns: 200 },
    );
  });
});

describe('WorkloadRegistryEntry eviction', () => {
  it('a never-used entry is evictable', () => {
    expect(new WorkloadRegistryEntry().isEvictable(0)).toBe(true);
  });

  it('is evictable only when nothing is active and there was no request for 5 minutes', () => {
    const entry = new WorkloadRegistryEntry();
    entry.onNew('r1', 10_000);
    entry.onDispatched('r1', 0, 10_000);
    // In flight for 6 minutes: the last request is old, but the workload is not idle.
    expect(entry.isEvictable(10_000 + 6 * 60_000)).toBe(false);
    entry.onCompleted('r1', ENDED.completed, 10_000 + 6 * 60_000);
    expect(entry.isEvictable(10_000 + 6 * 60_000)).toBe(true);

    entry.onNew('r2', 1_000_000);
    entry.onCompleted('r2', ENDED.completed, 1_000_001);
    expect(entry.isEvictable(1_000_000 + IDLE_MS - 1)).toBe(false);
    expect(entry.isEvictable(1_000_000 + IDLE_MS)).toBe(true);
  });

  it('honours a custom idle time', () => {
    const entry = new WorkloadRegistryEntry();
    entry.onNew('r1', 0);
    entry.onCompleted('r1', ENDED.clientClosed, 0);
    expect(entry.isEvictable(999, 1_000)).toBe(false);
    expect(entry.isEvictable(1_000, 1_000)).toBe(true);
  });
});

describe('WorkloadRegistryEntry snapshot', () => {
  it('round-trips through JSON: metrics, live requests and later behaviour are preserved', () => {
    const entry = new WorkloadRegistryEntry();
    for (let i = 0; i < 6; i++) entry.onNew(`r${i}`, i * 1_500);
    entry.onDispatched('r0', 400, 9_000);
    entry.onDispatched('r1', 900, 9_100);
    entry.onCompleted('r0', ENDED.completed, 9_500);
    entry.onCompleted('r2', ENDED.clientClosed, 9_600);
    entry.onCompleted('r3', ENDED.ttlExpired, 9_700);

    const snap = JSON.parse(JSON.stringify(entry.snapshot())) as RegistrySnapshot;
    const restored = WorkloadRegistryEntry.fromSnapshot(snap);
    for (const now of [9_700, 30_000, 69_000]) expect(restored.metrics(now)).toEqual(entry.metrics(now));
    expect([...restored.liveRequests()]).toEqual([...entry.liveRequests()]);

    for (const e of [entry, restored]) {
      expect(e.onCompleted('r1', ended('upstream_5xx'), 10_000)).toBe(true);
      expect(e.onCompleted('r0', ENDED.completed, 10_000)).toBe(false);
      expect(e.onDispatched('r4', 5_000, 11_000)).toBe(true);
      e.onNew('r9', 12_000);
    }
    expect(restored.metrics(12_000)).toEqual(entry.metrics(12_000));
    expectConsistent(restored.metrics(12_000));
  });

  it('rejects an EMA weight outside (0, 1]', () => {
    expect(() => new WorkloadRegistryEntry({ waitEmaAlpha: 0 })).toThrow(TypeError);
    expect(() => new WorkloadRegistryEntry({ waitEmaAlpha: 1.5 })).toThrow(TypeError);
    expect(() => new WorkloadRegistryEntry({ waitEmaAlpha: 1 })).not.toThrow();
  });
});

describe('WorkloadRegistryEntry token estimates', () => {
  it('sums the token estimates of admitted requests, rejected ones included, and keeps them across a snapshot', () => {
    const r = new WorkloadRegistryEntry();
    r.onNew('a', 0, 120);
    r.onNew('b', 10, 30);
    r.onNew('c', 20);
    r.onCompleted('b', ENDED.queueFull, 20);
    expect(r.metrics(20).estimatedTokens).toBe(150);
    expect(WorkloadRegistryEntry.fromSnapshot(r.snapshot()).metrics(20).estimatedTokens).toBe(150);
  });

  it('rejects a negative or non-finite estimate with a TypeError naming the value, without counting the request', () => {
    const r = new WorkloadRegistryEntry();
    expect(() => r.onNew('a', 0, -1)).toThrow(/tokenEstimate.*-1/);
    expect(() => r.onNew('a', 0, Number.NaN)).toThrow(TypeError);
    expect(r.metrics(0)).toMatchObject({ totalRequests: 0, activeRequests: 0 });
  });
});

describe('WorkloadRegistryEntry actual usage', () => {
  it('sums the usage of completed requests, once each, next to the estimate', () => {
    const r = new WorkloadRegistryEntry();
    for (const id of ['a', 'b', 'c', 'd']) {
      r.onNew(id, 0, 100);
      r.onDispatched(id, 0, 0);
    }
    r.onNew('queued', 0, 100);
    expect(r.onCompleted('a', ENDED.completed, 5, { promptTokens: 10, completionTokens: 4 })).toBe(true);
    expect(r.onCompleted('a', ENDED.completed, 6, { promptTokens: 10, completionTokens: 4 })).toBe(false);
    r.onCompleted('b', ENDED.completed, 7, { promptTokens: 3, completionTokens: 0 });
    r.onCompleted('c', ENDED.clientClosed, 8);
    r.onCompleted('d', ended('stream_failed'), 9, null);
    // Never reached a backend: neither with nor without usage.
    r.onCompleted('queued', ENDED.ttlExpired, 9);
    expect(r.metrics(10)).toMatchObject({
      estimatedTokens: 500,
      promptTokens: 13,
      completionTokens: 4,
      usageKnownCount: 2,
      usageUnknownCount: 2,
    });
  });

  it('keeps usage across a snapshot; a snapshot from before usage was read restores zeros', () => {
    const r = new WorkloadRegistryEntry();
    r.onNew('a', 0);
    r.onDispatched('a', 0, 0);
    r.onCompleted('a', ENDED.completed, 1, { promptTokens: 7, completionTokens: 9 });
    const snap = JSON.parse(JSON.stringify(r.snapshot())) as RegistrySnapshot;
    expect(WorkloadRegistryEntry.fromSnapshot(snap).metrics(1)).toMatchObject({
      promptTokens: 7,
      completionTokens: 9,
      usageKnownCount: 1,
      usageUnknownCount: 0,
    });
    const usageFields = new Set(['promptTokens', 'completionTokens', 'usageKnownCount', 'usageUnknownCount']);
    const old = Object.fromEntries(
      Object.entries(snap).filter(([k]) => !usageFields.has(k)),
    ) as unknown as RegistrySnapshot;
    expect(WorkloadRegistryEntry.fromSnapshot(old).metrics(1)).toMatchObject({
      promptTokens: 0,
      completionTokens: 0,
      usageKnownCount: 0,
      usageUnknownCount: 0,
      completedCount: 1,
    });
  });

  it('restores ends counted by outcome alone (before reasons were kept) and counts on from them', () => {
    const r = new WorkloadRegistryEntry();
    const current = JSON.parse(JSON.stringify(r.snapshot())) as RegistrySnapshot;
    // Written before the two-level taxonomy: legacy outcome names, and no reasons at all.
    const old = {
      ...current,
      totalRequests: 6,
      completedCount: 6,
      outcomes: { success: 3, rejected_capacity: 2, evicted_ttl: 1 },
      reasons: undefined,
    } as unknown as RegistrySnapshot;
    const restored = WorkloadRegistryEntry.fromSnapshot(old);
    expect(restored.metrics(1).outcomes).toMatchObject({ success: 3, rejected: 2, evicted: 1 });
    // A legacy name says its reason; a plain outcome name does not.
    expect(restored.metrics(1).reasons).toMatchObject({ queue_full: 2, ttl_expired: 1, completed: 0 });
    restored.onNew('a', 2);
    restored.onDispatched('a', 0, 2);
    restored.onCompleted('a', ENDED.completed, 3);
    expect(restored.metrics(3).outcomes).toMatchObject({ success: 4, rejected: 2, evicted: 1 });
    expect(restored.metrics(3).reasons.completed).toBe(1);
    // And the counts survive the next snapshot, which now carries reasons.
    const again = WorkloadRegistryEntry.fromSnapshot(JSON.parse(JSON.stringify(restored.snapshot())));
    expect(again.metrics(3).outcomes).toMatchObject({ success: 4, rejected: 2, evicted: 1 });
    expect(again.metrics(3).reasons).toMatchObject({ completed: 1, queue_full: 2, ttl_expired: 1 });
  });

  it('rejects usage that is not token counts with a TypeError, without completing the request', () => {
    const r = new WorkloadRegistryEntry();
    r.onNew('a', 0);
    expect(() => r.onCompleted('a', ENDED.completed, 1, { promptTokens: -1, completionTokens: 0 })).toThrow(
      TypeError,
    );
    expect(r.metrics(1).activeRequests).toBe(1);
  });
});

describe('charged tokens (token fairness, as the admin API shows them)', () => {
  it('charges usage where reported, 0 where the backend was never reached, the estimate otherwise, nothing for the queue', () => {
    const r = new WorkloadRegistryEntry();
    const dispatch = (id: string, estimate: number): void => {
      r.onNew(id, 0, estimate);
      r.onDispatched(id, 0, 1);
    };
    dispatch('used', 1_000);
    r.onCompleted('used', ENDED.completed, 2, { promptTokens: 20, completionTokens: 130 });
    dispatch('unreachable', 1_000);
    r.onCompleted('unreachable', ended('unreachable'), 2);
    dispatch('aborted', 1_000);
    r.onCompleted('aborted', ENDED.clientClosed, 2);
    r.onNew('never-served', 0, 1_000);
    r.onCompleted('never-served', ENDED.ttlExpired, 2);
    const m = r.metrics(3);
    expect(m.chargedTokens).toBe(150 + 0 + 1_000);
    expect(m.estimatedTokens).toBe(4_000);
    expect(m.promptTokens + m.completionTokens).toBe(150);
  });

  it('keeps a request’s estimate across failover and restarts, and the total in snapshots', () => {
    const r = new WorkloadRegistryEntry();
    r.onNew('a', 0, 700);
    r.onDispatched('a', 0, 1);
    r.onRequeued('a', 2);
    const restored = WorkloadRegistryEntry.fromSnapshot(r.snapshot());
    restored.onDispatched('a', 0, 3);
    restored.onCompleted('a', ended('upstream_5xx'), 4);
    expect(restored.metrics(5).chargedTokens).toBe(700);
    expect(WorkloadRegistryEntry.fromSnapshot(restored.snapshot()).metrics(5).chargedTokens).toBe(700);
  });
});
