// The reference criticality scenario, end to end: one backend with 3 slots, 50 criticality-1 requests
// from t=0, 30 criticality-3 from t=200 ms and 20 criticality-5 from t=400 ms, one every 10 ms per
// workload. Under the default policy the mean completion position orders critical < normal < background.

import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const WORKLOADS = [
  { id: 'background', criticality: 1, count: 50, startMs: 0 },
  { id: 'normal', criticality: 3, count: 30, startMs: 200 },
  { id: 'critical', criticality: 5, count: 20, startMs: 400 },
] as const;
const SPACING_MS = 10;

/** Runs the scenario against a router and returns each workload's mean completion position. */
async function runScenario(url: string): Promise<Record<string, number>> {
  const finished: string[] = [];
  const calls: Array<Promise<void>> = [];
  for (const w of WORKLOADS) {
    const client = new OpenAI({
      baseURL: `${url}/v1`,
      apiKey: 'sim',
      maxRetries: 0,
      timeout: 60_000,
      defaultHeaders: {
        'X-Workload-Context': JSON.stringify({ workload_id: w.id, criticality: w.criticality }),
      },
    });
    for (let i = 0; i < w.count; i++) {
      calls.push(
        new Promise<void>((resolve) => setTimeout(resolve, w.startMs + i * SPACING_MS)).then(async () => {
          await client.chat.completions.create({
            model: 'sim-model',
            messages: [{ role: 'user', content: `${w.id} ${i}` }],
            max_tokens: 10,
          });
          finished.push(w.id);
        }),
      );
    }
  }
  await Promise.all(calls);
  expect(finished).toHaveLength(100);

  const meanPosition = (id: string): number => {
    const positions = finished.flatMap((w, i) => (w === id ? [i] : []));
    return positions.reduce((a, b) => a + b, 0) / positions.length;
  };
  return Object.fromEntries(WORKLOADS.map((w) => [w.id, meanPosition(w.id)]));
}

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
