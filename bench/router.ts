// Router benchmark: added latency and throughput of Sluice against a zero-delay simulated backend, at a
// fixed concurrency. Three paths in the same run: direct to the backend, a bare pass-through Worker in
// the same runtime, and through Sluice; under two runtimes: Miniflare's API directly, and wrangler dev.

import { join } from 'node:path';
import { startSimServer } from '../sim/server.ts';
import { freePort } from '../scripts/free-port.ts';
import { SLUICE_DURABLE_OBJECTS, startMiniflareWorker } from '../scripts/miniflare-router.ts';
import { REPO_ROOT, startRouterProcess } from '../scripts/router-process.ts';
import { runLoad, type LoadResult } from './load.ts';

const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 2000);
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

async function measure(base: string): Promise<LoadResult> {
  const url = `${base}/v1/chat/completions`;
  await runLoad({ url, concurrency: CONCURRENCY, requests: WARMUP_REQUESTS, body: BODY, headers: HEADERS });
  return runLoad({ url, concurrency: CONCURRENCY, requests: REQUESTS, body: BODY, headers: HEADERS });
}

async function underMiniflare(backendUrl: string): Promise<{ passthrough: Endpoint; sluice: Endpoint }> {
  const passthrough = await startMiniflareWorker({
    configPath: join(REPO_ROOT, 'bench', 'passthrough.wrangler.toml'),
    bindings: { BACKEND_URL: backendUrl },
  });
  const sluice = await startMiniflareWorker({
    configPath: join(REPO_ROOT, 'wrangler.toml'),
    bindings: {
      BACKENDS: JSON.stringify([{ name: 'sim', url: backendUrl, maxConcurrency: BACKEND_SLOTS }]),
      POLICY: 'workload-aware',
      // The scheduling path alone; what a key lookup adds is `npm run bench -- auth`.
      AUTH: 'off',
    },
    durableObjects: SLUICE_DURABLE_OBJECTS,
  });
  return { passthrough, sluice };
}

async function underWranglerDev(backendUrl: string): Promise<{ passthrough: Endpoint; sluice: Endpoint }> {
  const passthrough = await startRouterProcess({
    port: await freePort(),
    configPath: join(REPO_ROOT, 'bench', 'passthrough.wrangler.toml'),
    vars: { BACKEND_URL: backendUrl },
  });
  const sluice = await startRouterProcess({
    port: await freePort(),
    vars: {
      BACKENDS: JSON.stringify([{ name: 'sim', url: backendUrl, maxConcurrency: BACKEND_SLOTS }]),
      AUTH: 'off',
    },
  });
  return { passthrough, sluice };
}

function row(runtime: string, path: string, r: LoadResult, direct: LoadResult): string {
  const added = r.p50Ms - direct.p50Ms;
  return `| ${runtime} | ${path} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p95Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${path === 'direct' ? '—' : added.toFixed(2)} | ${r.errors} |`;
}

export async function runRouterBench(): Promise<string> {
  const sim = await startSimServer({ name: 'sim', port: 0, maxNumSeqs: BACKEND_SLOTS, ttftMs: 0, itlMs: 0 });
  const lines = [
    `Router benchmark: ${REQUESTS} requests (after ${WARMUP_REQUESTS} warm-up) at concurrency ${CONCURRENCY},`,
    'non-streaming chat completions with max_tokens 1 against a zero-delay simulated backend.',
    '',
    '| runtime | path | req/s | p50 ms | p95 ms | p99 ms | added p50 ms vs direct | errors |',
    '|---|---|---|---|---|---|---|---|',
  ];
  try {
    const direct = await measure(sim.url);
    for (const [runtime, start] of [
      ['Miniflare (API)', underMiniflare],
      ['wrangler dev', underWranglerDev],
    ] as const) {
      const { passthrough, sluice } = await start(sim.url);
      try {
        const pass = await measure(passthrough.url);
        const through = await measure(sluice.url);
        lines.push(row(runtime, 'direct', direct, direct));
        lines.push(row(runtime, 'pass-through Worker', pass, direct));
        lines.push(row(runtime, 'Sluice', through, direct));
      } finally {
        await passthrough.close();
        await sluice.close();
      }
    }
  } finally {
    await sim.close();
  }
  return lines.join('\n');
}
