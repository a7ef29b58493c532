// Regression: backends that stalled mid-stream kept the pool at 6/6 in flight for the whole stall, and the
// queued clients starved. Through the router, with UPSTREAM_IDLE_TIMEOUT_MS=300 (vitest.config.ts): the
// stalled request is ended, counted as the backend's fault, and its slot goes to the next in line while
// the fake backend is still holding the stream open.

import { afterEach, describe, expect, it } from 'vitest';
import { backends, chat, heldCount, releaseHeld, until, workload } from '../worker/support/client.ts';

/** alpha 2 + beta 1, and UPSTREAM_IDLE_TIMEOUT_MS (vitest.config.ts). */
const TOTAL_SLOTS = 3;
const IDLE_MS = 300;

const inFlight = async (): Promise<number> => (await backends()).reduce((n, b) => n + b.inFlight, 0);

describe('upstream idle timeout, through the router', () => {
  afterEach(async () => {
    await releaseHeld();
  });

  it('tells the client in-band, records upstream_error/idle_timeout and frees the slot', async () => {
    const id = 'idle-victim';
    const res = await chat({ model: 'drip', stream: true }, { workload_id: id });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('first');
    let tail = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      tail += new TextDecoder().decode(r.value);
    expect(tail).not.toContain('[DONE]');
    expect(tail.startsWith('data: ')).toBe(true);
    const event = JSON.parse(tail.slice('data: '.length)) as { error: Record<string, string> };
    expect(event.error).toMatchObject({ type: 'upstream_error', code: 'upstream_idle_timeout' });
    expect(event.error['message']).toContain(`${IDLE_MS} ms`);

    const w = await until(
      () => workload(id),
      (x) => x.activeRequests === 0,
    );
    expect(w['outcomes']).toMatchObject({ upstream_error: 1, success: 0 });
    expect(w['reasons']).toMatchObject({ idle_timeout: 1 });
    await until(inFlight, (n) => n === 0);
    // Freed by the router, not by the backend: the fake is still holding the stream.
    expect(await heldCount()).toBe(1);
    // A stalled backend is not a dead one: no cooldown.
    expect((await backends()).every((b) => (b as { healthy?: boolean }).healthy !== false)).toBe(true);
  });

  it('cuts off a stalled non-SSE body (no in-band channel) and counts it the same way', async () => {
    const id = 'idle-json';
    const res = await chat({ model: 'stall-json' }, { workload_id: id });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    const w = await until(
      () => workload(id),
      (x) => x.activeRequests === 0,
    );
    expect(w['reasons']).toMatchObject({ idle_timeout: 1 });
    await until(inFlight, (n) => n === 0);
    expect(await heldCount()).toBe(1);
  });

  it('gives a request queued behind stalled streams their slot while the backends still hold them', async () => {
    const stalled = await Promise.all(
      Array.from({ length: TOTAL_SLOTS }, () =>
        chat({ model: 'drip', stream: true }, { workload_id: 'idle-hog' }),
      ),
    );
    expect(stalled.map((r) => r.status)).toEqual(Array<number>(TOTAL_SLOTS).fill(200));
    // Their clients keep reading (a client that stops reading stalls the relay's write, not the backend).
    const bodies = Promise.all(stalled.map((r) => r.text()));

    const res = await chat({ model: 'ok' }, { workload_id: 'idle-waiter' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ choices: [{ message: { content: 'hello world' } }] });
    // It had to wait for a slot, and got one although no stalled stream was ever released.
    // It waited for the stalled streams to be cut (about IDLE_MS), not just for an admission round trip.
    expect(Number(res.headers.get('x-sluice-queue-ms'))).toBeGreaterThanOrEqual(IDLE_MS / 3);
    expect(await heldCount()).toBe(TOTAL_SLOTS);

    for (const body of await bodies) {
      expect(body).toContain('upstream_idle_timeout');
      expect(body).not.toContain('[DONE]');
    }
    const hog = await until(
      () => workload('idle-hog'),
      (x) => x.activeRequests === 0,
    );
    expect(hog['reasons']).toMatchObject({ idle_timeout: TOTAL_SLOTS });
    await until(inFlight, (n) => n === 0);
  });
});
