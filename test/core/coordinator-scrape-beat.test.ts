// A pool that reads its engines' metrics scrapes once per interval while it has work. Under light load a
// request can start and end between two beats; each must not cost an alarm (a durable write and a
// wake-up in a Durable Object): the scrape round due when work arrives starts at once, and the alarm is
// set only for the next beat.

import { describe, expect, it } from 'vitest';
import {
  CoordinatorHost,
  DEFAULT_SATURATION_POLICY,
  IN_MEMORY_COORDINATOR_PORTS,
  createPolicy,
} from '../../src/core/index.ts';

const INTERVAL_MS = 1_000;

function scrapingHost() {
  const alarms: number[] = [];
  const scrapes: number[] = [];
  let now = 0;
  const host = new CoordinatorHost(
    {
      backends: [{ name: 'a', maxConcurrency: 4 }],
      policy: createPolicy('fcfs'),
      leaseTtlMs: 30_000,
      saturation: DEFAULT_SATURATION_POLICY,
      metricsIntervalMs: INTERVAL_MS,
    },
    {
      ...IN_MEMORY_COORDINATOR_PORTS,
      grant: () => undefined,
      setAlarm: (at) => alarms.push(at),
      scrape: () => scrapes.push(now),
    },
  );
  const signals = { requestRatePerSec: 0, averageWaitMs: null, lastDispatchedAt: null };
  let n = 0;
  /** One request that is granted at `at` and released 5 ms later, leaving the pool idle. */
  const request = (at: number): void => {
    now = at;
    n++;
    const [lease] = host.offer(
      'w',
      { requestId: `r${n}`, criticality: 3, enqueuedAt: at },
      signals,
      {
        epoch: 0,
        n: 2 * n,
      },
      at,
    ).grants;
    if (!lease) throw new Error('no grant');
    host.offer('w', null, signals, { epoch: 0, n: 2 * n + 1 }, at);
    now = at + 5;
    host.release(lease.leaseId, { reachable: true, observedAt: at + 1 }, at + 5);
  };
  return { host, alarms, scrapes, request, advance: (to: number) => (now = to) };
}

describe('CoordinatorHost scrape beat', () => {
  it('scrapes when work arrives and sets at most one alarm per interval, not one per request', () => {
    const { alarms, scrapes, request } = scrapingHost();
    for (let t = 0; t < 500; t += 10) request(t); // 50 short requests within one interval
    expect(scrapes).toEqual([0]);
    expect(alarms).toEqual([INTERVAL_MS]);
    // No alarm is ever set for the moment it is set at (that was the per-request write).
    for (let t = 1_200; t < 1_700; t += 10) request(t);
    expect(scrapes).toEqual([0, 1_200]);
    expect(alarms.length).toBeLessThanOrEqual(3);
  });

  it('keeps the beat from the alarm while the pool stays busy', () => {
    const { host, scrapes, advance } = scrapingHost();
    const signals = { requestRatePerSec: 0, averageWaitMs: null, lastDispatchedAt: null };
    host.offer('w', { requestId: 'long', criticality: 3, enqueuedAt: 0 }, signals, { epoch: 0, n: 1 }, 0);
    advance(1_000);
    host.alarm(1_000);
    advance(2_000);
    host.alarm(2_000);
    expect(scrapes).toEqual([0, 1_000, 2_000]);
  });
});
