// The sharding study judges inversions with compareHeads; that is only meaningful if compareHeads orders
// heads exactly as the Dispatcher grants them (overdue tier first, then rank, ties by arrival).

import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../../src/core/dispatcher.ts';
import { createPolicy } from '../../../src/core/policy/index.ts';
import { createPrng } from '../../../sim/prng.ts';
import { bestHead } from '../../../lab/sharding/rank.ts';

describe('compareHeads', () => {
  it.each([1, 2, 3])('picks the head the Dispatcher grants next (seed %i)', (seed) => {
    const rng = createPrng(seed);
    const policy = createPolicy('workload-aware');
    const dispatcher = new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: 1 }], policy });
    const now = 1_000_000;
    for (let w = 0; w < 200; w++) {
      dispatcher.offer(
        `w${w}`,
        {
          requestId: `w${w}/0`,
          criticality: 1 + Math.floor(rng() * 5),
          // A third of the heads have waited past the 30 s horizon; some arrive at the same instant.
          enqueuedAt: now - Math.floor(rng() * 45) * 1000,
        },
        {
          requestRatePerSec: Math.floor(rng() * 4) * 10,
          averageWaitMs: null,
          lastDispatchedAt: rng() < 0.5 ? null : now - Math.floor(rng() * 60_000),
        },
      );
    }
    while (dispatcher.readyCount > 0) {
      const expected = bestHead(policy, dispatcher.readyHeads(), now);
      const grant = dispatcher.next(now);
      expect(grant?.workloadId).toBe(expected?.workloadId);
      if (grant) dispatcher.release(grant.leaseId);
    }
  });
});
