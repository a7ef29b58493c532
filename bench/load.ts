// A closed-loop load generator: `concurrency` clients each send their next request as soon as the last
// one finished, until `requests` are done. Reports latency percentiles and throughput; never asserts.

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Mean duration of each stage the server reported in Server-Timing (empty if it reported none). */
  readonly stagesMeanMs: Readonly<Record<string, number>>;
}

export interface LoadOptions {
  readonly url: string;
  readonly concurrency: number;
  readonly requests: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const stages = new Map<string, { sum: number; n: number }>();
  const headers = { 'content-type': 'application/json', ...opts.headers };
  const worker = async (): Promise<void> => {
    while (next < opts.requests) {
      next++;
      const t0 = performance.now();
      try {
        const res = await fetch(opts.url, { method: 'POST', headers, body: opts.body });
        const timing = res.headers.get('server-timing');
        await res.arrayBuffer();
        if (res.status !== 200) errors++;
        else if (timing !== null) addStages(stages, timing);
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    stagesMeanMs: Object.fromEntries([...stages].map(([name, s]) => [name, s.sum / s.n])),
  };
}

/** Adds one response's `Server-Timing: name;dur=ms, …` to the running sums. */
function addStages(stages: Map<string, { sum: number; n: number }>, header: string): void {
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().split(';');
    const dur = params.find((p) => p.trim().startsWith('dur='));
    if (!name || dur === undefined) continue;
    const ms = Number(dur.trim().slice(4));
    if (!Number.isFinite(ms)) continue;
    const s = stages.get(name) ?? { sum: 0, n: 0 };
    s.sum += ms;
    s.n++;
    stages.set(name, s);
  }
}
