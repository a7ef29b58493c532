// Failover avoidance in the workload host: a request back from a failed dispatch is not sent back to
// the backend it failed on by a grant the coordinator issued before it knew of that failure. Grants are
// numbered per coordinator incarnation (Lease.seq); the acknowledgement of the failed lease says from
// which grant on the coordinator knew (Informed). These tests drive one host by hand, in the orders
// the random protocol runs (protocol-interleaving.test.ts) reach only by chance.

import { describe, expect, it } from 'vitest';
import {
  createPolicy,
  ENDED,
  WorkloadHost,
  type AdmitReply,
  type Lease,
  type WorkloadPorts,
} from '../../src/core/index.ts';

const POOL = 'p';

function host(queueTtlMs = 600_000, inFlightTtlMs = 600_000) {
  const replies: Array<{ requestId: string; reply: AdmitReply }> = [];
  const ports: WorkloadPorts = {
    coordinator: {
      offer: () => undefined,
      release: () => undefined,
      renew: () => undefined,
      forget: () => undefined,
    },
    reply: (requestId, reply) => replies.push({ requestId, reply }),
    persist: () => undefined,
    setAlarm: () => undefined,
    deleteState: () => undefined,
  };
  const h = new WorkloadHost(
    { policy: createPolicy('fcfs'), leaseTtlMs: 60_000, queueTtlMs, inFlightTtlMs },
    ports,
    undefined,
    0,
  );
  return { h, replies };
}

/** The coordinator's `seq`-th grant (incarnation 0) of a slot on `backend`, for request r's workload. */
const grant = (seq: number, backend: string, now: number): Lease => ({
  leaseId: `l${seq}`,
  requestId: 'r',
  workloadId: 'w',
  backend,
  grantedAt: now,
  expiresAt: now + 60_000,
  epoch: 0,
  seq,
});

/** The Worker's dispatch of r on `lease` failed before the first byte: r goes back to its queue. */
function failOver(h: WorkloadHost, lease: Lease, now: number): void {
  h.retry(
    {
      requestId: 'r',
      workloadId: 'w',
      pool: POOL,
      criticality: 3,
      tokenEstimate: 10,
      enqueuedAt: 0,
      failedLeaseId: lease.leaseId,
      failedBackend: lease.backend,
      health: { reachable: false, observedAt: now },
    },
    now,
  );
}

describe('failover avoidance', () => {
  it('a request that failed over twice is not sent back to its first failed backend by a grant from before that failure', () => {
    const { h } = host();
    h.admit({ requestId: 'r', workloadId: 'w', pool: POOL, criticality: 3, tokenEstimate: 10 }, 0);
    const first = grant(0, 'a', 0);
    expect(h.grant(POOL, first, 0).taken?.requestId).toBe('r');
    failOver(h, first, 10);
    // Issued before the coordinator had l0 back (its grants 0 and 1): still on its way.
    const stale = grant(1, 'a', 11);
    const second = grant(2, 'b', 12);
    expect(h.grant(POOL, second, 20).taken?.requestId).toBe('r');
    // The coordinator acknowledges l0 after grant 2: grants from 2 on knew of the failure on a.
    h.onReleased(first.leaseId, { epoch: 0, seq: 2 });
    failOver(h, second, 30);
    // The stale grant on a arrives now. a failed two attempts ago, and this grant predates that news.
    expect(h.grant(POOL, stale, 40).taken).toBeNull();
    // A grant on a issued after the coordinator knew is its informed choice, and is taken; b's failure
    // (not yet acknowledged) does not stand in its way.
    expect(h.grant(POOL, grant(3, 'a', 41), 50).taken?.requestId).toBe('r');
  });

  it('a grant on the latest failed backend issued before the coordinator knew goes back; one issued after is taken', () => {
    const { h } = host();
    h.admit({ requestId: 'r', workloadId: 'w', pool: POOL, criticality: 3, tokenEstimate: 10 }, 0);
    const first = grant(0, 'a', 0);
    h.grant(POOL, first, 0);
    failOver(h, first, 10);
    const stale = grant(1, 'a', 11);
    h.onReleased(first.leaseId, { epoch: 0, seq: 2 });
    // Delivered after the acknowledgement, but issued before it: still refused.
    expect(h.grant(POOL, stale, 20).taken).toBeNull();
    expect(h.grant(POOL, grant(2, 'a', 21), 30).taken?.requestId).toBe('r');
  });

  it('forgets a request’s failures when it ends, so they do not outlive it', () => {
    const { h } = host();
    h.admit({ requestId: 'r', workloadId: 'w', pool: POOL, criticality: 3, tokenEstimate: 10 }, 0);
    const first = grant(0, 'a', 0);
    h.grant(POOL, first, 0);
    failOver(h, first, 10);
    const second = grant(1, 'b', 11);
    h.grant(POOL, second, 20);
    h.complete('r', ENDED.completed, null, undefined, 30);
    // A new request with the same ID (a client retrying with its own ID) starts with a clean slate.
    h.admit({ requestId: 'r', workloadId: 'w', pool: POOL, criticality: 3, tokenEstimate: 10 }, 40);
    expect(h.grant(POOL, grant(0, 'a', 0), 50).taken?.requestId).toBe('r');
  });

  it('forgets the failures of a request the queue TTL evicts while it waits again', () => {
    const { h, replies } = host(1_000);
    h.admit({ requestId: 'r', workloadId: 'w', pool: POOL, criticality: 3, tokenEstimate: 10 }, 0);
    const first = grant(0, 'a', 0);
    h.grant(POOL, first, 0);
    failOver(h, first, 10);
    h.alarm(2_000);
    expect(replies.at(-1)).toMatchObject({ requestId: 'r', reply: { kind: 'ended', end: ENDED.ttlExpired } });
    h.admit({ requestId: 'r', workloadId: 'w', pool: POOL, criticality: 3, tokenEstimate: 10 }, 2_001);
    expect(h.grant(POOL, grant(1, 'a', 2_001), 2_002).taken?.requestId).toBe('r');
  });

  it('forgets the failures of a request swept as lost after it ran again', () => {
    const { h } = host(600_000, 1_000);
    h.admit({ requestId: 'r', workloadId: 'w', pool: POOL, criticality: 3, tokenEstimate: 10 }, 0);
    const first = grant(0, 'a', 0);
    h.grant(POOL, first, 0);
    failOver(h, first, 10);
    expect(h.grant(POOL, grant(1, 'b', 11), 20).taken?.requestId).toBe('r');
    // Its Worker never reports again: presumed lost.
    expect(h.alarm(2_000).lost).toEqual(['r']);
    h.admit({ requestId: 'r', workloadId: 'w', pool: POOL, criticality: 3, tokenEstimate: 10 }, 2_001);
    expect(h.grant(POOL, grant(2, 'a', 2_001), 2_002).taken?.requestId).toBe('r');
  });

  it('an older coordinator, which numbers no grants: avoids the backend until it acknowledges, as before', () => {
    const { h } = host();
    h.admit({ requestId: 'r', workloadId: 'w', pool: POOL, criticality: 3, tokenEstimate: 10 }, 0);
    const unnumbered = (leaseId: string, backend: string, now: number): Lease => ({
      leaseId,
      requestId: 'r',
      workloadId: 'w',
      backend,
      grantedAt: now,
      expiresAt: now + 60_000,
    });
    const first = unnumbered('l0', 'a', 0);
    h.grant(POOL, first, 0);
    failOver(h, first, 10);
    expect(h.grant(POOL, unnumbered('l1', 'a', 11), 12).taken).toBeNull();
    h.onReleased('l0');
    expect(h.grant(POOL, unnumbered('l2', 'a', 13), 14).taken?.requestId).toBe('r');
  });
});
