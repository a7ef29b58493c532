// Backend slots: the pick is the most free relative to its maximum, ties to the first listed; slots never
// exceed the maximum; an unreachable backend cools down (doubling, capped) and is skipped meanwhile; bad
// backend config fails with a TypeError naming the backend.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BACKEND_COOLDOWN_BASE_MS,
  BACKEND_COOLDOWN_MAX_MS,
  BackendPool,
  DEFAULT_SATURATION_POLICY,
  type BackendSpec,
} from '../../src/core/index.ts';

/** Reference pick, written independently of the implementation. */
function referencePick(specs: readonly BackendSpec[], inFlight: ReadonlyMap<string, number>): string | null {
  let best: string | null = null;
  let bestRatio = -1;
  for (const s of specs) {
    const free = s.maxConcurrency - (inFlight.get(s.name) ?? 0);
    if (free <= 0) continue;
    if (free / s.maxConcurrency > bestRatio) {
      best = s.name;
      bestRatio = free / s.maxConcurrency;
    }
  }
  return best;
}

describe('BackendPool', () => {
  it('picks the most free relative to its maximum, ties to the first listed', () => {
    const pool = new BackendPool([
      { name: 'small', maxConcurrency: 4 },
      { name: 'big', maxConcurrency: 8 },
    ]);
    const picks: string[] = [];
    for (let i = 0; i < 12; i++) {
      const name = pool.pick(0);
      if (name === null) break;
      picks.push(name);
      pool.acquire(name);
    }
    // 4/4 = 8/8 → small; 3/4 < 8/8 → big; 3/4 < 7/8 → big; 3/4 = 6/8 → small; …
    expect(picks).toEqual([
      'small',
      'big',
      'big',
      'small',
      'big',
      'big',
      'small',
      'big',
      'big',
      'small',
      'big',
      'big',
    ]);
    expect(pool.pick(0)).toBeNull();
    expect(pool.freeSlots(0)).toBe(0);
  });

  it('agrees with the reference pick and never exceeds a maximum under random acquire/release (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.oneof(fc.constant<'acquire'>('acquire'), fc.nat()), { maxLength: 100 }),
        (maxes, ops) => {
          const specs = maxes.map((m, i) => ({ name: `b${i}`, maxConcurrency: m }));
          const pool = new BackendPool(specs);
          const inFlight = new Map<string, number>();
          for (const op of ops) {
            if (op === 'acquire') {
              const want = referencePick(specs, inFlight);
              expect(pool.pick(0)).toBe(want);
              if (want !== null) {
                pool.acquire(want);
                inFlight.set(want, (inFlight.get(want) ?? 0) + 1);
              }
            } else {
              const name = specs[op % specs.length]?.name ?? '';
              pool.release(name);
              inFlight.set(name, Math.max(0, (inFlight.get(name) ?? 0) - 1));
            }
            for (const b of pool.status(0)) {
              expect(b.inFlight).toBe(inFlight.get(b.name) ?? 0);
              expect(b.inFlight).toBeLessThanOrEqual(b.maxConcurrency);
              expect(b.inFlight).toBeGreaterThanOrEqual(0);
            }
          }
        },
      ),
      { seed: 31, numRuns: 300 },
    );
  });

  it('acquire on a full backend throws (a caller bug); release of an unknown backend is ignored', () => {
    const pool = new BackendPool([{ name: 'a', maxConcurrency: 1 }]);
    pool.acquire('a');
    expect(() => pool.acquire('a')).toThrow(/no free slot/);
    expect(() => pool.acquire('zzz')).toThrow(/unknown backend/);
    pool.release('zzz');
    pool.release('a');
    pool.release('a');
    expect(pool.status(0)).toEqual([
      {
        name: 'a',
        maxConcurrency: 1,
        inFlight: 0,
        healthy: true,
        consecutiveFailures: 0,
        downUntil: null,
        load: null,
        state: 'healthy',
      },
    ]);
  });

  it('restore counts a slot even beyond the maximum, and picks skip that backend until it drains', () => {
    const pool = new BackendPool([
      { name: 'a', maxConcurrency: 1 },
      { name: 'b', maxConcurrency: 1 },
    ]);
    pool.restore('a');
    pool.restore('a');
    expect(pool.status(0)[0]?.inFlight).toBe(2);
    expect(pool.freeSlots(0)).toBe(1);
    expect(pool.pick(0)).toBe('b');
    pool.release('a');
    expect(pool.pick(0)).toBe('b');
    pool.release('a');
    expect(pool.pick(0)).toBe('a');
  });

  it.each([
    [[{ name: 'x', maxConcurrency: 0 }], /backend x: maxConcurrency/],
    [[{ name: 'x', maxConcurrency: 1.5 }], /backend x: maxConcurrency/],
    [[{ name: 'x', maxConcurrency: Number.NaN }], /backend x: maxConcurrency/],
    [
      [
        { name: 'x', maxConcurrency: 1 },
        { name: 'x', maxConcurrency: 2 },
      ],
      /backend name x is listed twice/,
    ],
  ])('rejects bad specs with a TypeError naming the backend (%#)', (specs, message) => {
    expect(() => new BackendPool(specs)).toThrow(TypeError);
    expect(() => new BackendPool(specs)).toThrow(message);
  });
});

describe('BackendPool cooldown', () => {
  const two = (): BackendPool =>
    new BackendPool([
      { name: 'a', maxConcurrency: 2 },
      { name: 'b', maxConcurrency: 2 },
    ]);

  it('skips an unreachable backend until its cooldown ends, then uses it again', () => {
    const pool = two();
    expect(pool.reportUnreachable('a', 10_000)).toBe(10_000 + BACKEND_COOLDOWN_BASE_MS);
    expect(pool.pick(10_000)).toBe('b');
    expect(pool.freeSlots(10_000)).toBe(2);
    expect(pool.status(10_500)[0]).toMatchObject({
      name: 'a',
      healthy: false,
      consecutiveFailures: 1,
      downUntil: 11_000,
    });
    expect(pool.nextRecovery(10_000)).toBe(11_000);
    expect(pool.pick(11_000)).toBe('a');
    expect(pool.freeSlots(11_000)).toBe(4);
    expect(pool.nextRecovery(11_000)).toBeNull();
    expect(pool.status(11_000)[0]).toMatchObject({ healthy: true, downUntil: null, consecutiveFailures: 1 });
  });

  it('doubles the cooldown per consecutive failure up to the maximum; a success resets it', () => {
    const pool = two();
    const cooldowns: number[] = [];
    for (let i = 0; i < 8; i++) cooldowns.push((pool.reportUnreachable('a', 0) ?? NaN) - 0);
    expect(cooldowns).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(Math.max(...cooldowns)).toBe(BACKEND_COOLDOWN_MAX_MS);
    pool.reportReachable('a', 0);
    expect(pool.status(0)[0]).toMatchObject({ healthy: true, consecutiveFailures: 0, downUntil: null });
    expect(pool.reportUnreachable('a', 0)).toBe(BACKEND_COOLDOWN_BASE_MS);
  });

  it('returns null (and changes nothing) for an unknown backend', () => {
    const pool = two();
    expect(pool.reportUnreachable('zzz', 0)).toBeNull();
    pool.reportReachable('zzz', 0);
    expect(pool.freeSlots(0)).toBe(4);
  });

  it('ignores a success observed before the latest failure (a long stream ending after the backend died)', () => {
    const pool = two();
    pool.reportUnreachable('a', 5_000);
    pool.reportReachable('a', 4_000);
    expect(pool.status(5_500)[0]).toMatchObject({ healthy: false, consecutiveFailures: 1 });
    pool.reportReachable('a', 5_000);
    expect(pool.status(5_500)[0]).toMatchObject({ healthy: true, consecutiveFailures: 0 });
  });

  it('ignores a failure report older than the latest success (a delayed retry)', () => {
    const pool = two();
    pool.reportReachable('a', 5_000);
    expect(pool.reportUnreachable('a', 4_000)).toBeNull();
    expect(pool.status(5_000)[0]).toMatchObject({ healthy: true, consecutiveFailures: 0 });
    expect(pool.reportUnreachable('a', 6_000)).toBe(7_000);
  });

  it('with every backend cooling down, nothing is picked', () => {
    const pool = two();
    pool.reportUnreachable('a', 0);
    pool.reportUnreachable('b', 0);
    expect(pool.pick(999)).toBeNull();
    expect(pool.freeSlots(999)).toBe(0);
  });

  it('rejects a cooldown with baseMs > maxMs or a negative base', () => {
    expect(() => new BackendPool([], { baseMs: 10, maxMs: 5 })).toThrow(TypeError);
    expect(() => new BackendPool([], { baseMs: -1, maxMs: 5 })).toThrow(/cooldown/);
  });

  it('honours a configured cooldown', () => {
    const pool = new BackendPool([{ name: 'a', maxConcurrency: 1 }], { baseMs: 100, maxMs: 400 });
    expect(pool.reportUnreachable('a', 0)).toBe(100);
    expect(pool.reportUnreachable('a', 0)).toBe(200);
    expect(pool.reportUnreachable('a', 0)).toBe(400);
    expect(pool.reportUnreachable('a', 0)).toBe(400);
  });
});

describe('BackendPool with engine metrics (saturation)', () => {
  const load = (waiting: number, kvCacheUsage = 0.2, running = 3) =>
    ({ engine: 'vllm', waiting, running, kvCacheUsage }) as const;
  const pool = () =>
    new BackendPool(
      [
        { name: 'a', maxConcurrency: 12 },
        { name: 'b', maxConcurrency: 12 },
      ],
      undefined,
      DEFAULT_SATURATION_POLICY,
    );

  it('gives nothing new to a saturated backend, by engine queue or by KV cache', () => {
    const p = pool();
    p.reportLoad('a', load(5), 0);
    p.reportLoad('b', load(0, 0.5), 0);
    expect(p.pick(10)).toBe('b');
    p.reportLoad('b', load(0, 0.8), 20);
    expect(p.pick(30)).toBeNull();
    expect(p.freeSlots(30)).toBe(0);
    expect(p.status(30).map((s) => s.load?.reason)).toEqual(['waiting', 'kv_cache']);
  });

  it('picks the least loaded unsaturated backend: engine queue first, then KV use', () => {
    const p = pool();
    p.reportLoad('a', load(2, 0.1), 0);
    p.reportLoad('b', load(1, 0.6), 0);
    expect(p.pick(10)).toBe('b');
    p.reportLoad('a', load(1, 0.1), 20);
    expect(p.pick(30)).toBe('a');
  });

  it('counts its own dispatches into the engine queue until the next scrape (no oscillation)', () => {
    const p = pool();
    p.reportLoad('a', load(3), 0);
    p.reportLoad('b', load(3), 0);
    // Each dispatch joins an engine queue that was full at the scrape: 2 each saturate both.
    for (let i = 0; i < 4; i++) p.acquire(p.pick(10) ?? 'none', 10);
    expect(p.pick(10)).toBeNull();
    // A release frees a place in one batch.
    p.release('a', 20);
    expect(p.pick(20)).toBe('a');
  });

  it('falls back to slot counting when metrics are stale, so a broken scrape path never blocks the pool', () => {
    const p = pool();
    p.reportLoad('a', load(9), 0);
    p.reportLoad('b', load(9), 0);
    expect(p.pick(1_000)).toBeNull();
    const stale = DEFAULT_SATURATION_POLICY.staleAfterMs + 1;
    expect(p.pick(stale)).toBe('a');
    expect(p.status(stale)[0]?.load).toMatchObject({ fresh: false, saturated: false });
  });

  it('keeps maxConcurrency as a hard cap whatever the engine says', () => {
    const p = new BackendPool([{ name: 'a', maxConcurrency: 2 }], undefined, DEFAULT_SATURATION_POLICY);
    p.reportLoad('a', load(0, 0.1, 0), 0);
    p.acquire('a', 1);
    p.acquire('a', 1);
    expect(p.pick(2)).toBeNull();
  });
});

describe('BackendPool with probing (recovery without sacrificing a live request)', () => {
  const pool = () =>
    new BackendPool(
      [
        { name: 'a', maxConcurrency: 8 },
        { name: 'b', maxConcurrency: 8 },
      ],
      { baseMs: 1_000, maxMs: 30_000 },
      null,
      true,
    );

  it('after its cooldown a failed backend gets no live request until a health probe answers', () => {
    const p = pool();
    p.reportUnreachable('a', 0);
    expect(p.status(500)[0]?.state).toBe('cooling');
    expect(p.probesDue(500)).toEqual([]);
    // Cooldown over: it waits for a probe, and only one probe is sent.
    expect(p.status(1_000)[0]?.state).toBe('probing');
    for (let i = 0; i < 8; i++) p.acquire(p.pick(1_000) ?? 'none', 1_000);
    expect(p.pick(1_000)).toBeNull();
    expect(p.probesDue(1_000)).toEqual(['a']);
    expect(p.probesDue(1_000)).toEqual([]);
  });

  it('a failed probe cools it down again, for twice as long', () => {
    const p = pool();
    p.reportUnreachable('a', 0);
    p.probesDue(1_000);
    p.onProbe('a', false, 1_000);
    expect(p.status(2_500)[0]).toMatchObject({ state: 'cooling', downUntil: 3_000 });
  });

  it('comes back half-open: one slot, doubling with each success, healthy at full', () => {
    const p = pool();
    p.reportUnreachable('a', 0);
    p.probesDue(1_000);
    p.onProbe('a', true, 1_000);
    expect(p.status(1_000)[0]?.state).toBe('half_open');
    expect(p.freeSlots(1_000)).toBe(1 + 8);
    p.acquire('a', 1_000);
    expect(p.pick(1_000)).toBe('b');
    p.release('a', 1_100);
    p.reportReachable('a', 1_100);
    expect(p.freeSlots(1_100)).toBe(2 + 8);
    p.reportReachable('a', 1_200);
    p.reportReachable('a', 1_300);
    expect(p.status(1_300)[0]).toMatchObject({ state: 'healthy', consecutiveFailures: 0 });
    expect(p.freeSlots(1_300)).toBe(16);
  });

  it('a failure while half-open sends it back to cooling, with the doubled cooldown', () => {
    const p = pool();
    p.reportUnreachable('a', 0);
    p.probesDue(1_000);
    p.onProbe('a', true, 1_000);
    p.reportUnreachable('a', 1_050);
    expect(p.status(1_100)[0]).toMatchObject({ state: 'cooling', downUntil: 3_050 });
  });
});
