// Router benchmark: added latency and throughput of Sluice against a zero-delay simulated backend, at a
// fixed concurrency. Three paths in the same run: direct to the backend, a bare pass-through Worker in
// the same runtime, and through Sluice; under two runtimes: Miniflare's API directly, and wrangler dev.

import { join } from 'node:path';
import { startSimServer } from '../sim/server.ts';
import { freePort } from '../scripts/free-port.ts';
import { startMiniflareSluice, startMiniflareWorker } from '../scripts/miniflare-router.ts';
import { REPO_ROOT, startRouterProcess } from '../scripts/router-process.ts';
import { runLoad, type LoadResult } from './load.ts';

/** The two operating points: throughput at concurrency 16, added latency at concurrency 1. */
const POINTS = [
  {
    concurrency: Number(process.env['BENCH_CONCURRENCY'] ?? 16),
    requests: Number(process.env['BENCH_REQUESTS'] ?? 2000),
  },
  { concurrency: 1, requests: Number(process.env['BENCH_SERIAL_REQUESTS'] ?? 500) },
] as const;
const WARMUP_REQUESTS = 200;
/** Enough backend slots that the backend never queues: we measure the router, not the GPU. */
const BACKEND_SLOTS = 256;

const BODY = JSON.stringify({
  model: 'sim-model',
  messages: [{ role: 'user', content: 'bench' }],
  max_tokens: 1,
});
const HEADERS = { 'x-workload-context': JSON.stringify({ workload_id: 'bench', criticality: 3 }) };

interface Endpoint {
  readonly url: string;
  close(): Promise<void>;
}

interface Runtime {
  readonly passthrough: Endpoint;
  readonly skeleton: Endpoint;
  readonly sluice: Endpoint;
}

/** The paths measured in each runtime, in the order they are reported. */
const PATHS = [
  { label: 'pass-through Worker', of: (r: Runtime) => `${r.passthrough.url}/v1/chat/completions` },
  { label: 'skeleton: 1 object hop', of: (r: Runtime) => `${r.skeleton.url}/v1/chat/completions?shape=hop1` },
  {
    label: 'skeleton: 2 object hops',
    of: (r: Runtime) => `${r.skeleton.url}/v1/chat/completions?shape=hop2`,
  },
  {
    label: 'skeleton: 2 hops + lease write + release',
    of: (r: Runtime) => `${r.skeleton.url}/v1/chat/completions?shape=full`,
  },
  { label: 'Sluice', of: (r: Runtime) => `${r.sluice.url}/v1/chat/completions` },
] as const;

async function measure(url: string, concurrency: number, requests: number): Promise<LoadResult> {
  await runLoad({ url, concurrency, requests: WARMUP_REQUESTS, body: BODY, headers: HEADERS });
  return runLoad({ url, concurrency, requests, body: BODY, headers: HEADERS });
}

const SKELETON_OBJECTS = {
  WORKLOAD: { className: 'SkeletonWorkload', useSQLite: true },
  COORDINATOR: { className: 'SkeletonCoordinator', useSQLite: true },
};

async function underMiniflare(backendUrl: string): Promise<Runtime> {
  const passthrough = await startMiniflareWorker({
    configPath: join(REPO_ROOT, 'bench', 'passthrough.wrangler.toml'),
    bindings: { BACKEND_URL: backendUrl },
  });
  const skeleton = await startMiniflareWorker({
    configPath: join(REPO_ROOT, 'bench', 'skeleton.wrangler.toml'),
    bindings: { BACKEND_URL: backendUrl },
    durableObjects: SKELETON_OBJECTS,
  });
  const sluice = await startMiniflareSluice(backendUrl, {
    slots: BACKEND_SLOTS,
    // The scheduling path alone; what a key lookup adds is `npm run bench -- auth`.
    vars: { POLICY: 'workload-aware', AUTH: 'off' },
  });
  return { passthrough, skeleton, sluice };
}

async function underWranglerDev(backendUrl: string): Promise<Runtime> {
  const passthrough = await startRouterProcess({
    port: await freePort(),
    configPath: join(REPO_ROOT, 'bench', 'passthrough.wrangler.toml'),
    vars: { BACKEND_URL: backendUrl },
  });
  const skeleton = await startRouterProcess({
    port: await freePort(),
    configPath: join(REPO_ROOT, 'bench', 'skeleton.wrangler.toml'),
    vars: { BACKEND_URL: backendUrl },
  });
  const sluice = await startRouterProcess({
    port: await freePort(),
    vars: {
      BACKENDS: JSON.stringify([{ name: 'sim', url: backendUrl, maxConcurrency: BACKEND_SLOTS }]),
      AUTH: 'off',
    },
  });
  return { passthrough, skeleton, sluice };
}

function row(runtime: string, path: string, r: LoadResult, pass: LoadResult | null): string {
  const share = pass ? `${((100 * r.rps) / pass.rps).toFixed(0)} %` : '—';
  const added = pass ? (r.p50Ms - pass.p50Ms).toFixed(2) : '—';
  return `| ${runtime} | ${path} | ${r.rps.toFixed(0)} | ${share} | ${r.p50Ms.toFixed(2)} | ${r.p95Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${added} | ${r.errors} |`;
}

function stages(r: LoadResult): string {
  const entries = Object.entries(r.stagesMeanMs);
  return entries.length === 0 ? 'none reported' : entries.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
}

export async function runRouterBench(): Promise<string> {
  const sim = await startSimServer({ name: 'sim', port: 0, maxNumSeqs: BACKEND_SLOTS, ttftMs: 0, itlMs: 0 });
  const lines = [
    'Router benchmark: non-streaming chat completions with max_tokens 1 against a zero-delay simulated',
    `backend, ${WARMUP_REQUESTS} warm-up requests before each measurement. "% of pass" is throughput as a`,
    'share of the bare pass-through Worker in the same runtime and run; "added p50" is over that Worker.',
    "The skeleton rows run Sluice's Durable Object round trips and writes with none of its logic",
    '(bench/skeleton-worker.ts): what the design costs in this runtime before any Sluice code runs.',
  ];
  const stageLines: string[] = [];
  try {
    for (const point of POINTS) {
      lines.push(
        '',
        `Concurrency ${point.concurrency}, ${point.requests} requests:`,
        '',
        '| runtime | path | req/s | % of pass | p50 ms | p95 ms | p99 ms | added p50 ms | errors |',
        '|---|---|---|---|---|---|---|---|---|',
      );
      lines.push(
        row(
          '—',
          'direct to backend',
          await measure(`${sim.url}/v1/chat/completions`, point.concurrency, point.requests),
          null,
        ),
      );
      for (const [runtime, start] of [
        ['Miniflare (API)', underMiniflare],
        ['wrangler dev', underWranglerDev],
      ] as const) {
        const started = await start(sim.url);
        try {
          let pass: LoadResult | null = null;
          for (const path of PATHS) {
            const r = await measure(path.of(started), point.concurrency, point.requests);
            pass ??= r;
            lines.push(row(runtime, path.label, r, path.label === PATHS[0].label ? null : pass));
            if (path.label === 'Sluice') {
              stageLines.push(`- ${runtime}, concurrency ${point.concurrency}: ${stages(r)}`);
            }
          }
        } finally {
          await Promise.all([started.passthrough.close(), started.skeleton.close(), started.sluice.close()]);
        }
      }
    }
  } finally {
    await sim.close();
  }
  lines.push(
    '',
    "Sluice's stages, mean ms from its Server-Timing header (parse: context and body; admit: the",
    "workload object round trip, which holds the offer to the coordinator; upstream: until the backend's",
    'headers). The completion and release run after the response and show only in throughput.',
    '',
    ...stageLines,
  );
  return lines.join('\n');
}
