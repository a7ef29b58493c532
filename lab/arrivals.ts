// Arrival patterns: when a workload's requests reach the router. Open loop: arrivals never depend on how
// fast the router serves them, so every policy faces exactly the same load.

import { exponential, type Rng } from './prng.ts';

export type ArrivalPattern =
  /** `count` requests, one every `intervalMs`, the first at `startMs`. */
  | {
      readonly kind: 'periodic';
      readonly startMs: number;
      readonly intervalMs: number;
      readonly count: number;
    }
  /** `count` requests at the same instant. */
  | { readonly kind: 'burst'; readonly atMs: number; readonly count: number }
  /** A Poisson process of `ratePerSec` on [startMs, endMs). */
  | {
      readonly kind: 'poisson';
      readonly ratePerSec: number;
      readonly startMs: number;
      readonly endMs: number;
    };

export function arrivalTimesMs(pattern: ArrivalPattern, rng: Rng): number[] {
  switch (pattern.kind) {
    case 'periodic':
      return Array.from({ length: pattern.count }, (_, i) => pattern.startMs + i * pattern.intervalMs);
    case 'burst':
      return Array.from({ length: pattern.count }, () => pattern.atMs);
    case 'poisson': {
      const times: number[] = [];
      if (pattern.ratePerSec <= 0) return times;
      const meanGapMs = 1000 / pattern.ratePerSec;
      // Whole milliseconds: the core's clocks are integers in production (Date.now()).
      for (
        let t = pattern.startMs + exponential(rng, meanGapMs);
        t < pattern.endMs;
        t += exponential(rng, meanGapMs)
      ) {
        times.push(Math.floor(t));
      }
      return times;
    }
  }
}

export function describeArrivals(pattern: ArrivalPattern): string {
  switch (pattern.kind) {
    case 'periodic':
      return `${pattern.count} requests, one every ${formatMs(pattern.intervalMs)} from t=${formatMs(pattern.startMs)}`;
    case 'burst':
      return `${pattern.count} requests at once at t=${formatMs(pattern.atMs)}`;
    case 'poisson':
      return `Poisson ${pattern.ratePerSec} req/s from t=${formatMs(pattern.startMs)} to t=${formatMs(pattern.endMs)}`;
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
