// Lease renewal. This project runs with LEASE_TTL_MS=1200 (vitest.config.ts), so the Worker renews every
// 300 ms. A request that runs for more than twice the lease TTL must keep its slot and end as a success,
// not be swept as lost (lost/lease_expired) with its slot handed to someone else.

import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { coordinatorStub } from '../../src/worker/stubs.ts';
import { chat, heldCount, releaseHeld, until, workload } from '../worker/support/client.ts';

describe('lease renewal', () => {
  it('keeps a long-running request’s slot and records it as a success', async () => {
    const id = 'lease-long';
    const pending = chat({ model: 'hold' }, { workload_id: id });
    await until(heldCount, (n) => n === 1);
    const coordinator = coordinatorStub(env, 'default');
    const first = (await coordinator.leases())[0];
    expect(first).toBeDefined();
    // Wait well past the lease TTL, in real time: expiry is what this test is about.
    await scheduler.wait(3_000);
    const leases = await coordinator.leases();
    expect(leases.map((l) => l.leaseId)).toEqual([first!.leaseId]);
    expect(leases[0]!.expiresAt).toBeGreaterThan(first!.expiresAt);
    expect((await workload(id))['inFlightRequests']).toBe(1);

    await releaseHeld();
    expect((await pending).status).toBe(200);
    const w = await until(
      () => workload(id),
      (x) => x.activeRequests === 0,
    );
    expect(w['outcomes']).toMatchObject({ success: 1, lost: 0 });
    await until(
      () => coordinator.stats(),
      (s) => s.leases === 0,
    );
  });
});
