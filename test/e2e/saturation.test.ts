// Saturation from the engine's own metrics, end to end: one simulated vLLM backend that really runs 3
// requests at once (--max-num-seqs 3) but is configured maxConcurrency 12, under the reference
// criticality scenario (50/30/20 requests at criticality 1/3/5). Without saturation control Sluice fills
// all 12 "slots", the engine queues 9 first come first served, and priority is decided there; with it,
// Sluice stops at the engine's saturation threshold and keeps the rest in its own queues.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReferenceScenario } from './support/reference-scenario.ts';
import { startStack, type Stack } from './support/stack.ts';

const BACKEND = [{ name: 'gpu', maxConcurrency: 12, sim: { maxNumSeqs: 3, ttftMs: 50, itlMs: 5 } }];
/** Scrape often enough for a 3-second scenario; the default (1 s) is for real generations. */
const CONTROLLED = { METRICS_INTERVAL_MS: '200' };
const UNCONTROLLED = { METRICS_INTERVAL_MS: '0' };

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

/** Runs the scenario while sampling the engine's own waiting queue every 20 ms. */
async function run(stack: Stack) {
  const sim = stack.sims[0];
  if (!sim) throw new Error('no simulator');
  const waiting: number[] = [];
  const sampler = setInterval(() => waiting.push(sim.stats().waiting), 20);
  try {
    const mean = await runReferenceScenario(stack.url);
    const sorted = [...waiting].sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)] ?? 0;
    const meanWaiting = waiting.reduce((a, b) => a + b, 0) / Math.max(1, waiting.length);
    return { mean, maxWaiting: Math.max(...waiting), p90Waiting: p90, meanWaiting };
  } finally {
    clearInterval(sampler);
  }
}

describe('saturation control (maxConcurrency set too high)', () => {
  it('keeps critical < normal < background, with the engine queue near the threshold', async () => {
    const r = await run(controlled);
    console.log(`with saturation control: ${JSON.stringify(r)}`);
    expect(r.mean['critical']).toBeLessThan(r.mean['normal']!);
    expect(r.mean['normal']).toBeLessThan(r.mean['background']!);
    // Threshold 5, plus what one scrape interval lets through before the tracker learns the batch size.
    expect(r.p90Waiting).toBeLessThanOrEqual(6);
  });

  // Without control the engine holds every slot Sluice hands it in its own first-come-first-served queue
  // (9 here, against the threshold of 5 with control). What that costs the critical workload in this
  // 100-request scenario is a few completion positions, which is within run-to-run noise (measured over
  // 5 runs: background − critical mean position 13–29 with control, 15–21 without), so the test asserts
  // the mechanism, not a comparison of two noisy runs.
  it('without it, the engine queues up to its configured slots first come first served', async () => {
    const r = await run(uncontrolled);
    const c = await run(controlled);
    console.log(`without saturation control: ${JSON.stringify(r)}; with: ${JSON.stringify(c)}`);
    expect(r.maxWaiting).toBeGreaterThanOrEqual(8);
    // Deeper for most of the run, not only at a peak (measured: mean 5.5–5.9 waiting without control,
    // 2.3–3.5 with, in runs alongside the other e2e tests).
    expect(r.meanWaiting).toBeGreaterThan(c.meanWaiting + 1);
  });
});
