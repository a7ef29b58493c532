// The reference criticality scenario, end to end: one backend with 3 slots, 50 criticality-1 requests
// from t=0, 30 criticality-3 from t=200 ms and 20 criticality-5 from t=400 ms, one every 10 ms per
// workload. Under the default policy the mean completion position orders critical < normal < background.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReferenceScenario } from './support/reference-scenario.ts';
import { startStack, type Stack } from './support/stack.ts';

let stack: Stack;
let fcfsStack: Stack;
const BACKEND = [{ name: 'gpu', maxConcurrency: 3, sim: { ttftMs: 50, itlMs: 5 } }];

beforeAll(async () => {
  [stack, fcfsStack] = await Promise.all([startStack(BACKEND), startStack(BACKEND, { POLICY: 'fcfs' })]);
});

afterAll(async () => {
  await Promise.all([stack?.close(), fcfsStack?.close()]);
});

const runScenario = (url: string) => runReferenceScenario(url);

describe('reference criticality scenario', () => {
  it('completes critical before normal before background on average (workload-aware)', async () => {
    const mean = await runScenario(stack.url);
    console.log(`workload-aware mean completion position: ${JSON.stringify(mean)}`);
    expect(mean['critical']).toBeLessThan(mean['normal']!);
    expect(mean['normal']).toBeLessThan(mean['background']!);
  });

  it('serves in arrival order under fcfs, so the ordering above is the policy at work', async () => {
    const mean = await runScenario(fcfsStack.url);
    console.log(`fcfs mean completion position: ${JSON.stringify(mean)}`);
    expect(mean['background']).toBeLessThan(mean['critical']!);
  });
});
