// The sliding-window request rate: no first-request spike, no reset cliff, smooth decay to 0, robust to a
// clock that goes backwards, and a snapshot that restores the same rate.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingWindowRate } from '../../src/core/index.ts';

const WINDOW_MS = 60_000;
const BUCKET_MS = 1_000;
const WINDOW_SEC = WINDOW_MS / 1000;

const newRate = (): SlidingWindowRate => new SlidingWindowRate(WINDOW_MS, BUCKET_MS);

/** Events per bucket, to express tolerances as "one bucket's share" of the window. */
function maxBucketCount(times: readonly number[]): number {
  const perBucket = new Map<number, number>();
  for (const t of times) {
    const b = Math.floor(t / BUCKET_MS);
    perBucket.set(b, (perBucket.get(b) ?? 0) + 1);
  }
  return Math.max(0, ...perBucket.values());
}

describe('SlidingWindowRate', () => {
  it('one request in a 60 s window reads 1/60 rps, not 1/elapsed (no first-request spike)', () => {
    const rate = newRate();
    rate.record(12_345);
    expect(rate.ratePerSec(12_345)).toBeCloseTo(1 / 60, 12);
    expect(rate.ratePerSec(12_346)).toBeCloseTo(1 / 60, 12);
    expect(rate.ratePerSec(12_345 + 30_000)).toBeCloseTo(1 / 60, 12);
  });

  it('reads 0 before any event', () => {
    expect(newRate().ratePerSec(1_000_000)).toBe(0);
  });

  it.each([0.5, 2, 10, 37])(
    'a steady %d rps converges to the true rate (within one bucket’s share)',
    (rps) => {
      const rate = newRate();
      const gapMs = 1000 / rps;
      const start = 5_250;
      const end = start + 2 * WINDOW_MS;
      for (let t = start; t <= end; t += gapMs) rate.record(t);
      const tolerance = (Math.ceil(rps) + 1) / WINDOW_SEC;
      for (const now of [end, end - 333, end - 17_000]) {
        expect(Math.abs(rate.ratePerSec(now) - rps)).toBeLessThanOrEqual(tolerance);
      }
    },
  );

  it('events spread over one window read count / window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: WINDOW_MS - 1 }), { minLength: 1, maxLength: 300 }),
        (offsets) => {
          const rate = newRate();
          const start = 100_500; // not bucket-aligned: the oldest events may straddle the window edge
          const times = offsets.map((o) => start + o).sort((a, b) => a - b);
          for (const t of times) rate.record(t);
          const last = times[times.length - 1] ?? start;
          // Every event is in (last − window, last] except, possibly, the part of the oldest bucket outside it.
          const got = rate.ratePerSec(last);
          expect(got).toBeLessThanOrEqual(times.length / WINDOW_SEC + 1e-9);
          expect(got).toBeGreaterThanOrEqual((times.length - maxBucketCount(times)) / WINDOW_SEC - 1e-9);
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });

  it('decays smoothly after the last event and reaches 0 one window (plus the partial bucket) later', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 45_000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: 999 }),
        (offsets, phase) => {
          const rate = newRate();
          const start = 1_000_000 + phase;
          const times = offsets.map((o) => start + o).sort((a, b) => a - b);
          for (const t of times) rate.record(t);
          const last = times[times.length - 1] ?? start;
          const bucketShare = maxBucketCount(times) / WINDOW_SEC;
          const stepMs = 100;
          // A reset cliff drops a whole bucket (or the whole window) in one step; this estimator
          // interpolates the straddling bucket, so a 100 ms step loses at most a tenth of a bucket's share.
          const maxDropPerStep = bucketShare * (stepMs / BUCKET_MS) + 1e-9;
          let previous = rate.ratePerSec(last);
          expect(previous).toBeGreaterThan(0);
          for (let now = last + stepMs; now <= last + WINDOW_MS + 2 * BUCKET_MS; now += stepMs) {
            const current = rate.ratePerSec(now);
            expect(current).toBeLessThanOrEqual(previous + 1e-12);
            expect(previous - current).toBeLessThanOrEqual(maxDropPerStep);
            expect(previous - current).toBeLessThanOrEqual(bucketShare + 1e-9);
            previous = current;
          }
          expect(rate.ratePerSec(last + WINDOW_MS + BUCKET_MS)).toBe(0);
          expect(rate.ratePerSec(last + WINDOW_MS - BUCKET_MS)).toBeGreaterThan(0);
        },
      ),
      { seed: 11, numRuns: 60 },
    );
  });

  it('a clock going backwards counts the event at the latest time seen, and never resets a live bucket', () => {
    const rate = newRate();
    rate.record(61_000);
    rate.record(61_000);
    rate.record(61_000);
    // Bucket 0 shares a ring slot with bucket 61; an unclamped record would overwrite it.
    rate.record(0);
    expect(rate.ratePerSec(61_000)).toBeCloseTo(4 / 60, 12);
    // Reading at an earlier time reads as of the latest time, too.
    expect(rate.ratePerSec(30_000)).toBeCloseTo(4 / 60, 12);
    expect(rate.ratePerSec(61_000 + WINDOW_MS + BUCKET_MS)).toBe(0);
  });

  it('snapshot round-trip (through JSON) preserves the rate now and as it decays', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 150_000 }), { minLength: 0, maxLength: 200 }),
        (offsets) => {
          const rate = newRate();
          const times = offsets.map((o) => 10_000 + o).sort((a, b) => a - b);
          for (const t of times) rate.record(t);
          const snap = JSON.parse(JSON.stringify(rate.snapshot())) as ReturnType<
            SlidingWindowRate['snapshot']
          >;
          const restored = SlidingWindowRate.fromSnapshot(snap);
          expect(restored.windowMs).toBe(WINDOW_MS);
          expect(restored.bucketMs).toBe(BUCKET_MS);
          const last = times[times.length - 1] ?? 10_000;
          for (const now of [last, last + 450, last + 30_000, last + 59_500, last + 60_700, last + 62_000]) {
            expect(restored.ratePerSec(now)).toBeCloseTo(rate.ratePerSec(now), 12);
          }
        },
      ),
      { seed: 13, numRuns: 100 },
    );
  });

  it.each([
    [60_000, 0],
    [60_000, -1_000],
    [0, 1_000],
    [500, 1_000],
    [1_500, 1_000],
    [Number.NaN, 1_000],
    [60_000, Number.NaN],
    [Number.POSITIVE_INFINITY, 1_000],
  ])('new SlidingWindowRate(%d, %d) throws a TypeError', (windowMs, bucketMs) => {
    expect(() => new SlidingWindowRate(windowMs, bucketMs)).toThrow(TypeError);
  });
});
