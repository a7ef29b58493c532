// What an API key lookup adds to a request: Sluice under Miniflare's API against a zero-delay simulated
// backend, three ways in one run: AUTH=off (no lookup), AUTH=on with the key cache (a hit after the first
// request of each isolate), and AUTH=on with the cache off (a SHA-256 and a KV read on every request),
// interleaved in rounds so that other load on the machine does not favour one of them.
// Miniflare's KV is local, so the miss row is a floor: deployed, a KV read at the edge costs more.

import { startSimServer } from '../sim/server.ts';
import { startMiniflareSluice } from '../scripts/miniflare-router.ts';
import { percentile, runLoad, type LoadResult } from './load.ts';

// One request at a time: the question is latency added per request, which queueing at 16 would drown.
const CONCURRENCY = Number(process.env['BENCH_AUTH_CONCURRENCY'] ?? 1);
const REQUESTS = Number(process.env['BENCH_AUTH_REQUESTS'] ?? 1000);
const WARMUP_REQUESTS = 200;
const ROUNDS = 5;
const BACKEND_SLOTS = 256;
const ADMIN_TOKEN = 'bench-admin';
const BODY = JSON.stringify({
  model: 'sim-model',
  messages: [{ role: 'user', content: 'bench' }],
  max_tokens: 1,
});

async function startSluice(backendUrl: string, vars: Record<string, string>) {
  return startMiniflareSluice(backendUrl, { slots: BACKEND_SLOTS, vars: { ADMIN_TOKEN, ...vars } });
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

/** Median over the rounds (ROUNDS is odd, so the middle one). */
function median(xs: readonly number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

export async function runAuthBench(): Promise<string> {
  const sim = await startSimServer({ name: 'sim', port: 0, maxNumSeqs: BACKEND_SLOTS, ttftMs: 0, itlMs: 0 });
  const perRound = Math.max(1, Math.round(REQUESTS / ROUNDS));
  const lines = [
    `Key lookup benchmark (Miniflare API), concurrency ${CONCURRENCY}: the three routers run side by side and are`,
    `measured in ${ROUNDS} interleaved rounds of ${perRound} requests (after ${WARMUP_REQUESTS} warm-up each), so load`,
    'from elsewhere on the machine hits all three alike; figures are medians over the rounds.',
    '',
    '| path | req/s | p50 ms | p95 ms | p99 ms | added p50 ms vs AUTH=off | errors |',
    '|---|---|---|---|---|---|---|',
  ];
  const context = { 'x-workload-context': JSON.stringify({ workload_id: 'bench', criticality: 3 }) };
  const configs: Array<{ label: string; vars: Record<string, string>; key: boolean }> = [
    { label: 'AUTH=off (no key)', vars: { AUTH: 'off' }, key: false },
    { label: 'AUTH=on, key cache hit', vars: { AUTH: 'on' }, key: true },
    {
      label: 'AUTH=on, cache off (SHA-256 + KV read each request)',
      vars: { AUTH: 'on', AUTH_CACHE_TTL_MS: '0' },
      key: true,
    },
  ];
  const started: Array<{
    label: string;
    url: string;
    headers: Record<string, string>;
    close(): Promise<void>;
  }> = [];
  try {
    for (const c of configs) {
      const sluice = await startSluice(sim.url, c.vars);
      started.push({
        label: c.label,
        url: sluice.url,
        headers: c.key ? { authorization: `Bearer ${await createKey(sluice.url)}` } : context,
        close: () => sluice.close(),
      });
    }
    const target = (url: string) => `${url}/v1/chat/completions`;
    for (const s of started) {
      await runLoad({
        url: target(s.url),
        concurrency: CONCURRENCY,
        requests: WARMUP_REQUESTS,
        body: BODY,
        headers: s.headers,
      });
    }
    const rounds = started.map(() => [] as LoadResult[]);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, s] of started.entries()) {
        rounds[i]?.push(
          await runLoad({
            url: target(s.url),
            concurrency: CONCURRENCY,
            requests: perRound,
            body: BODY,
            headers: s.headers,
          }),
        );
      }
    }
    const baseline = median((rounds[0] ?? []).map((x) => x.p50Ms));
    for (const [i, s] of started.entries()) {
      const rs = rounds[i] ?? [];
      const p50 = median(rs.map((x) => x.p50Ms));
      const added = i === 0 ? '—' : (p50 - baseline).toFixed(2);
      lines.push(
        `| ${s.label} | ${median(rs.map((x) => x.rps)).toFixed(0)} | ${p50.toFixed(2)} | ${median(rs.map((x) => x.p95Ms)).toFixed(2)} | ${median(rs.map((x) => x.p99Ms)).toFixed(2)} | ${added} | ${rs.reduce((n, x) => n + x.errors, 0)} |`,
      );
    }
  } finally {
    await Promise.all(started.map((s) => s.close()));
    await sim.close();
  }
  return lines.join('\n');
}
