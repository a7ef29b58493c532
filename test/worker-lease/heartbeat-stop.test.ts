// Regression: the Worker's lease heartbeat stops when a request ends successfully (the interval used to
// be cleared only on error paths, so every successful request went on calling its workload forever).
// This project runs with LEASE_TTL_MS=1200 (vitest.config.ts): a heartbeat every 300 ms. The heartbeats
// are counted where they land, on the WorkloadDO instance (the tests share its isolate).

import { env, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { leaseRenewIntervalMs } from '../../src/core/index.ts';
import { workloadStub } from '../../src/worker/stubs.ts';
import type { WorkloadDO } from '../../src/worker/workload-do.ts';
import { chat, heldCount, releaseHeld, until, workload } from '../worker/support/client.ts';

const LEASE_TTL_MS = 1200;
const RENEW_EVERY_MS = leaseRenewIntervalMs(LEASE_TTL_MS);
/** How long the workload holds its reply to complete(): four heartbeat intervals. */
const COMPLETE_REPLY_DELAY_MS = 4 * RENEW_EVERY_MS;

interface Observed {
  /** When each renew() arrived. */
  readonly renewedAt: number[];
  /** When complete() arrived (it is recorded at once; only its reply is held back). */
  completedAt: number | null;
}

/**
 * Watches the WorkloadDO of `workloadId`: counts renew() calls and holds back complete()'s reply.
 *
 * workerd drops a request's timers once its context ends (response sent, waitUntil settled), so a
 * heartbeat left running is only visible while something keeps the context open. Here that is the
 * completion's own waitUntil, held for COMPLETE_REPLY_DELAY_MS, as a slow or retried completion call
 * holds it in production. RPC dispatches to prototype methods only, so the prototype's methods are
 * wrapped, acting on this one instance.
 */
async function observe(workloadId: string): Promise<{ readonly seen: Observed; restore(): void }> {
  const seen: Observed = { renewedAt: [], completedAt: null };
  let restore = (): void => undefined;
  await runInDurableObject(workloadStub(env, workloadId), (instance: WorkloadDO) => {
    const proto = Object.getPrototypeOf(instance) as WorkloadDO;
    const renew = Object.getOwnPropertyDescriptor(proto, 'renew')!;
    const complete = Object.getOwnPropertyDescriptor(proto, 'complete')!;
    const originalRenew = proto.renew;
    const originalComplete = proto.complete;
    Object.defineProperty(proto, 'renew', {
      ...renew,
      value: function (this: WorkloadDO, requestId: string) {
        if (this === instance) seen.renewedAt.push(Date.now());
        return originalRenew.call(this, requestId);
      },
    });
    Object.defineProperty(proto, 'complete', {
      ...complete,
      value: function (this: WorkloadDO, ...args: Parameters<WorkloadDO['complete']>) {
        const reply = originalComplete.apply(this, args);
        if (this !== instance) return reply;
        seen.completedAt ??= Date.now();
        return scheduler.wait(COMPLETE_REPLY_DELAY_MS).then(() => reply);
      },
    });
    restore = () => {
      Object.defineProperty(proto, 'renew', renew);
      Object.defineProperty(proto, 'complete', complete);
    };
  });
  return { seen, restore: () => restore() };
}

describe('lease heartbeat', () => {
  afterEach(async () => {
    await releaseHeld();
  });

  it.each([false, true])('stops once a request succeeds (stream: %s)', async (stream) => {
    const id = `heartbeat-stop-${String(stream)}`;
    const { seen, restore } = await observe(id);
    onTestFinished(restore);
    const pending = chat({ model: 'hold', stream }, { workload_id: id });
    await until(heldCount, (n) => n === 1);

    // Positive control: while the request runs, its heartbeats arrive and are counted.
    await until(
      async () => seen.renewedAt.length,
      (n) => n >= 2,
    );

    await releaseHeld();
    const res = await pending;
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const w = await until(
      () => workload(id),
      (x) => x.activeRequests === 0,
    );
    expect(w['outcomes']).toMatchObject({ success: 1, lost: 0 });
    const completedAt = seen.completedAt!;
    expect(completedAt).not.toBeNull();

    // While the completion's reply is held (the Worker's context open), no heartbeat may follow it.
    // A beat sent just before the end may land a few milliseconds after complete(); none later.
    await scheduler.wait(COMPLETE_REPLY_DELAY_MS + RENEW_EVERY_MS);
    const late = seen.renewedAt.filter((t) => t > completedAt + 100).map((t) => t - completedAt);
    expect(late).toEqual([]);
  });
});
