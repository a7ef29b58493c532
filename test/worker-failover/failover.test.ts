// Failover before the first byte (this project's BACKENDS, vitest.config.ts): pool "dead" pairs a
// dead server (a 502 from the gateway in front of it) with a live one; pool "busy" pairs one that answers 503 with a live
// one. Requests that hit the failing server go to the live one, keep their place, and count once.

import { describe, expect, it } from 'vitest';
import { backends, chat, until, workload } from '../worker/support/client.ts';

async function burst(model: string, workloadId: string, n: number): Promise<Response[]> {
  return Promise.all(Array.from({ length: n }, () => chat({ model }, { workload_id: workloadId })));
}

describe('failover before the first byte', () => {
  it('sends requests that found a dead server to the live one: no client error, exact accounting', async () => {
    const responses = await burst('m-dead', 'failover-dead', 8);
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.headers.get('x-sluice-backend')).toBe('live-a');
      await res.arrayBuffer();
    }
    const attempts = responses.map((r) => Number(r.headers.get('x-sluice-attempts')));
    expect(attempts.some((a) => a === 2)).toBe(true);
    // Server-Timing shows the failed attempt as its own stage, between the admission and the answer.
    for (const res of responses) {
      const names = (res.headers.get('server-timing') ?? '').split(', ').map((s) => s.split(';')[0]);
      const expected =
        Number(res.headers.get('x-sluice-attempts')) === 2
          ? ['parse', 'admit', 'failover', 'upstream']
          : ['parse', 'admit', 'upstream'];
      expect(names).toEqual(expected);
    }
    const w = await until(
      () => workload('failover-dead'),
      (x) => x.completedCount === 8,
    );
    expect(w).toMatchObject({ totalRequests: 8, completedCount: 8, activeRequests: 0 });
    expect(w.outcomes.success).toBe(8);
    expect(w.retriedCount).toBe(attempts.filter((a) => a === 2).length);
    const dead = (await backends()).find((b) => b.name === 'dead');
    expect(dead?.consecutiveFailures).toBeGreaterThan(0);
    expect((await backends()).every((b) => b.inFlight === 0)).toBe(true);
  });

  it('fails over a 503 answer to the live server and never shows it to the client', async () => {
    const responses = await burst('m-busy', 'failover-busy', 6);
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.headers.get('x-sluice-backend')).toBe('live-b');
      await res.arrayBuffer();
    }
    const w = await until(
      () => workload('failover-busy'),
      (x) => x.completedCount === 6,
    );
    expect(w.outcomes.success).toBe(6);
    expect(w.totalRequests).toBe(6);
  });

  it('caps attempts: a pool of only failing servers answers its error once, then 503 pool_unavailable while it is down', async () => {
    const res = await chat({ model: 'm-hopeless' }, { workload_id: 'failover-hopeless' });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-sluice-attempts')).toBe('2');
    await res.arrayBuffer();
    const w = await until(
      () => workload('failover-hopeless'),
      (x) => x.completedCount === 1,
    );
    expect(w).toMatchObject({ totalRequests: 1, retriedCount: 1 });
    expect(w.reasons.upstream_5xx).toBe(1);

    // Both servers of the pool now cool down: the next request is told so at once, not queued for its TTL.
    const next = await chat({ model: 'm-hopeless' }, { workload_id: 'failover-hopeless' });
    expect(next.status).toBe(503);
    expect(Number(next.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await next.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: 'pool_unavailable', type: 'overloaded_error' });
    const after = await until(
      () => workload('failover-hopeless'),
      (x) => x.completedCount === 2,
    );
    expect(after.reasons.pool_down).toBe(1);
    expect(after.activeRequests).toBe(0);
  });
});
