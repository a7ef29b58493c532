// Saturation: both thresholds saturate when reached; the waiting estimate counts Sluice's own dispatches
// and releases since the scrape *started*; out-of-order scrapes and late events are ignored; stale or
// failed metrics never saturate (the caller falls back to slots); bad policy fails naming the field; the
// live-load order. A model-based property checks the estimate against a from-history reference.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineLoad } from '../../src/core/engine-load.ts';
import {
  BackendLoadTracker,
  compareLoad,
  DEFAULT_METRICS_INTERVAL_MS,
  DEFAULT_METRICS_STALE_MS,
  DEFAULT_SATURATION_MAX_KV_CACHE,
  DEFAULT_SATURATION_MAX_WAITING,
  DEFAULT_SATURATION_POLICY,
  type LoadView,
  resolveSaturationPolicy,
  type SaturationPolicy,
  saturationReason,
} from '../../src/core/saturation.ts';

const vllm = (waiting: number, kvCacheUsage: number | null = 0.2, running = 8): EngineLoad => ({
  engine: 'vllm',
  waiting,
  running,
  kvCacheUsage,
});

/** A tracker with one scrape started at t=1000 reporting `waiting` (and `kv`). */
function scraped(waiting: number, kv: number | null = 0.2): BackendLoadTracker {
  const t = new BackendLoadTracker();
  expect(t.onScrape(vllm(waiting, kv), 1_000)).toBe(true);
  return t;
}

describe('defaults', () => {
  it('are llm-d’s thresholds, a 1 s scrape and three intervals to stale', () => {
    expect(DEFAULT_SATURATION_MAX_WAITING).toBe(5);
    expect(DEFAULT_SATURATION_MAX_KV_CACHE).toBe(0.8);
    expect(DEFAULT_METRICS_INTERVAL_MS).toBe(1_000);
    expect(DEFAULT_METRICS_STALE_MS).toBe(3_000);
    expect(DEFAULT_SATURATION_POLICY).toEqual({ maxWaiting: 5, maxKvCacheUsage: 0.8, staleAfterMs: 3_000 });
    expect(Object.isFrozen(DEFAULT_SATURATION_POLICY)).toBe(true);
  });
});

describe('saturationReason (the rule)', () => {
  const p = DEFAULT_SATURATION_POLICY;
  it.each([
    [4, 0.79, null],
    [5, 0.0, 'waiting'],
    [6, null, 'waiting'],
    [0, 0.8, 'kv_cache'],
    [0, 1, 'kv_cache'],
    [4, null, null],
    [5, 0.9, 'waiting'],
  ] as const)('waiting %d, KV %s → %s', (waiting, kv, reason) => {
    expect(saturationReason(waiting, kv, p)).toBe(reason);
  });
});

describe('BackendLoadTracker: thresholds', () => {
  it('exactly maxWaiting (5) waiting is saturated; 4 is not', () => {
    expect(scraped(4).view(1_000)).toEqual({
      fresh: true,
      saturated: false,
      estimatedWaiting: 4,
      kvCacheUsage: 0.2,
      reason: null,
    });
    expect(scraped(5).view(1_000)).toEqual({
      fresh: true,
      saturated: true,
      estimatedWaiting: 5,
      kvCacheUsage: 0.2,
      reason: 'waiting',
    });
  });

  it('exactly maxKvCacheUsage (0.8) is saturated; 0.79 is not; unknown KV never saturates', () => {
    expect(scraped(0, 0.8).view(1_000)).toMatchObject({ saturated: true, reason: 'kv_cache' });
    expect(scraped(0, 0.79).view(1_000)).toMatchObject({ saturated: false, reason: null });
    expect(scraped(0, null).view(1_000)).toMatchObject({ saturated: false, kvCacheUsage: null });
  });

  it('uses a configured policy', () => {
    const t = new BackendLoadTracker(resolveSaturationPolicy({ maxWaiting: 2, maxKvCacheUsage: 0.95 }));
    t.onScrape(vllm(1, 0.9), 0);
    expect(t.view(0).saturated).toBe(false);
    t.onDispatched(10);
    expect(t.view(10)).toMatchObject({ saturated: true, estimatedWaiting: 2, reason: 'waiting' });
  });
});

describe('BackendLoadTracker: dispatched and released since the scrape', () => {
  it('reported 3, then 2 dispatches → 5 → saturated until the next scrape; a release lowers it', () => {
    const t = scraped(3);
    t.onDispatched(1_100);
    expect(t.view(1_100)).toMatchObject({ estimatedWaiting: 4, saturated: false });
    t.onDispatched(1_200);
    expect(t.view(1_200)).toMatchObject({ estimatedWaiting: 5, saturated: true, reason: 'waiting' });
    expect(t.view(1_900)).toMatchObject({ estimatedWaiting: 5, saturated: true });
    t.onReleased(1_950);
    expect(t.view(1_950)).toMatchObject({ estimatedWaiting: 4, saturated: false });
  });

  it('a scrape resets the counts: what it reports replaces the estimate', () => {
    const t = scraped(3);
    t.onDispatched(1_100);
    t.onDispatched(1_200);
    t.onReleased(1_300);
    expect(t.onScrape(vllm(1), 2_000)).toBe(true);
    expect(t.view(2_000).estimatedWaiting).toBe(1);
  });

  it('releases lower the estimate below what was reported, never below 0', () => {
    const t = scraped(2);
    t.onReleased(1_100);
    expect(t.view(1_100).estimatedWaiting).toBe(1);
    t.onReleased(1_200);
    t.onReleased(1_300);
    expect(t.view(1_300).estimatedWaiting).toBe(0);
  });

  it('with nothing waiting and the batch size unknown, dispatches fill the batch (ramp-up from idle)', () => {
    const t = scraped(0);
    for (let i = 0; i < 20; i++) t.onDispatched(1_100 + i);
    expect(t.view(1_200)).toMatchObject({ estimatedWaiting: 0, saturated: false });
  });

  it('learns the batch size from a scrape that showed a queue, and counts only the excess as waiting', () => {
    const t = new BackendLoadTracker();
    // Full at 3 running, 2 waiting: the batch holds 3.
    t.onScrape(vllm(2, 0.2, 3), 1_000);
    // Later it drained to 1 running, none waiting: room for 2 more.
    t.onScrape(vllm(0, 0.2, 1), 2_000);
    t.onDispatched(2_100);
    t.onDispatched(2_200);
    expect(t.view(2_200).estimatedWaiting).toBe(0);
    t.onDispatched(2_300);
    expect(t.view(2_300).estimatedWaiting).toBe(1);
    // A release frees a batch place that the next dispatch takes.
    t.onReleased(2_400);
    expect(t.view(2_400).estimatedWaiting).toBe(0);
    for (let i = 0; i < 5; i++) t.onDispatched(2_500 + i);
    expect(t.view(2_600)).toMatchObject({ estimatedWaiting: 5, saturated: true, reason: 'waiting' });
  });

  it('counts a dispatch made while the scrape was in flight (scrapedAt is when it started)', () => {
    const t = new BackendLoadTracker();
    t.onScrape(vllm(0), 0);
    // The next scrape starts at 1000; three dispatches go out before its body arrives at 1300.
    t.onDispatched(900);
    t.onDispatched(1_000);
    t.onDispatched(1_100);
    t.onDispatched(1_250);
    t.onScrape(vllm(3), 1_000);
    // The one at 900 preceded the scrape and is in its report; those at 1000..1250 may not be: kept.
    expect(t.view(1_300).estimatedWaiting).toBe(6);
  });

  it('ignores an event dated before the applied scrape started (already in its report)', () => {
    const t = scraped(3);
    t.onDispatched(999);
    t.onReleased(500);
    expect(t.view(1_100).estimatedWaiting).toBe(3);
  });

  it('counts an event reported late but dated after the scrape started', () => {
    const t = scraped(3);
    t.onDispatched(1_500);
    t.onReleased(1_200);
    t.onDispatched(1_100);
    expect(t.view(1_600).estimatedWaiting).toBe(4);
    // A later scrape started at 1300 drops the events before it (1100, 1200) and keeps 1500.
    t.onScrape(vllm(2), 1_300);
    expect(t.view(1_600).estimatedWaiting).toBe(3);
  });
});

describe('BackendLoadTracker: scrape order', () => {
  it('ignores a scrape that started before the applied one, even if it arrives later', () => {
    const t = new BackendLoadTracker();
    expect(t.onScrape(vllm(1), 2_000)).toBe(true);
    t.onDispatched(2_100);
    expect(t.onScrape(vllm(9, 0.95), 1_000)).toBe(false);
    expect(t.view(2_200)).toMatchObject({ estimatedWaiting: 2, kvCacheUsage: 0.2, saturated: false });
  });

  it('applies a scrape with the same start time (the later answer wins)', () => {
    const t = new BackendLoadTracker();
    t.onScrape(vllm(1), 2_000);
    expect(t.onScrape(vllm(4), 2_000)).toBe(true);
    expect(t.view(2_000).estimatedWaiting).toBe(4);
  });
});

describe('BackendLoadTracker: stale and failed metrics fall back (never saturated)', () => {
  const STALE = { fresh: false, saturated: false, estimatedWaiting: null, kvCacheUsage: null, reason: null };

  it('never scraped: not fresh, not saturated, whatever was dispatched', () => {
    const t = new BackendLoadTracker();
    for (let i = 0; i < 50; i++) t.onDispatched(i);
    expect(t.view(100)).toEqual(STALE);
  });

  it('fresh up to staleAfterMs after the scrape started, stale after: even a saturated backend', () => {
    const t = scraped(100, 0.99);
    expect(t.view(1_000 + DEFAULT_METRICS_STALE_MS)).toMatchObject({ fresh: true, saturated: true });
    expect(t.view(1_000 + DEFAULT_METRICS_STALE_MS + 1)).toEqual(STALE);
  });

  it('a failed scrape keeps the previous success until that goes stale', () => {
    const t = scraped(5);
    t.onScrapeFailed(2_000);
    t.onScrapeFailed(3_000);
    expect(t.consecutiveScrapeFailures).toBe(2);
    expect(t.view(3_500)).toMatchObject({ fresh: true, saturated: true, estimatedWaiting: 5 });
    expect(t.view(4_001)).toEqual(STALE);
  });

  it('a success resets the failure count; a failure older than the applied scrape is not counted', () => {
    const t = scraped(0);
    t.onScrapeFailed(2_000);
    t.onScrape(vllm(0), 3_000);
    expect(t.consecutiveScrapeFailures).toBe(0);
    t.onScrapeFailed(2_500);
    expect(t.consecutiveScrapeFailures).toBe(0);
  });

  it('recovers once a scrape succeeds again, counting only what followed that scrape', () => {
    const t = scraped(0);
    for (let at = 1_000; at < 20_000; at += 100) t.onDispatched(at);
    expect(t.view(20_000).fresh).toBe(false);
    t.onScrape(vllm(2), 19_500);
    // Dispatches at 19500..19900: five of them.
    expect(t.view(20_000)).toMatchObject({ fresh: true, estimatedWaiting: 7, saturated: true });
  });
});

describe('policy validation', () => {
  it.each([
    [{ maxWaiting: 0 }, 'maxWaiting'],
    [{ maxWaiting: 2.5 }, 'maxWaiting'],
    [{ maxWaiting: NaN }, 'maxWaiting'],
    [{ maxKvCacheUsage: 0 }, 'maxKvCacheUsage'],
    [{ maxKvCacheUsage: 1.01 }, 'maxKvCacheUsage'],
    [{ maxKvCacheUsage: NaN }, 'maxKvCacheUsage'],
    [{ staleAfterMs: 0 }, 'staleAfterMs'],
    [{ staleAfterMs: -1 }, 'staleAfterMs'],
    [{ staleAfterMs: Infinity }, 'staleAfterMs'],
  ] as Array<[Partial<SaturationPolicy>, string]>)('%o fails naming %s', (overrides, field) => {
    expect(() => resolveSaturationPolicy(overrides)).toThrow(TypeError);
    expect(() => resolveSaturationPolicy(overrides)).toThrow(
      new RegExp(`saturation policy: ${field} must be`),
    );
    expect(() => new BackendLoadTracker({ ...DEFAULT_SATURATION_POLICY, ...overrides })).toThrow(field);
  });

  it('accepts the edges and returns a frozen policy with the defaults filled in', () => {
    const p = resolveSaturationPolicy({ maxWaiting: 1, maxKvCacheUsage: 1 });
    expect(p).toEqual({ maxWaiting: 1, maxKvCacheUsage: 1, staleAfterMs: DEFAULT_METRICS_STALE_MS });
    expect(Object.isFrozen(p)).toBe(true);
  });

  it('a scrape with a non-finite or negative waiting count is a bug: TypeError', () => {
    const t = new BackendLoadTracker();
    expect(() => t.onScrape(vllm(NaN), 0)).toThrow(TypeError);
    expect(() => t.onScrape(vllm(-1), 0)).toThrow(TypeError);
  });
});

describe('compareLoad', () => {
  const fresh = (estimatedWaiting: number, kvCacheUsage: number | null): LoadView => ({
    fresh: true,
    saturated: false,
    estimatedWaiting,
    kvCacheUsage,
    reason: null,
  });
  const stale = new BackendLoadTracker().view(0);

  it('orders by estimated waiting, then KV usage, unknown values after known ones, stale last', () => {
    const views: Array<[string, LoadView]> = [
      ['stale', stale],
      ['w2-kvnull', fresh(2, null)],
      ['w2-kv.5', fresh(2, 0.5)],
      ['w0-kv.7', fresh(0, 0.7)],
      ['w2-kv.1', fresh(2, 0.1)],
      ['w1-kvnull', fresh(1, null)],
    ];
    const sorted = [...views].sort(([, a], [, b]) => compareLoad(a, b)).map(([n]) => n);
    expect(sorted).toEqual(['w0-kv.7', 'w1-kvnull', 'w2-kv.1', 'w2-kv.5', 'w2-kvnull', 'stale']);
  });

  it('ties give 0, so a stable sort keeps the caller’s order', () => {
    expect(compareLoad(fresh(1, 0.3), fresh(1, 0.3))).toBe(0);
    expect(compareLoad(fresh(1, null), fresh(1, null))).toBe(0);
    expect(compareLoad(stale, stale)).toBe(0);
    const tied = ['a', 'b', 'c'].map((n) => [n, fresh(1, 0.3)] as const);
    expect([...tied].sort(([, x], [, y]) => compareLoad(x, y)).map(([n]) => n)).toEqual(['a', 'b', 'c']);
  });

  it('is antisymmetric', () => {
    const view = fc.oneof(
      fc.constant(stale),
      fc
        .tuple(fc.nat(10), fc.option(fc.constantFrom(0, 0.25, 0.5, 1), { nil: null }))
        .map(([w, kv]) => fresh(w, kv)),
    );
    fc.assert(
      fc.property(view, view, (a, b) => {
        expect(Math.sign(compareLoad(a, b))).toBe(-Math.sign(compareLoad(b, a)) || 0);
      }),
    );
  });
});

describe('BackendLoadTracker: the estimate against a reference computed from the whole history', () => {
  type Op =
    | { kind: 'dispatch' | 'release'; dt: number; late: number }
    | { kind: 'scrape'; dt: number; lag: number; waiting: number; running: number }
    | { kind: 'fail'; dt: number; lag: number }
    | { kind: 'view'; dt: number };
  const dt = fc.integer({ min: 0, max: 600 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constantFrom('dispatch' as const, 'release' as const), dt, late: fc.nat(300) }),
    fc.record({
      kind: fc.constant('scrape' as const),
      dt,
      lag: fc.nat(1_500),
      waiting: fc.nat(8),
      running: fc.integer({ min: 1, max: 8 }),
    }),
    fc.record({ kind: fc.constant('fail' as const), dt, lag: fc.nat(1_500) }),
    fc.record({ kind: fc.constant('view' as const), dt }),
  );

  it('fresh views follow the rule: a queue at the scrape grows with each dispatch; otherwise only the excess over the batch room waits', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const policy = DEFAULT_SATURATION_POLICY;
        const t = new BackendLoadTracker(policy);
        const events: Array<{ delta: 1 | -1; at: number }> = [];
        let applied: { waiting: number; running: number; scrapedAt: number } | null = null;
        let batch: number | null = null;
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          if (o.kind === 'dispatch' || o.kind === 'release') {
            const at = now - o.late;
            if (o.kind === 'dispatch') t.onDispatched(at);
            else t.onReleased(at);
            // Events dated before the scrape in effect when they are reported are already in it.
            if (applied === null || at >= applied.scrapedAt)
              events.push({ delta: o.kind === 'dispatch' ? 1 : -1, at });
          } else if (o.kind === 'scrape') {
            const scrapedAt = now - o.lag;
            const ok = t.onScrape(vllm(o.waiting, null, o.running), scrapedAt);
            expect(ok).toBe(applied === null || scrapedAt >= applied.scrapedAt);
            if (ok) {
              applied = { waiting: o.waiting, running: o.running, scrapedAt };
              if (o.waiting > 0) batch = o.running;
            }
          } else if (o.kind === 'fail') {
            t.onScrapeFailed(now - o.lag);
          }

          const view = t.view(now);
          if (applied === null || now - applied.scrapedAt > policy.staleAfterMs) {
            expect(view).toMatchObject({ fresh: false, saturated: false, estimatedWaiting: null });
            continue;
          }
          const since = events.filter((e) => e.at >= (applied?.scrapedAt ?? 0));
          const dispatched = since.filter((e) => e.delta === 1).length;
          const released = since.length - dispatched;
          const room =
            applied.waiting > 0 ? 0 : batch === null ? Infinity : Math.max(0, batch - applied.running);
          const expected =
            applied.waiting > 0
              ? Math.max(0, applied.waiting + dispatched - released)
              : Math.max(0, Math.max(0, dispatched - released) - room);
          expect(view.estimatedWaiting).toBe(expected);
          expect(view.saturated).toBe(expected >= policy.maxWaiting);
          // The bounds the rule promises: never negative, never above reported + dispatches.
          expect(expected).toBeGreaterThanOrEqual(0);
          expect(expected).toBeLessThanOrEqual(applied.waiting + dispatched);
        }
      }),
      { numRuns: 300 },
    );
  });
});
