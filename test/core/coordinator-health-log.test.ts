// The coordinator reports each backend's health changes once, as they happen (for the operator's log):
// healthy → cooling on a failure, → probing when the cooldown is over, → half_open on a good probe,
// → healthy once fully back.

import { describe, expect, it } from 'vitest';
import {
  CoordinatorHost,
  IN_MEMORY_COORDINATOR_PORTS,
  createPolicy,
  type BackendHealthChange,
  type Lease,
} from '../../src/core/index.ts';

describe('CoordinatorHost health changes', () => {
  it('reports every transition once, in order', () => {
    const changes: BackendHealthChange[] = [];
    const granted: Lease[] = [];
    const host = new CoordinatorHost(
      {
        backends: [{ name: 'a', maxConcurrency: 2 }],
        policy: createPolicy('fcfs'),
        leaseTtlMs: 60_000,
        probing: true,
        backendCooldown: { baseMs: 1_000, maxMs: 30_000 },
      },
      {
        ...IN_MEMORY_COORDINATOR_PORTS,
        grant: (lease) => granted.push(lease),
        healthChanged: (change) => changes.push(change),
      },
    );
    const seq = (n: number) => ({ epoch: 0, n });
    const signals = { requestRatePerSec: 0, averageWaitMs: null, lastDispatchedAt: null };
    const head = (id: string) => ({ requestId: id, criticality: 3, enqueuedAt: 0 });
    const [lease] = host.offer('w', head('r1'), signals, seq(1), 0).grants;
    if (!lease) throw new Error('no grant');
    host.release(lease.leaseId, { reachable: false, observedAt: 10 }, 10);
    host.alarm(1_010); // cooldown over: probing, and a probe goes out
    host.onProbe('a', true, 1_010, 1_020); // half-open with 1 slot
    const [again] = host.offer('w', head('r2'), signals, seq(2), 1_030).grants;
    if (!again) throw new Error('no grant after the probe');
    host.release(again.leaseId, { reachable: true, observedAt: 1_040 }, 1_050); // 2 slots: full
    expect(changes.map((c) => `${c.from}→${c.to}`)).toEqual([
      'healthy→cooling',
      'cooling→probing',
      'probing→half_open',
      'half_open→healthy',
    ]);
    expect(changes[0]).toMatchObject({ backend: 'a', consecutiveFailures: 1 });
  });
});
