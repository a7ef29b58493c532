// What an API key lookup adds to a request: Sluice under Miniflare's API against a zero-delay simulated
// backend, three ways in one run: AUTH=off (no lookup), AUTH=on with the key cache (a hit after the first
// request of each isolate), and AUTH=on with the cache off (a SHA-256 and a KV read on every request).
// Miniflare's KV is local, so the miss row is a floor: deployed, a KV read at the edge costs more.

import { join } from 'node:path';
import { startSimServer } from '../sim/server.ts';
import { SLUICE_DURABLE_OBJECTS, startMiniflareWorker } from '../scripts/miniflare-router.ts';
import { REPO_ROOT } from '../scripts/router-process.ts';
import { runLoad, type LoadResult } from './load.ts';

// One request at a time: the question is latency added per request, which queueing at 16 would drown.
const CONCURRENCY = Number(process.env['BENCH_AUTH_CONCURRENCY'] ?? 1);
const REQUESTS = Number(process.env['BENCH_AUTH_REQUESTS'] ?? 1000);
const WARMUP_REQUESTS = 200;
const BACKEND_SLOTS = 256;
const ADMIN_TOKEN = 'bench-admin';
const BODY = JSON.stringify({
  model: 'sim-model',
  messages: [{ role: 'user', content: 'bench' }],
  max_tokens: 1,
});

async function startSluice(backendUrl: string, vars: Record<string, string>) {
  return startMiniflareWorker({
    configPath: join(REPO_ROOT, 'wrangler.toml'),
    bindings: {
      BACKENDS: JSON.stringify([{ name: 'sim', url: backendUrl, maxConcurrency: BACKEND_SLOTS }]),
      ADMIN_TOKEN,
      ...vars,
    },
    durableObjects: SLUICE_DURABLE_OBJECTS,
    kvNamespaces: ['KEYS'],
  });
}

async function createKey(url: string): Promise<string> {
  const res = await fetch(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ workload: 'bench', maxCriticality: 3 }),
  });
  if (res.status !== 201) throw new Error(`creating the bench key failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { secret: string }).secret;
}

async function measure(url: string, headers: Record<string, string>): Promise<LoadResult> {
  const target = `${url}/v1/chat/completions`;
  await runLoad({ url: target, concurrency: CONCURRENCY, requests: WARMUP_REQUESTS, body: BODY, headers });
  return runLoad({ url: target, concurrency: CONCURRENCY, requests: REQUESTS, body: BODY, headers });
}

export async function runAuthBench(): Promise<string> {
  const sim = await startSimServer({ name: 'sim', port: 0, maxNumSeqs: BACKEND_SLOTS, ttftMs: 0, itlMs: 0 });
  const lines = [
    `Key lookup benchmark (Miniflare API): ${REQUESTS} requests (after ${WARMUP_REQUESTS} warm-up) at concurrency ${CONCURRENCY}.`,
    '',
    '| path | req/s | p50 ms | p95 ms | p99 ms | added p50 ms vs AUTH=off | errors |',
    '|---|---|---|---|---|---|---|',
  ];
  const context = { 'x-workload-context': JSON.stringify({ workload_id: 'bench', criticality: 3 }) };
  try {
    const rows: Array<[string, Record<string, string>, (url: string) => Promise<Record<string, string>>]> = [
      ['AUTH=off (no key)', { AUTH: 'off' }, async () => context],
      [
        'AUTH=on, key cache hit',
        { AUTH: 'on' },
        async (url) => ({ authorization: `Bearer ${await createKey(url)}` }),
      ],
      [
        'AUTH=on, cache off (SHA-256 + KV read each request)',
        { AUTH: 'on', AUTH_CACHE_TTL_MS: '0' },
        async (url) => ({ authorization: `Bearer ${await createKey(url)}` }),
      ],
    ];
    let baseline: LoadResult | null = null;
    for (const [label, vars, headersFor] of rows) {
      const sluice = await startSluice(sim.url, vars);
      try {
        const r = await measure(sluice.url, await headersFor(sluice.url));
        baseline ??= r;
        const added = label.startsWith('AUTH=off') ? '—' : (r.p50Ms - baseline.p50Ms).toFixed(2);
        lines.push(
          `| ${label} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p95Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${added} | ${r.errors} |`,
        );
      } finally {
        await sluice.close();
      }
    }
  } finally {
    await sim.close();
  }
  return lines.join('\n');
}
