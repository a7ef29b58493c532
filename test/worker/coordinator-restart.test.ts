// A CoordinatorDO keeps its leases in memory; each running request's lease is in its workload's storage,
// written before the grant reached the Worker. A restarted coordinator asks the workloads it knows what
// they hold and grants nothing until they have answered, so a slot in use is never handed out twice.

import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { PersistedWorkload } from '../../src/core/index.ts';
import type { CoordinatorDO } from '../../src/worker/coordinator-do.ts';
import type { WorkloadDO } from '../../src/worker/workload-do.ts';
import { coordinatorStub, workloadStub } from '../../src/worker/stubs.ts';
import { chat, heldCount, releaseHeld, until, workload } from './support/client.ts';

/** The default pool's slots in this project (vitest.config.ts): alpha 2 + beta 1. */
const POOL_SLOTS = 3;

describe('CoordinatorDO restart', () => {
  it('stores no lease itself; the workload has each running one, with its backend and incarnation', async () => {
    const id = 'restart-storage';
    const holder = chat({ model: 'hold' }, { workload_id: id });
    await until(heldCount, (n) => n === 1);
    const coordinatorKeys = () =>
      runInDurableObject(coordinatorStub(env, 'default'), async (_i: CoordinatorDO, state) =>
        [...state.storage.kv.list({ prefix: 'lease:' })].map(([k]) => k),
      );
    const workloadLeases = () =>
      runInDurableObject(
        workloadStub(env, id),
        async (_i: WorkloadDO, state) => state.storage.kv.get<PersistedWorkload>('state')?.leases ?? [],
      );
    // Already durable: written before the grant reached the Worker, not coalesced.
    const [held] = await workloadLeases();
    expect(held).toEqual([
      expect.any(String),
      expect.any(String),
      'default',
      expect.any(String),
      expect.any(Number),
    ]);
    expect(await coordinatorKeys()).toEqual([]);
    await releaseHeld();
    await (await holder).arrayBuffer();
    expect(
      await until(
        async () => (await workloadLeases()).length,
        (n) => n === 0,
      ),
    ).toBe(0);
  });

  it('counts the running requests again before it grants: no slot is handed out twice', async () => {
    const id = 'restart-recover';
    const running = [
      chat({ model: 'hold' }, { workload_id: id }),
      chat({ model: 'hold' }, { workload_id: id }),
    ];
    await until(heldCount, (n) => n === 2);
    // A crash, not a graceful eviction (which waits for the pool to drain): the instance is reset, and
    // the next call (through a new stub: the old one is broken) starts a new one from storage.
    await runInDurableObject(coordinatorStub(env, 'default'), (_i: CoordinatorDO, state) =>
      state.abort('restart'),
    ).catch(() => undefined);
    const coordinator = coordinatorStub(env, 'default');
    // Two more at once, before the new instance has heard from the workload: one slot is free, so one
    // runs and one waits. Granting before the workload declared its two would run both (4 on 3 slots).
    const more = [chat({ model: 'hold' }, { workload_id: id }), chat({ model: 'hold' }, { workload_id: id })];
    await until(
      () => workload(id),
      (w) => w['queuedRequests'] === 1 && w['inFlightRequests'] === POOL_SLOTS,
    );
    expect(await heldCount()).toBe(POOL_SLOTS);
    expect(await coordinator.stats()).toMatchObject({ leases: POOL_SLOTS, freeSlots: 0, recovering: 0 });
    // The requests from before the restart release their slots as usual.
    await releaseHeld();
    await until(heldCount, (n) => n === 1);
    await releaseHeld();
    for (const r of [...running, ...more]) expect((await r).status).toBe(200);
    await until(
      () => coordinator.stats(),
      (s) => s.leases === 0,
    );
  });
});
