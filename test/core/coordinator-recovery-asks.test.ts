// A restarted coordinator asks every workload it knows for its leases before it grants again. A pool
// can know thousands: the asks go out RECOVERY_ASKS_IN_FLIGHT at a time, the next as each comes back,
// so one object does not wake them all at once. Recovery still ends when all have answered (or after one
// lease TTL), and a workload that declared itself by a renewal meanwhile is not asked at all.

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
    // w1's ask failed and it never renewed: the coordinator still waits for it (until the TTL).
    expect(host.stats(3).recovering).toBe(1);
    host.renew('w1', [], 4);
    expect(host.recovering).toBe(false);
  });

  it('does not ask a workload that declared its leases by a renewal before its turn', () => {
    const known = RECOVERY_ASKS_IN_FLIGHT + 3;
    const { host, asked } = restarted(known);
    const late = `w${RECOVERY_ASKS_IN_FLIGHT + 1}`;
    host.renew(late, [], 1);
    for (let i = 0; i < asked.length; i++) host.onLeasesHeld(asked[i] as string, [], 2);
    expect(asked).not.toContain(late);
    expect(asked.length).toBe(known - 1);
    expect(host.recovering).toBe(false);
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
