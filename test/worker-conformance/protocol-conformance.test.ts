// The protocol conformance suite (test/conformance/protocol.case.ts) against the real Durable Objects,
// called over RPC in the Workers runtime. Its own test project, so no other test shares its pool's slots.

import { env } from 'cloudflare:test';
import { runProtocolConformance } from '../conformance/protocol.case.ts';
import { DEFAULT_POOL } from '../../src/core/index.ts';
import { coordinatorStub, workloadStub } from '../../src/worker/stubs.ts';

/** The test config lists no pools, so every backend is in the default pool. */
const POOL = DEFAULT_POOL;

runProtocolConformance('Durable Objects', () => ({
  admit: (workloadId, requestId, criticality, limits) =>
    workloadStub(env, workloadId).admit({
      requestId,
      workloadId,
      pool: POOL,
      criticality,
      tokenEstimate: 0,
      ...(limits ? { limits } : {}),
    }),
  complete: (workloadId, requestId, end, leaseId) =>
    workloadStub(env, workloadId).complete(
      requestId,
      end,
      undefined,
      leaseId === undefined ? undefined : { pool: POOL, leaseId },
    ),
  metrics: async (workloadId) => (await workloadStub(env, workloadId).describe())?.metrics ?? null,
  backends: () => coordinatorStub(env, 'default').backends(),
  stats: () => coordinatorStub(env, 'default').stats(),
  until: async (probe, ok) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const value = await probe();
      if (ok(value)) return value;
      if (Date.now() > deadline) throw new Error(`condition not met; last value ${JSON.stringify(value)}`);
      await scheduler.wait(10);
    }
  },
}));
