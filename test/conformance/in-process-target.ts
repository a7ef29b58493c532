// The protocol conformance target made of the core hosts alone: one coordinator host and a workload host
// per workload, talking through calls that answer on a later turn of the event loop, as RPC does.

import {
  CoordinatorHost,
  DEFAULT_POOL,
  IN_MEMORY_COORDINATOR_PORTS,
  WorkloadHost,
  createPolicy,
  type AdmitReply,
  type Lease,
} from '../../src/core/index.ts';
import { CONFORMANCE_BACKENDS, CONFORMANCE_MAX_QUEUE, type ProtocolTarget } from './protocol.case.ts';

const later = (fn: () => void): void => void setTimeout(fn, 0);

export function inProcessTarget(): ProtocolTarget {
  const policy = createPolicy('workload-aware');
  const hosts = new Map<string, WorkloadHost>();
  const waiters = new Map<string, (reply: AdmitReply) => void>();
  const coordinator = new CoordinatorHost(
    { backends: CONFORMANCE_BACKENDS, policy, leaseTtlMs: 60_000 },
    {
      grant: (lease: Lease) =>
        later(() => {
          const reply = host(lease.workloadId).grant(DEFAULT_POOL, lease, Date.now());
          later(() => coordinator.onGrantReply(lease, reply, Date.now()));
        }),
      ...IN_MEMORY_COORDINATOR_PORTS,
    },
  );

  function host(workloadId: string): WorkloadHost {
    let h = hosts.get(workloadId);
    if (h) return h;
    const created: WorkloadHost = new WorkloadHost(
      { policy, maxQueue: CONFORMANCE_MAX_QUEUE, leaseTtlMs: 60_000, inFlightTtlMs: 60_000 },
      {
        coordinator: {
          offer: (pool, id, head, signals, seq, releases) =>
            later(() => {
              const reply = coordinator.offer(id, head, signals, seq, Date.now(), releases);
              later(() => created.onOfferReply(pool, reply, Date.now()));
            }),
          release: (_pool, leaseId, health) =>
            later(() => {
              const reply = coordinator.release(leaseId, health, Date.now());
              later(() => created.onReleased(leaseId, reply.informed));
            }),
          renew: (_pool, id, leases) =>
            later(() => created.onRenewReply(coordinator.renew(id, leases, Date.now()))),
          forget: (_pool, id) => later(() => coordinator.forget(id)),
        },
        reply: (requestId, reply) => {
          waiters.get(requestId)?.(reply);
          waiters.delete(requestId);
        },
        persist: () => undefined,
        setAlarm: () => undefined,
        deleteState: () => undefined,
      },
    );
    h = created;
    hosts.set(workloadId, h);
    return h;
  }

  return {
    admit: (workloadId, requestId, criticality, limits) => {
      const reply = new Promise<AdmitReply>((resolve) => waiters.set(requestId, resolve));
      host(workloadId).admit(
        {
          requestId,
          workloadId,
          pool: DEFAULT_POOL,
          criticality,
          tokenEstimate: 0,
          ...(limits ? { limits } : {}),
        },
        Date.now(),
      );
      return reply;
    },
    complete: async (workloadId, requestId, end, leaseId) =>
      host(workloadId).complete(
        requestId,
        end,
        null,
        leaseId === undefined ? undefined : { pool: DEFAULT_POOL, leaseId },
        Date.now(),
      ),
    metrics: async (workloadId) => hosts.get(workloadId)?.state?.metrics(Date.now()) ?? null,
    backends: async () => coordinator.dispatcher.backends(Date.now()),
    stats: async () => coordinator.stats(Date.now()),
    until: async (probe, ok) => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const value = await probe();
        if (ok(value)) return value;
        if (Date.now() > deadline) throw new Error(`condition not met; last value ${JSON.stringify(value)}`);
        await new Promise((r) => setTimeout(r, 1));
      }
    },
  };
}
