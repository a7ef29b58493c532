// TTL eviction in the Workers runtime. This project runs with QUEUE_TTL_MS=300 (vitest.config.ts), so a
// request queued behind held slots is evicted by the WorkloadDO's alarm and answered 503 + Retry-After.

import { describe, expect, it } from 'vitest';
import { backends, chat, heldCount, releaseHeld, until, workload } from '../worker/support/client.ts';

describe('queue TTL', () => {
  it('evicts a request that waited past QUEUE_TTL_MS with 503 and Retry-After, counted as evicted/ttl_expired', async () => {
    const holders = Array.from({ length: 3 }, () => chat({ model: 'hold' }, { workload_id: 'ttl-holder' }));
    await until(heldCount, (n) => n === 3);

    const res = await chat({ model: 'ok' }, { workload_id: 'ttl-victim', criticality: 5 });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('queue_timeout');
    expect(body.error.message).toContain('300 ms');

    const victim = await until(
      () => workload('ttl-victim'),
      (w) => w.activeRequests === 0,
    );
    expect(victim).toMatchObject({ totalRequests: 1, dispatchedCount: 0, completedCount: 1 });
    expect(victim['outcomes']).toMatchObject({ evicted: 1 });
    expect(victim['reasons']).toMatchObject({ ttl_expired: 1 });

    await releaseHeld();
    for (const h of holders) expect((await h).status).toBe(200);
    await until(
      () => workload('ttl-holder'),
      (w) => w.activeRequests === 0,
    );
    await until(backends, (bs) => bs.every((b) => b.inFlight === 0));
  });
});
