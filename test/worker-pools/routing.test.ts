// Two pools serving two models (this project's BACKENDS, vitest.config.ts): alpha serves llama-70b in
// pool "big", beta serves qwen-7b in pool "small". Every request lands on a backend of its model's pool,
// an unknown model is refused before anything is counted, and admin shows each pool and queue.

import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { coordinatorStub } from '../../src/worker/stubs.ts';
import type { AdminBackendList } from '../../src/worker/routes/admin.ts';
import { call, chat, until, workload } from '../worker/support/client.ts';

describe('model pools', () => {
  it('sends every request to a backend of its model’s pool', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const model = i % 2 === 0 ? 'llama-70b' : 'qwen-7b';
        const res = await chat({ model }, { workload_id: 'pools-route' });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        return [model, res.headers.get('x-sluice-backend'), res.headers.get('x-sluice-pool')] as const;
      }),
    );
    for (const [model, backend, pool] of results) {
      expect([backend, pool]).toEqual(model === 'llama-70b' ? ['alpha', 'big'] : ['beta', 'small']);
    }
  });

  it('answers 404 model_not_found for a model no pool serves, before it is queued or counted', async () => {
    const res = await chat({ model: 'gpt-9' }, { workload_id: 'pools-unknown' });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; type: string; message: string } };
    expect(body.error).toMatchObject({ code: 'model_not_found', type: 'invalid_request_error' });
    expect(body.error.message).toContain('gpt-9');
    expect((await call('/admin/workloads/pools-unknown')).status).toBe(404);
  });

  it('lists the configured models at /v1/models', async () => {
    const res = await call('/v1/models');
    const body = (await res.json()) as { data: Array<{ id: string; pool: string }> };
    expect(body.data.map((m) => [m.id, m.pool])).toEqual([
      ['echo-headers', 'big'],
      ['llama-70b', 'big'],
      ['echo-headers-small', 'small'],
      ['qwen-7b', 'small'],
    ]);
  });

  it('never forwards the client’s credentials: a backend gets its own configured key', async () => {
    const res = await chat(
      { model: 'echo-headers' },
      { workload_id: 'pools-headers' },
      { authorization: 'Bearer client-secret', cookie: 'session=abc', 'x-request-id': 'hdr-1' },
    );
    expect(res.status).toBe(200);
    const { headers } = (await res.json()) as { headers: Record<string, string> };
    expect(headers['authorization']).toBe('Bearer backend-key');
    expect(JSON.stringify(headers)).not.toContain('client-secret');
    expect(headers['cookie']).toBeUndefined();
    expect(headers['x-workload-context']).toBeUndefined();
    expect(headers['x-request-id']).toBe('hdr-1');
    // A backend without a key of its own gets no Authorization at all.
    const bare = await chat(
      { model: 'echo-headers-small' },
      { workload_id: 'pools-headers' },
      { authorization: 'Bearer client-secret' },
    );
    const seen = ((await bare.json()) as { headers: Record<string, string> }).headers;
    expect(seen['authorization']).toBeUndefined();
  });

  it('runs one coordinator per pool, each holding only its pool’s backends', async () => {
    expect((await coordinatorStub(env, 'big').backends()).map((b) => b.name)).toEqual(['alpha']);
    expect((await coordinatorStub(env, 'small').backends()).map((b) => b.name)).toEqual(['beta']);
    const listed = (await (await call('/admin/backends')).json()) as AdminBackendList;
    expect(listed.data.map((b) => [b.pool, b.name])).toEqual([
      ['big', 'alpha'],
      ['small', 'beta'],
    ]);
  });

  it('keeps one registry entry per workload and one queue per pool it uses', async () => {
    for (const model of ['llama-70b', 'qwen-7b']) {
      await (await chat({ model }, { workload_id: 'pools-tenant' })).arrayBuffer();
    }
    const w = await until(
      () => workload('pools-tenant'),
      (x) => x.completedCount === 2,
    );
    expect(w.totalRequests).toBe(2);
    expect(w.queues.map((q) => q.pool)).toEqual(['big', 'small']);
  });
});
