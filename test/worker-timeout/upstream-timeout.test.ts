// A backend that accepts a request but never answers. This project runs with
// UPSTREAM_HEADERS_TIMEOUT_MS=300 (vitest.config.ts): the client gets 504 and the slot comes back.

import { describe, expect, it } from 'vitest';
import { backends, chat, releaseHeld, until, workload } from '../worker/support/client.ts';

describe('upstream headers timeout', () => {
  it('answers 504 upstream_timeout, records upstream_error and frees the slot', async () => {
    const res = await chat({ model: 'hold' }, { workload_id: 'timeout-victim' });
    expect(res.status).toBe(504);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('upstream_timeout');
    expect(body.error.message).toContain('300 ms');
    const w = await until(
      () => workload('timeout-victim'),
      (x) => x.activeRequests === 0,
    );
    expect(w['outcomes']).toMatchObject({ upstream_error: 1 });
    await until(backends, (bs) => bs.every((b) => b.inFlight === 0));
    // A slow backend is not a dead one: no cooldown.
    expect((await backends()).every((b) => (b as { healthy?: boolean }).healthy !== false)).toBe(true);
    await releaseHeld();
  });
});
