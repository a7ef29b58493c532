// The policy contract. A policy is a pure function of a workload's head request, that workload's signals
// and `now`. Scores are compared at decision time; the dispatcher never stores a time-dependent score.

export const POLICY_NAMES = ['fcfs', 'seed', 'workload-aware'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The request a workload would send next. */
export interface HeadView {
  readonly requestId: string;
  readonly criticality: number;
  /** When the request entered the queue (ms). */
  readonly enqueuedAt: number;
  /** The host's token estimate (prompt + requested completion); 0 or absent when unknown. */
  readonly tokenEstimate?: number;
  /** Token fairness: the workload's share weight (absent: DEFAULT_WORKLOAD_WEIGHT); see dispatcher.ts. */
  readonly weight?: number;
}

/** A workload's numbers as of its last update to the dispatcher. */
export interface WorkloadSignals {
  readonly requestRatePerSec: number;
  /** EMA of queue wait; null until the workload's first dispatch. */
  readonly averageWaitMs: number | null;
  /** When the workload was last given a slot; null if never. */
  readonly lastDispatchedAt: number | null;
  /**
   * Token fairness only: the head's start tag in tokens, as in start-time fair queuing. Set by the
   * dispatcher when the head is offered (workloads do not know it): the workload's finish tag while it
   * stays backlogged, else max(its finish tag, the smallest waiting start tag); see dispatcher.ts.
   */
  readonly serviceTag?: number;
}

export interface Policy {
  readonly name: PolicyName;
  /** How a workload orders its own queue: strictly by arrival, or by criticality then arrival. */
  readonly queueOrder: 'fifo' | 'criticality';
  /**
   * When non-null: a head that has waited at least this long is "overdue". Overdue heads outrank every
   * head that is not, and among themselves follow `overdueKey`. Queues honour it too (oldest first), so a
   * request buried behind higher-criticality requests of its own workload still surfaces.
   */
  readonly agingHorizonMs: number | null;
  /** Higher goes first. Ties go to the earlier `enqueuedAt`. */
  score(head: HeadView, signals: WorkloadSignals, now: number): number;
  /**
   * A time-invariant key with the same order as `score` among heads that are not overdue:
   * for such heads a, b at any `now`, score(a) > score(b) ⇔ rankKey(a) > rankKey(b).
   * This is what lets the dispatcher keep heads in a heap without stale keys.
   */
  rankKey(head: HeadView, signals: WorkloadSignals): number;
  /** Like rankKey, for overdue heads: same order as `score` among overdue heads, at any `now`. */
  overdueKey(head: HeadView, signals: WorkloadSignals): number;
  /** 'tokens': the dispatcher keeps start tags (serviceTag) and rankKey uses them. */
  readonly fairness: 'requests' | 'tokens';
}

export function isOverdue(policy: Policy, head: HeadView, now: number): boolean {
  return policy.agingHorizonMs !== null && now - head.enqueuedAt >= policy.agingHorizonMs;
}
