// Metrics benchmark: what one scrape costs with 1,000 (and 10,000) workloads. In core: applying one
// workload report (paid on each offer/release that carries one) and building a pool's summary plus the
// Prometheus text (paid by the coordinator per scrape). End to end: GET /metrics and /dashboard/data on
// a real router (wrangler dev) that has seen 1,000 workloads, next to /admin/backends (also one
// coordinator call) and /healthz (none). Prints numbers; never asserts on time.

import { startStack } from '../test/e2e/support/stack.ts';
import { percentile } from './load.ts';
import {
  dashboardView,
  ENDED,
  PoolSummary,
  renderPrometheus,
  WorkloadTally,
  type MetricsReport,
} from '../src/core/index.ts';

const TOP_N = 20;
const SCRAPES = 40;
const ROUTER_WORKLOADS = Number(process.env['BENCH_METRICS_WORKLOADS'] ?? 1000);

function reportsFor(workloads: number): MetricsReport[][] {
  // Three reports per workload as its counts grow: arrivals, dispatches with waits, ends with usage.
  return Array.from({ length: workloads }, (_, w) => {
    const tally = new WorkloadTally(`tenant-${w}`, 0);
    const out: MetricsReport[] = [];
    for (let step = 0; step < 3; step++) {
      for (let i = 0; i < 4; i++) {
        const id = `r${step}-${i}`;
        tally.arrived(id, 'default', ((w + i) % 5) + 1);
        tally.dispatched(id, (w * 37 + i * 101) % 4000);
        tally.ended(id, i === 3 ? ENDED.clientClosed : ENDED.completed, {
          promptTokens: 20,
          completionTokens: 50,
        });
      }
      const r = tally.takeReport('default');
      if (r) out.push(r);
    }
    return out;
  });
}

function sorted(xs: number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

function coreRow(workloads: number): string {
  const reports = reportsFor(workloads);
  const summary = new PoolSummary();
  const t0 = performance.now();
  let applied = 0;
  for (let step = 0; step < 3; step++) {
    for (let w = 0; w < workloads; w++) {
      const r = reports[w]?.[step];
      if (r) {
        summary.apply(r, 1_000 + step * 10_000 + w);
        applied++;
      }
    }
  }
  const applyUs = ((performance.now() - t0) * 1000) / applied;
  const scrapeMs: number[] = [];
  const viewMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 15; i++) {
    const now = 40_000 + i * 1_000;
    const a = performance.now();
    const snap = summary.snapshot(now, TOP_N);
    const text = renderPrometheus({
      pools: [{ pool: 'default', summary: { ...snap, backends: [] } }],
      configErrors: 0,
      topWorkloads: TOP_N,
    });
    scrapeMs.push(performance.now() - a);
    bytes = text.length;
    const b = performance.now();
    dashboardView(now, 0, [{ pool: 'default', summary: { ...summary.snapshot(now, TOP_N), backends: [] } }]);
    viewMs.push(performance.now() - b);
  }
  return `| ${workloads.toLocaleString('en')} | ${applyUs.toFixed(2)} | ${percentile(sorted(scrapeMs), 50).toFixed(2)} | ${percentile(sorted(scrapeMs), 95).toFixed(2)} | ${percentile(sorted(viewMs), 50).toFixed(2)} | ${(bytes / 1024).toFixed(1)} |`;
}

async function timeGets(url: string, n: number): Promise<{ p50: number; p95: number; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(url);
    const body = await res.arrayBuffer();
    ms.push(performance.now() - t);
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    bytes = body.byteLength;
  }
  const s = sorted(ms);
  return { p50: percentile(s, 50), p95: percentile(s, 95), bytes };
}

async function routerRows(): Promise<string[]> {
  // startStack turns AUTH off: wrangler.toml has it on, and these GETs carry no key.
  const router = await startStack([{ name: 'sim', maxConcurrency: 256, sim: { ttftMs: 0, itlMs: 0 } }], {
    METRICS_TOP_WORKLOADS: String(TOP_N),
  });
  try {
    let next = 0;
    const worker = async () => {
      while (next < ROUTER_WORKLOADS) {
        const w = next++;
        // A dropped connection (the local server is busy) is retried: the workload must become known.
        for (let attempt = 1; ; attempt++) {
          try {
            const res = await fetch(`${router.url}/v1/chat/completions`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'x-workload-context': JSON.stringify({
                  workload_id: `tenant-${w}`,
                  criticality: (w % 5) + 1,
                }),
              },
              body: JSON.stringify({
                model: 'sim-model',
                messages: [{ role: 'user', content: 'x' }],
                max_tokens: 1,
              }),
            });
            await res.arrayBuffer();
            break;
          } catch (err) {
            if (attempt >= 3) throw err;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    // Wait until the coordinator has heard from every workload (their reports ride on releases).
    for (let i = 0; i < 200; i++) {
      const text = await (await fetch(`${router.url}/metrics`)).text();
      const m = /^sluice_workloads\{pool="default"\} (\d+)$/m.exec(text);
      if (Number(m?.[1]) >= ROUTER_WORKLOADS) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rows: string[] = [];
    for (const [path, what] of [
      ['/healthz', 'no Durable Object call'],
      ['/admin/backends', '1 coordinator call'],
      ['/metrics', '1 coordinator call'],
      [`/dashboard/data?limit=${TOP_N}`, '1 coordinator call'],
    ] as const) {
      await timeGets(`${router.url}${path}`, 5);
      const r = await timeGets(`${router.url}${path}`, SCRAPES);
      rows.push(
        `| ${path} | ${what} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${(r.bytes / 1024).toFixed(1)} |`,
      );
    }
    return rows;
  } finally {
    await router.close();
  }
}

export async function runMetricsBench(): Promise<string> {
  const core = [coreRow(1_000), coreRow(10_000)];
  const lines = [
    `## Metrics bench (Node ${process.version}, ${process.arch}; top N = ${TOP_N})`,
    '',
    '### Core: per report, and per scrape of one pool (coordinator side)',
    '',
    '| workloads | apply one report (µs) | summary + Prometheus text p50 (ms) | p95 (ms) | dashboard view p50 (ms) | /metrics size (KiB) |',
    '|---|---|---|---|---|---|',
    ...core,
    '',
    `### Router (wrangler dev, one pool, ${ROUTER_WORKLOADS.toLocaleString('en')} workloads known; ${SCRAPES} sequential GETs each)`,
    '',
    '| path | Durable Object calls | p50 ms | p95 ms | size (KiB) |',
    '|---|---|---|---|---|',
    ...(await routerRows()),
  ];
  return lines.join('\n');
}
