// Durable Object state and alarms: the registry survives an eviction from memory, and the WorkloadDO
// alarm deletes a workload that has been idle for 5 minutes (and the coordinator stops listing it).

import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { WorkloadDO } from '../../src/worker/workload-do.ts';
import { coordinatorStub, workloadStub } from '../../src/worker/stubs.ts';
import { call, chat, heldCount, releaseHeld, until, workload } from './support/client.ts';

interface StoredState {
  workloadId: string;
  registry: { lastRequestAt: number | null; totalRequests: number };
  leases: unknown[];
}

describe('WorkloadDO state and alarms', () => {
  it('persists the registry entry so its numbers survive eviction from memory', async () => {
    const id = 'alarm-persist';
    for (let i = 0; i < 3; i++) await (await chat({ model: 'ok' }, { workload_id: id })).arrayBuffer();
    await until(
      () => workload(id),
      (w) => w.activeRequests === 0 && w['completedCount'] === 3,
    );
    const stub = workloadStub(env, id);
    const stored = await until(
      () =>
        runInDurableObject(stub, async (_i: WorkloadDO, state) => state.storage.kv.get<StoredState>('state')),
      // The grant's write is immediate, the completion's coalesced: wait for the last completion's.
      (s) => s?.registry.totalRequests === 3 && s.leases.length === 0,
    );
    expect(stored?.registry.totalRequests).toBe(3);

    await evictDurableObject(stub);
    const after = await workload(id);
    expect(after).toMatchObject({
      totalRequests: 3,
      completedCount: 3,
      dispatchedCount: 3,
      activeRequests: 0,
    });
  });

  it('deletes a workload idle for 5 minutes when its alarm fires', async () => {
    const id = 'alarm-idle';
    await (await chat({ model: 'ok' }, { workload_id: id })).arrayBuffer();
    await until(
      () => workload(id),
      (w) => w.activeRequests === 0,
    );
    expect(await coordinatorStub(env, 'default').listWorkloads()).toContain(id);

    const stub = workloadStub(env, id);
    await until(
      () =>
        runInDurableObject(stub, async (_i: WorkloadDO, state) => state.storage.kv.get<StoredState>('state')),
      (s) => s?.registry.totalRequests === 1 && s.leases.length === 0,
    );
    // Age the persisted entry by six minutes, reload it, and fire the alarm now.
    await runInDurableObject(stub, async (_i: WorkloadDO, state) => {
      const saved = state.storage.kv.get<StoredState>('state')!;
      const aged = { ...saved, registry: { ...saved.registry, lastRequestAt: Date.now() - 6 * 60_000 } };
      state.storage.kv.put('state', aged);
      await state.storage.setAlarm(Date.now());
    });
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const remaining = await runInDurableObject(
      stub,
      async (_i: WorkloadDO, state) => [...state.storage.kv.list()].length,
    );
    expect(remaining).toBe(0);
    expect(await coordinatorStub(env, 'default').listWorkloads()).not.toContain(id);
    expect((await call(`/admin/workloads/${id}`)).status).toBe(404);
  });

  it('keeps a workload that is idle for less than 5 minutes', async () => {
    const id = 'alarm-recent';
    await (await chat({ model: 'ok' }, { workload_id: id })).arrayBuffer();
    await until(
      () => workload(id),
      (w) => w.activeRequests === 0,
    );
    const stub = workloadStub(env, id);
    await runInDurableObject(stub, async (_i: WorkloadDO, state) => {
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(stub);
    expect((await call(`/admin/workloads/${id}`)).status).toBe(200);
  });
});

describe('WorkloadDO restart between grant and completion', () => {
  it('still frees the slot: the Worker sends the lease ID with the completion', async () => {
    const id = 'restart-mid-flight';
    const pending = chat({ model: 'hold' }, { workload_id: id });
    await until(heldCount, (n) => n === 1);
    const coordinator = coordinatorStub(env, 'default');
    await until(
      () => coordinator.stats(),
      (s) => s.leases === 1,
    );
    // Wipe the workload's storage and evict it: the new instance knows nothing of the request.
    const stub = workloadStub(env, id);
    await runInDurableObject(stub, async (_i: WorkloadDO, state) => {
      await state.storage.deleteAll();
    });
    await evictDurableObject(stub);
    await releaseHeld();
    expect((await pending).status).toBe(200);
    await until(
      () => coordinator.stats(),
      (s) => s.leases === 0,
    );
  });
});
