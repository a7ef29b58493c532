// Regression: 429 with free slots. A burst into an idle pool arrives before the grants for its first
// requests come back, so the queue looks full while slots are free. Only requests really waiting may
// count against MAX_QUEUE_PER_WORKLOAD (3 in this project; alpha 2 + beta 1 = 3 slots, vitest.config.ts).

import { afterEach, describe, expect, it } from 'vitest';
import { backends, chat, heldCount, releaseHeld, until, workload } from './support/client.ts';

const TOTAL_SLOTS = 3;
const MAX_QUEUE = 3;

describe('a burst into an idle pool', () => {
  afterEach(async () => {
    await releaseHeld();
  });

  it('admits slots + queue limit requests at once (no 429), and rejects only the one after', async () => {
    const id = 'burst-idle';
    expect((await backends()).every((b) => b.inFlight === 0)).toBe(true);

    const burst = TOTAL_SLOTS + MAX_QUEUE;
    const statuses: Array<number | undefined> = new Array<number | undefined>(burst).fill(undefined);
    let finished = 0;
    const calls = Array.from({ length: burst }, (_, i) =>
      chat({ model: 'hold' }, { workload_id: id }).then(async (res) => {
        statuses[i] = res.status;
        await res.arrayBuffer();
        finished++;
      }),
    );

    // Three hold a slot at the backend, three wait in the queue, nobody was turned away.
    await until(heldCount, (n) => n === TOTAL_SLOTS);
    const w = await until(
      () => workload(id),
      (x) => x['totalRequests'] === burst && x['queuedRequests'] === MAX_QUEUE,
    );
    expect(w).toMatchObject({
      inFlightRequests: TOTAL_SLOTS,
      queuedRequests: MAX_QUEUE,
      activeRequests: burst,
    });
    expect(w['outcomes']).toMatchObject({ rejected: 0 });
    expect(statuses.filter((s) => s !== undefined)).toEqual([]);

    // The queue is really full now: the next request is refused.
    const seventh = await chat({ model: 'hold' }, { workload_id: id });
    expect(seventh.status).toBe(429);
    const body = (await seventh.json()) as { error: { code: string } };
    expect(body.error.code).toBe('queue_full');

    // Release the running three, then the three that were waiting behind them.
    await until(
      async () => {
        await releaseHeld();
        return finished;
      },
      (n) => n === burst,
    );
    await Promise.all(calls);
    expect(statuses).toEqual(new Array<number>(burst).fill(200));
    const after = await until(
      () => workload(id),
      (x) => x.activeRequests === 0,
    );
    expect(after['outcomes']).toMatchObject({ success: burst, rejected: 1 });
    expect(after['reasons']).toMatchObject({ completed: burst, queue_full: 1 });
    await until(backends, (bs) => bs.every((b) => b.inFlight === 0));
  });
});
