// GET /metrics and the dashboard's routes in the Workers runtime: after a known load (N requests, M
// aborted while queued, K rejected), the Prometheus counters, read back with a real parser, equal what
// the admin API shows; the per-workload gauges follow the queue; the guard is the admin one.

import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/worker/app.ts';
import type { Env } from '../../src/worker/env.ts';
import { OUTCOMES, REASONS } from '../../src/core/index.ts';
import { parseExposition, type Exposition } from '../conformance/prometheus-parse.ts';
import { call, chat, heldCount, releaseHeld, until, workload } from './support/client.ts';

const TOTAL_SLOTS = 3;
const MAX_QUEUE = 3;

async function scrape(): Promise<Exposition> {
  const res = await call('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return parseExposition(await res.text());
}

const ctx = {
  waitUntil: () => undefined,
  passThroughOnException: () => undefined,
  props: {},
} as unknown as ExecutionContext;

describe('/metrics', () => {
  afterEach(async () => {
    await releaseHeld();
  });

  it('after N requests, M aborted and K rejected, equals the admin API', async () => {
    const id = 'metrics-known-load';
    const sel = { pool: 'default', workload: id };
    const holders = Array.from({ length: TOTAL_SLOTS }, () =>
      chat({ model: 'hold' }, { workload_id: id, criticality: 4 }),
    );
    await until(heldCount, (n) => n === TOTAL_SLOTS);
    const aborts = Array.from({ length: MAX_QUEUE }, () => new AbortController());
    const queued = aborts.map((a) =>
      chat({ model: 'ok' }, { workload_id: id, criticality: 4 }, {}, a.signal).catch((e: unknown) => e),
    );
    await until(
      () => workload(id),
      (w) => w.queuedRequests === MAX_QUEUE,
    );
    const K = 2;
    for (let i = 0; i < K; i++) {
      const res = await chat({ model: 'ok' }, { workload_id: id, criticality: 4 });
      expect(res.status).toBe(429);
      await res.arrayBuffer();
    }
    // The gauges follow: three running, three waiting.
    const live = await until(scrape, (m) => m.value('sluice_workload_queued_requests', sel) === MAX_QUEUE);
    expect(live.value('sluice_workload_in_flight_requests', sel)).toBe(TOTAL_SLOTS);

    const M = 1;
    aborts[0]?.abort();
    await until(
      () => workload(id),
      (w) => w.queuedRequests === MAX_QUEUE - M,
    );
    await releaseHeld();
    await Promise.all(holders.map(async (p) => (await p).arrayBuffer()));
    await Promise.all(queued);
    const admin = await until(
      () => workload(id),
      (w) => w.activeRequests === 0,
    );
    expect(admin.totalRequests).toBe(TOTAL_SLOTS + MAX_QUEUE + K);
    expect(admin.outcomes).toMatchObject({ success: TOTAL_SLOTS + MAX_QUEUE - M, cancelled: M, rejected: K });

    const m = await until(scrape, (x) => x.sum('sluice_requests_total', sel) === admin.completedCount);
    expect(m.value('sluice_requests_received_total', sel)).toBe(admin.totalRequests);
    for (const outcome of OUTCOMES) {
      expect(m.sum('sluice_requests_total', { ...sel, outcome }), outcome).toBe(admin.outcomes[outcome]);
    }
    for (const reason of REASONS) {
      expect(m.sum('sluice_requests_total', { ...sel, reason }), reason).toBe(admin.reasons[reason]);
    }
    expect(m.value('sluice_tokens_total', { ...sel, type: 'prompt' })).toBe(admin.promptTokens);
    expect(m.value('sluice_tokens_total', { ...sel, type: 'completion' })).toBe(admin.completionTokens);
    expect(admin.completionTokens).toBeGreaterThan(0);
    expect(m.value('sluice_workload_queued_requests', sel)).toBe(0);
    expect(m.value('sluice_workload_in_flight_requests', sel)).toBe(0);
    // Every dispatch of criticality 4 waited in this pool's histogram (other tests' loads add to it).
    const wait = m.histograms('sluice_queue_wait_seconds').find((h) => h.labels['criticality'] === '4');
    expect(wait?.count).toBeGreaterThanOrEqual(admin.dispatchedCount);
    expect(m.value('sluice_backend_slots', { pool: 'default', backend: 'alpha' })).toBe(2);
    expect(m.value('sluice_backend_healthy', { pool: 'default', backend: 'beta' })).toBe(1);
  });

  it('is guarded like /admin, and the dashboard shell loads without the token while its data does not', async () => {
    const guarded = { ...env, ADMIN_TOKEN: 's3cret' } as Env;
    const app = createApp();
    const get = (path: string, headers: Record<string, string> = {}) =>
      app.fetch(new Request(`http://sluice.test${path}`, { headers }), guarded, ctx);
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await get('/dashboard/data')).status).toBe(401);
    expect((await get('/dashboard/data', { authorization: 'Bearer s3cret' })).status).toBe(200);
    const shell = await get('/dashboard');
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-type')).toContain('text/html');
    const html = await shell.text();
    expect(html).toContain('/dashboard/uplot.js');
    expect(html).not.toContain('s3cret');
    const uplot = await get('/dashboard/uplot.js');
    expect(uplot.status).toBe(200);
    expect(await uplot.text()).toContain('uPlot');
  });

  it('pages the dashboard at most 100 workloads a time by default, whatever METRICS_TOP_WORKLOADS says', async () => {
    const wide = { ...env, METRICS_TOP_WORKLOADS: '300' } as Env;
    const res = await createApp().fetch(new Request('http://sluice.test/dashboard/data'), wide, ctx);
    expect(res.status).toBe(200);
  });

  it('rejects a bad dashboard page request with an OpenAI-shaped 400', async () => {
    const res = await call('/dashboard/data?limit=100000');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });
});

describe('auth failures', () => {
  it('counts every refused key into sluice_auth_failures_total, by reason, for the whole deployment', async () => {
    const unknownKey = `sk-sluice-${'A'.repeat(43)}`;
    const count = async (reason: string) =>
      (await scrape()).value('sluice_auth_failures_total', { reason }) ?? 0;
    const before = await count('unknown');
    for (let i = 0; i < 3; i++) {
      // Under AUTH=off a presented Sluice key is still held to what it is: an unknown one is refused.
      const res = await chat(
        { model: 'ok' },
        { workload_id: 'metrics-auth' },
        { authorization: `Bearer ${unknownKey}` },
      );
      expect(res.status).toBe(401);
      await res.arrayBuffer();
    }
    // Counted off the response path (batched per isolate), so the scrape may need a moment to see it.
    await until(
      () => count('unknown'),
      (n) => n === before + 3,
    );
  });
});

describe('/metrics under an invalid configuration', () => {
  it('still answers, with sluice_config_valid 0 and the error counted, guarded by a string ADMIN_TOKEN', async () => {
    const app = createApp();
    const bad = { ...env, POLICY: 'round-robin', ADMIN_TOKEN: 's3cret' } as Env;
    const get = (path: string, headers: Record<string, string> = {}) =>
      app.fetch(new Request(`http://sluice.test${path}`, { headers }), bad, ctx);
    expect((await get('/metrics')).status).toBe(401);
    const res = await get('/metrics', { authorization: 'Bearer s3cret' });
    expect(res.status).toBe(200);
    const m = parseExposition(await res.text());
    expect(m.value('sluice_config_valid')).toBe(0);
    expect(m.value('sluice_config_errors_total')).toBeGreaterThanOrEqual(1);
    // Everything else still fails loudly.
    expect((await get('/dashboard/data', { authorization: 'Bearer s3cret' })).status).toBe(500);
    // A token that is itself invalid never opens it.
    const badToken = { ...env, POLICY: 'round-robin', ADMIN_TOKEN: 12345 } as unknown as Env;
    const closed = await app.fetch(new Request('http://sluice.test/metrics'), badToken, ctx);
    expect(closed.status).toBe(500);
    // Without a token it is open only under an explicit AUTH=off, as the guard would have it.
    for (const [auth, status] of [
      ['on', 403],
      [undefined, 403],
      ['maybe', 403],
      ['off', 200],
      // Read as the config reads it.
      [' OFF ', 200],
    ] as const) {
      const noToken = { ...env, POLICY: 'round-robin', AUTH: auth } as unknown as Env;
      const res = await app.fetch(new Request('http://sluice.test/metrics'), noToken, ctx);
      expect(res.status, `AUTH=${String(auth)}`).toBe(status);
      await res.arrayBuffer();
    }
  });
});
