// A restarted coordinator asks every workload it knows for its leases before it grants again. A pool
// can know thousands: the asks go out RECOVERY_ASKS_IN_FLIGHT at a time, the next as each comes back,
// so one object does not wake them all at once. Recovery still ends when all have answered (or after one
// lease TTL). A renewal counts a workload's leases at once but does not end the wait for it: only the
// answer to an ask fences it against grants of the earlier incarnation, so a renewing workload is asked
// next instead.

import { describe, expect, it } from 'vitest';
import {
  CoordinatorHost,
  IN_MEMORY_COORDINATOR_PORTS,
  RECOVERY_ASKS_IN_FLIGHT,
  createPolicy,
} from '../../src/core/index.ts';

const TTL_MS = 30_000;

function restarted(known: number, answerAtOnce = false) {
  const asked: string[] = [];
  const warnings: string[] = [];
  let host: CoordinatorHost | null = null;
  host = new CoordinatorHost(
    {
      backends: [{ name: 'a', maxConcurrency: 4 }],
      policy: createPolicy('fcfs'),
      leaseTtlMs: TTL_MS,
      epoch: 2,
    },
    {
      ...IN_MEMORY_COORDINATOR_PORTS,
      grant: () => undefined,
      warn: (message) => warnings.push(message),
      askLeases: (workloadId) => {
        asked.push(workloadId);
        // An in-process port may answer before the call returns.
        if (answerAtOnce) host?.onLeasesHeld(workloadId, [], 0);
      },
    },
  );
  const workloads = Array.from({ length: known }, (_, i) => `w${i}`);
  host.restore({ workloads }, 0);
  return { host, asked, warnings, workloads };
}

describe('CoordinatorHost recovery asks', () => {
  it('asks RECOVERY_ASKS_IN_FLIGHT workloads at a time, the next as each answers, in the order it knew them', () => {
    const known = 3 * RECOVERY_ASKS_IN_FLIGHT + 5;
    const { host, asked, workloads } = restarted(known);
    expect(asked).toEqual(workloads.slice(0, RECOVERY_ASKS_IN_FLIGHT));
    host.onLeasesHeld('w0', [], 1);
    expect(asked.length).toBe(RECOVERY_ASKS_IN_FLIGHT + 1);
    // A failed ask frees its place too (the workload still holds recovery until it renews, or the TTL).
    host.onAskFailed('w1', 'unreachable');
    expect(asked.length).toBe(RECOVERY_ASKS_IN_FLIGHT + 2);
    // A duplicate or unexpected answer does not open a second place.
    host.onLeasesHeld('w0', [], 1);
    expect(asked.length).toBe(RECOVERY_ASKS_IN_FLIGHT + 2);
    // Answering each in turn asks the rest (the list grows as the loop runs).
    for (let i = 2; i < asked.length; i++) host.onLeasesHeld(asked[i] as string, [], 2);
    expect(new Set(asked)).toEqual(new Set(workloads));
    expect(asked.length).toBe(known);
    // w1's ask failed: the coordinator still waits for it (until the TTL). When it renews it is
    // reachable after all, and asked again; its answer ends the wait.
    expect(host.stats(3).recovering).toBe(1);
    host.renew('w1', [], 4);
    expect(host.recovering).toBe(true);
    expect(asked.length).toBe(known + 1);
    expect(asked.at(-1)).toBe('w1');
    host.onLeasesHeld('w1', [], 5);
    expect(host.recovering).toBe(false);
  });

  it('asks a workload that renewed before its turn next, and waits for its answer (the fence)', () => {
    const known = RECOVERY_ASKS_IN_FLIGHT + 3;
    const { host, asked, workloads } = restarted(known);
    const late = `w${RECOVERY_ASKS_IN_FLIGHT + 2}`;
    host.renew(late, [{ leaseId: 'l-old', backend: 'a', epoch: 1 }], 1);
    // Its lease counts at once; it is first in line for the next free place.
    expect(host.stats(1).leases).toBe(1);
    host.onLeasesHeld('w0', [], 2);
    expect(asked.at(-1)).toBe(late);
    for (let i = 1; i < asked.length; i++)
      if (asked[i] !== late) host.onLeasesHeld(asked[i] as string, [], 2);
    // Every other workload has answered; the renewed one has not yet.
    expect(new Set(asked)).toEqual(new Set(workloads));
    expect(host.recovering).toBe(true);
    host.onLeasesHeld(late, [{ leaseId: 'l-old', backend: 'a', epoch: 1 }], 3);
    expect(host.recovering).toBe(false);
    expect(host.stats(3).leases).toBe(1);
    // Asked once each: the renewal did not add a second ask for a workload whose ask was out.
    expect(asked.length).toBe(known);
  });

  it('copes with answers that come back inside the ask (no recursion per workload)', () => {
    const known = 20_000;
    const { host, asked } = restarted(known, true);
    expect(asked.length).toBe(known);
    expect(host.recovering).toBe(false);
  });

  it('still stops waiting after one lease TTL, with a warning naming who never answered', () => {
    const { host, warnings } = restarted(RECOVERY_ASKS_IN_FLIGHT + 10);
    host.alarm(TTL_MS - 1);
    expect(host.recovering).toBe(true);
    host.alarm(TTL_MS);
    expect(host.recovering).toBe(false);
    expect(warnings.some((w) => w.includes(`without hearing from ${RECOVERY_ASKS_IN_FLIGHT + 10}`))).toBe(
      true,
    );
  });
});

// A workload's answer (or renewal) is read before its request ends; the request's release can reach the
// restarted coordinator first. The coordinator then frees nothing (it does not know the lease yet), and
// adopting the lease from the late answer would hold a slot nothing uses until the lease expired.
describe('CoordinatorHost recovery: a release that overtakes the declaration', () => {
  const old = { leaseId: 'l-old', backend: 'a', epoch: 1 } as const;

  it('does not adopt a lease released before the answer that declared it arrived', () => {
    const { host } = restarted(1);
    expect(host.release('l-old', null, 1).released).toBe(false);
    host.onLeasesHeld('w0', [old], 2);
    expect(host.recovering).toBe(false);
    expect(host.stats(2).leases).toBe(0);
  });

  it('nor from a renewal, which is told the lease is missing', () => {
    const { host } = restarted(1);
    host.release('l-old', null, 1);
    expect(host.renew('w0', [old], 2).missing).toEqual(['l-old']);
    expect(host.stats(2).leases).toBe(0);
  });

  it('does not adopt it again from a late declaration after it was adopted and released', () => {
    // A renewal adopts it, the request ends, and the answer to the ask (read before the end) arrives.
    const first = restarted(1).host;
    first.renew('w0', [old], 1);
    expect(first.stats(1).leases).toBe(1);
    expect(first.release('l-old', null, 2).released).toBe(true);
    first.onLeasesHeld('w0', [old], 3);
    expect(first.stats(3).leases).toBe(0);
    // The other order: the answer adopts it, the release frees it, a late renewal declares it.
    const second = restarted(1).host;
    second.onLeasesHeld('w0', [old], 1);
    second.release('l-old', null, 2);
    expect(second.renew('w0', [old], 3).missing).toEqual(['l-old']);
    expect(second.stats(3).leases).toBe(0);
  });

  it('still adopts a lease of the earlier incarnation that was not released', () => {
    const { host } = restarted(1);
    host.release('l-other', null, 1);
    host.onLeasesHeld('w0', [old], 2);
    expect(host.stats(2).leases).toBe(1);
  });
});
