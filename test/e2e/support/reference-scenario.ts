// The reference criticality scenario, shared by e2e tests: 50 criticality-1 requests from t=0, 30
// criticality-3 from t=200 ms and 20 criticality-5 from t=400 ms, one every 10 ms per workload. Returns
// each workload's mean completion position (0 = first to finish).

import OpenAI from 'openai';

export const REFERENCE_WORKLOADS = [
  { id: 'background', criticality: 1, count: 50, startMs: 0 },
  { id: 'normal', criticality: 3, count: 30, startMs: 200 },
  { id: 'critical', criticality: 5, count: 20, startMs: 400 },
] as const;
const SPACING_MS = 10;

export async function runReferenceScenario(
  url: string,
  model = 'sim-model',
): Promise<Record<string, number>> {
  const finished: string[] = [];
  const calls: Array<Promise<void>> = [];
  for (const w of REFERENCE_WORKLOADS) {
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
            model,
            messages: [{ role: 'user', content: `${w.id} ${i}` }],
            max_tokens: 10,
          });
          finished.push(w.id);
        }),
      );
    }
  }
  await Promise.all(calls);
  if (finished.length !== 100) throw new Error(`expected 100 completions, got ${finished.length}`);
  const meanPosition = (id: string): number => {
    const positions = finished.flatMap((w, i) => (w === id ? [i] : []));
    return positions.reduce((a, b) => a + b, 0) / positions.length;
  };
  return Object.fromEntries(REFERENCE_WORKLOADS.map((w) => [w.id, meanPosition(w.id)]));
}
