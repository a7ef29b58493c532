// Saturation from the engine's own metrics, end to end: one simulated vLLM backend that really runs 3
// requests at once (--max-num-seqs 3) but is configured maxConcurrency 12, under the reference
// criticality scenario (50/30/20 requests at criticality 1/3/5). Without saturation control Sluice fills
// all 12 "slots", the engine queues 9 first come first served, and priority is decided there; with it,
// Sluice stops at the engine's saturation threshold and keeps the rest in its own queues.
//
// The assertions count, per request, how many others the engine already had waiting when it arrived
// (recorded by the simulator at the event, see SimStats.waitingAheadCounts): that is decided by what
// Sluice dispatched and when the engine freed slots, so a sampling timer cannot miss it, and the bounds
// leave room for what a busy machine moves (a few requests), far from what broken control gives.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SATURATION_MAX_WAITING } from '../../src/core/saturation.ts';
import { runReferenceScenario } from './support/reference-scenario.ts';
import { startStack, type Stack } from './support/stack.ts';

const MAX_CONCURRENCY = 12;
const MAX_NUM_SEQS = 3;
const BACKEND = [
  { name: 'gpu', maxConcurrency: MAX_CONCURRENCY, sim: { maxNumSeqs: MAX_NUM_SEQS, ttftMs: 50, itlMs: 5 } },
];
/** Scrape often enough for a 3-second scenario; the default (1 s) is for real generations. */
const CONTROLLED = { METRICS_INTERVAL_MS: '200' };
const UNCONTROLLED = { METRICS_INTERVAL_MS: '0' };
const THRESHOLD = DEFAULT_SATURATION_MAX_WAITING;
/** The engine queue when Sluice fills every configured slot: 12 − 3 running. */
const FULL_QUEUE = MAX_CONCURRENCY - MAX_NUM_SEQS;

let controlled: Stack;
let uncontrolled: Stack;

beforeAll(async () => {
  [controlled, uncontrolled] = await Promise.all([
    startStack(BACKEND, CONTROLLED),
    startStack(BACKEND, UNCONTROLLED),
  ]);
});

afterAll(async () => {
  await Promise.all([controlled?.close(), uncontrolled?.close()]);
});

/**
 * Runs the scenario; `ahead[k]` is how many of its 100 requests found k others waiting in the engine
 * when they arrived there.
 */
async function run(stack: Stack) {
  const sim = stack.sims[0];
  if (!sim) throw new Error('no simulator');
  const before = sim.stats().waitingAheadCounts;
  const mean = await runReferenceScenario(stack.url);
  const ahead = sim.stats().waitingAheadCounts.map((n, k) => n - (before[k] ?? 0));
  // Depths reached only in an earlier run are not this run's.
  while (ahead.length > 0 && ahead[ahead.length - 1] === 0) ahead.pop();
  const joinedBehind = (k: number): number => ahead.slice(k).reduce((a, b) => a + b, 0);
  return { mean, ahead, joinedBehind };
}

describe('saturation control (maxConcurrency set too high)', () => {
  it('keeps critical < normal < background, and the engine queue below the threshold', async () => {
    const r = await run(controlled);
    console.log(`with saturation control: ${JSON.stringify({ mean: r.mean, ahead: r.ahead })}`);
    // The priority outcome, end to end: critical goes first. It holds without control too (the engine's
    // FIFO only blurs it by a few positions, see the second test), so the mechanism is checked by the
    // counts below. Normal against background is not asserted here: in this scenario background has a
    // 200 ms head start, so even strict priority puts their means only a few positions apart (about 55
    // and 57), and runs measured normal 49–54 against background 53–58; CI saw normal 52.3 > background
    // 51.8 once. criticality.test.ts checks that order with room to spare.
    expect(r.mean['critical']).toBeLessThan(r.mean['normal']!);
    expect(r.mean['critical']).toBeLessThan(r.mean['background']!);
    expect(r.joinedBehind(0)).toBe(100);
    // Most requests join below the threshold. Not all: until a scrape first shows the engine's batch
    // full, its size is unknown and only maxConcurrency caps, so the first burst can fill the queue to
    // FULL_QUEUE (4 joins at or past the threshold); and the estimate runs one low for the rest of an
    // interval for each release that reaches the coordinator after a scrape that already counted it (see
    // BackendLoadTracker), so on a busy machine some join at exactly the threshold. Measured 4–20 of
    // 100, idle machine or both cores busy; without control (or with the threshold ignored) 80–92.
    expect(r.joinedBehind(THRESHOLD)).toBeLessThanOrEqual(40);
    // It holds back only past the threshold: most requests still find a queue in the engine, so its
    // batch stays full (measured 88–96 of 100).
    expect(r.joinedBehind(1)).toBeGreaterThanOrEqual(50);
  });

  it('without it, the engine queues up to its configured slots first come first served', async () => {
    const r = await run(uncontrolled);
    console.log(`without saturation control: ${JSON.stringify({ mean: r.mean, ahead: r.ahead })}`);
    expect(r.joinedBehind(0)).toBe(100);
    // Someone found FULL_QUEUE − 1 waiting, so the engine held all 12 at once, and never more.
    expect(r.ahead.length).toBe(FULL_QUEUE);
    // Not only at a peak: most requests joined at or past the threshold.
    expect(r.joinedBehind(THRESHOLD)).toBeGreaterThanOrEqual(50);
  });
});
