// The root's bookkeeping: it never lends a slot it does not have, lends to the best waiting borrower
// first, and draws the waterline where one period's completions run out.

import { describe, expect, it } from 'vitest';
import type { ReadyHead } from '../../../src/core/dispatcher.ts';
import { createPolicy } from '../../../src/core/policy/index.ts';
import { readyHeadOf } from '../../../lab/sharding/rank.ts';
import { RootLender } from '../../../lab/sharding/root-lender.ts';

const policy = createPolicy('workload-aware');
const NOW = 100_000;

function head(workloadId: string, criticality: number, waitedMs: number): ReadyHead {
  return readyHeadOf(
    policy,
    workloadId,
    { requestId: `${workloadId}/0`, criticality, enqueuedAt: NOW - waitedMs },
    { requestRatePerSec: 0, averageWaitMs: null, lastDispatchedAt: null },
  );
}

describe('RootLender', () => {
  it('lends what it has, spread over backends, and no more', () => {
    const root = new RootLender(policy, [
      { name: 'a', slots: 2 },
      { name: 'b', slots: 1 },
    ]);
    const loans = root.borrow({ shard: 0, want: 5, best: head('w0', 3, 0) }, NOW);
    expect(loans).toEqual([{ shard: 0, slots: ['a', 'a', 'b'] }]);
    expect(root.freeSlots).toBe(0);
    expect(root.borrow({ shard: 1, want: 1, best: head('w1', 3, 0) }, NOW)).toEqual([]);
  });

  it('refuses a slot back that it never lent', () => {
    const root = new RootLender(policy, [{ name: 'a', slots: 1 }]);
    expect(() => root.giveBack(['a'], NOW)).toThrow(/over-returned/);
  });

  it('gives a returned slot to the best waiting borrower, an overdue head before any other', () => {
    const root = new RootLender(policy, [{ name: 'a', slots: 1 }]);
    root.borrow({ shard: 0, want: 1, best: head('w0', 3, 0) }, NOW);
    root.borrow({ shard: 1, want: 1, best: head('w1', 5, 1_000) }, NOW);
    root.borrow({ shard: 2, want: 1, best: head('w2', 1, 31_000) }, NOW);
    expect(root.pressureFor(0, NOW)?.workloadId).toBe('w2');
    expect(root.pressureFor(2, NOW)?.workloadId).toBe('w1');
    expect(root.giveBack(['a'], NOW)).toEqual([{ shard: 2, slots: ['a'] }]);
    expect(root.waitingShards.sort()).toEqual([1]);
  });

  it('draws the waterline at the key of the last head one period of completions can serve', () => {
    const root = new RootLender(policy, [{ name: 'a', slots: 4 }]);
    expect(root.waterline()).toBe(Infinity);
    root.report(0, { topRankKeys: [90, 50, 10], overdue: 0, completions: 2, best: null });
    root.report(1, { topRankKeys: [70, 30], overdue: 1, completions: 2, best: null });
    // Three slots for heads that are not overdue (four completions, one overdue head first): 90, 70, 50.
    expect(root.waterline()).toBe(50);
    root.report(1, { topRankKeys: [70], overdue: 0, completions: 9, best: null });
    expect(root.waterline()).toBe(-Infinity);
  });
});
