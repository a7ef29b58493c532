// Global priority across coordinators: the order one Dispatcher would use if it saw every head (overdue
// heads first by overdueKey, then the rest by rankKey, ties to the earlier arrival, then workload ID),
// so a sharded run can be judged against it. Also a policy wrapper that tells which head a grant took.

import type { ReadyHead } from '../../src/core/dispatcher.ts';
import { isOverdue, type HeadView, type Policy, type WorkloadSignals } from '../../src/core/policy/types.ts';

/** Positive when `a` goes before `b` at `now` under `policy` (the Dispatcher's order, see dispatcher.ts). */
export function compareHeads(policy: Policy, a: ReadyHead, b: ReadyHead, now: number): number {
  const aOver = isOverdue(policy, a.head, now);
  const bOver = isOverdue(policy, b.head, now);
  if (aOver !== bOver) return aOver ? 1 : -1;
  const key = aOver ? a.overdueKey - b.overdueKey : a.rankKey - b.rankKey;
  if (key !== 0) return key;
  const arrival = b.head.enqueuedAt - a.head.enqueuedAt;
  if (arrival !== 0) return arrival;
  return a.workloadId < b.workloadId ? 1 : a.workloadId > b.workloadId ? -1 : 0;
}

/** The best of `heads` at `now`, or null. */
export function bestHead(policy: Policy, heads: Iterable<ReadyHead>, now: number): ReadyHead | null {
  let best: ReadyHead | null = null;
  for (const h of heads) if (best === null || compareHeads(policy, h, best, now) > 0) best = h;
  return best;
}

export function readyHeadOf(
  policy: Policy,
  workloadId: string,
  head: HeadView,
  signals: WorkloadSignals,
): ReadyHead {
  return {
    workloadId,
    head,
    signals,
    rankKey: policy.rankKey(head, signals),
    overdueKey: policy.overdueKey(head, signals),
  };
}

/**
 * The same policy, remembering the head and signals of each score() call by request ID. The Dispatcher
 * scores a head exactly when it grants it, so after a grant this holds what the granted head looked like
 * to the dispatcher (which the grant record alone does not carry).
 */
export function observeGrants(policy: Policy): { policy: Policy; scored: Map<string, ReadyHeadParts> } {
  const scored = new Map<string, ReadyHeadParts>();
  const observed: Policy = {
    ...policy,
    score(head, signals, now) {
      scored.set(head.requestId, { head, signals });
      return policy.score(head, signals, now);
    },
    rankKey: (head, signals) => policy.rankKey(head, signals),
    overdueKey: (head, signals) => policy.overdueKey(head, signals),
  };
  return { policy: observed, scored };
}

export interface ReadyHeadParts {
  readonly head: HeadView;
  readonly signals: WorkloadSignals;
}
