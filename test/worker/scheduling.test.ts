// Queueing behaviour in the Workers runtime: queue-full, cancel on disconnect (queued and mid-stream),
// upstream unreachable, and the accounting invariant after a mixed batch. Backends: alpha (2 slots) and
// beta (1 slot); MAX_QUEUE_PER_WORKLOAD is 3 in this project (vitest.config.ts).

import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminWorkloadList } from '../../src/worker/routes/admin.ts';
import { coordinatorStub } from '../../src/worker/stubs.ts';
import { backends, call, chat, heldCount, releaseHeld, until, workload } from './support/client.ts';

const TOTAL_SLOTS = 3;

async function coordinatorStats() {
  return coordinatorStub(env, 'default').stats();
}

async function settled(ids: string[]): Promise<void> {
  for (const id of ids)
    await until(
      () => workload(id),
      (w) => w.activeRequests === 0,
    );
  await until(coordinatorStats, (s) => s.leases === 0);
  const slots = await backends();
  expect(slots.every((b) => b.inFlight === 0)).toBe(true);
}

describe('scheduling in the Workers runtime', () => {
  // A failed test must not leave requests held at the fake upstream for the next one.
  afterEach(async () => {
    await releaseHeld();
  });

  it('answers 429 with Retry-After once a workload queue is full, and recovers', async () => {
    const id = 'sched-full';
    const holders = Array.from({ length: TOTAL_SLOTS }, () => chat({ model: 'hold' }, { workload_id: id }));
    await until(heldCount, (n) => n === TOTAL_SLOTS);
    const queued = Array.from({ length: 3 }, () => chat({ model: 'ok' }, { workload_id: id }));
    // The head reaches the coordinator a moment after the registry counts it, so wait for both.
    const waiting = await until(
      () => workload(id),
      (w) => w['queuedRequests'] === 3 && typeof w['headScore'] === 'number',
    );
    // The admin API shows the waiting head and its current policy score (workload-aware: criticality 3
    // is worth 2 steps of 5 s, so the score is at least 10,000 minus the small rate penalty).
    expect(waiting['head']).toMatchObject({ criticality: 3 });
    expect(waiting['headScore']).toBeGreaterThan(9_000);
    const listed = (await (await call('/admin/workloads')).json()) as AdminWorkloadList;
    expect(listed.data.find((w) => w.workloadId === id)?.headScore).toBeGreaterThan(9_000);

    const rejected = await chat({ model: 'ok' }, { workload_id: id });
    expect(rejected.status).toBe(429);
    expect(Number(rejected.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await rejected.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: 'queue_full', type: 'rate_limit_error' });

    // Another workload is not affected by this one's full queue.
    const other = chat({ model: 'ok' }, { workload_id: 'sched-full-other' });
    await until(
      () => workload('sched-full-other'),
      (w) => w['queuedRequests'] === 1,
    );

    await releaseHeld();
    const statuses = await Promise.all([...holders, ...queued, other].map(async (p) => (await p).status));
    expect(statuses.every((s) => s === 200)).toBe(true);
    await settled([id, 'sched-full-other']);
    const w = await workload(id);
    expect(w).toMatchObject({ totalRequests: 7, completedCount: 7, dispatchedCount: 6 });
    expect(w['outcomes']).toMatchObject({ success: 6, rejected: 1 });
    expect(w['reasons']).toMatchObject({ completed: 6, queue_full: 1 });
  });

  it('removes a queued request from the queue when its client disconnects', async () => {
    const id = 'sched-cancel';
    const holders = Array.from({ length: TOTAL_SLOTS }, () =>
      chat({ model: 'hold' }, { workload_id: `${id}-h` }),
    );
    await until(heldCount, (n) => n === TOTAL_SLOTS);
    const abort = new AbortController();
    const queued = chat({ model: 'ok' }, { workload_id: id }, {}, abort.signal).catch((e: unknown) => e);
    await until(
      () => workload(id),
      (w) => w['queuedRequests'] === 1,
    );
    abort.abort();
    await queued;
    const w = await until(
      () => workload(id),
      (x) => x.activeRequests === 0,
    );
    expect(w['outcomes']).toMatchObject({ cancelled: 1, success: 0 });
    expect(w['dispatchedCount']).toBe(0);
    await releaseHeld();
    await Promise.all(holders);
    await settled([id, `${id}-h`]);
  });

  it('completes a stream as cancelled when the client goes away mid-stream, freeing the slot', async () => {
    const id = 'sched-midstream';
    const res = await chat({ model: 'drip', stream: true }, { workload_id: id });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('first');
    await reader.cancel();
    const w = await until(
      () => workload(id),
      (x) => x.activeRequests === 0,
    );
    expect(w['outcomes']).toMatchObject({ cancelled: 1 });
    await releaseHeld();
    await settled([id]);
  });

  it('leaves every workload at activeRequests 0 and no lease after a mixed batch', async () => {
    const ids = ['mix-a', 'mix-b', 'mix-c'];
    const aborts: AbortController[] = [];
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 24; i++) {
      const id = ids[i % 3]!;
      const kind = i % 4;
      if (kind === 0) calls.push(chat({ model: 'ok' }, { workload_id: id, criticality: (i % 5) + 1 }));
      if (kind === 1) calls.push(chat({ model: 'error' }, { workload_id: id }));
      if (kind === 2)
        calls.push(chat({ model: 'ok', stream: true }, { workload_id: id }).then((r) => r.text()));
      if (kind === 3) {
        const abort = new AbortController();
        aborts.push(abort);
        calls.push(chat({ model: 'ok' }, { workload_id: id }, {}, abort.signal).catch((e: unknown) => e));
      }
    }
    for (const a of aborts) a.abort();
    await Promise.all(calls);
    await settled(ids);
    let total = 0;
    for (const id of ids) {
      const w = await workload(id);
      const outcomes = w['outcomes'] as Record<string, number>;
      const sum = Object.values(outcomes).reduce((a, b) => a + b, 0);
      expect(sum).toBe(w['totalRequests']);
      expect(w['completedCount']).toBe(w['totalRequests']);
      total += w['totalRequests'] as number;
    }
    // Requests aborted before the Worker read them never reach a workload; every other one is counted.
    expect(total).toBeGreaterThanOrEqual(18);
    expect(total).toBeLessThanOrEqual(24);
  });
});
