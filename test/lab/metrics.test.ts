// The report's statistics.

import { describe, expect, it } from 'vitest';
import { jainIndex, maxMinShares, percentile } from '../../lab/metrics.ts';
import { createRng, deriveRng } from '../../lab/prng.ts';
import { niceTicks } from '../../lab/svg-chart.ts';

describe('percentile (nearest rank)', () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  it('picks the smallest value with at least p% at or below it', () => {
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 95)).toBe(10);
    expect(percentile(xs, 10)).toBe(1);
    expect(percentile(xs, 100)).toBe(10);
    expect(percentile([], 50)).toBeNull();
  });
  it('rejects p outside (0, 100]', () => {
    expect(() => percentile(xs, 0)).toThrow(TypeError);
  });
});

describe('jainIndex', () => {
  it('is 1 for equal shares and 1/n when one party gets everything', () => {
    expect(jainIndex([3, 3, 3])).toBeCloseTo(1);
    expect(jainIndex([1, 0, 0, 0])).toBeCloseTo(0.25);
  });
});

describe('maxMinShares', () => {
  it('gives small demands what they ask and splits the rest equally', () => {
    expect(maxMinShares([2, 10, 10], 12)).toEqual([2, 5, 5]);
    expect(maxMinShares([20, 40], 51)).toEqual([20, 31]);
    expect(maxMinShares([1, 1], 10)).toEqual([1, 1]);
  });
});

describe('prng', () => {
  it('repeats a stream for the same seed and separates labels', () => {
    const a = createRng(7);
    const b = createRng(7);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(deriveRng(1, 'x')()).not.toBe(deriveRng(1, 'y')());
  });
});

describe('niceTicks', () => {
  it('ends at a round number at or above the maximum', () => {
    expect(niceTicks(87)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.6)).toEqual([0, 0.2, 0.4, 0.6]);
  });
});
