// First-come-first-served: the oldest waiting request anywhere goes first. The baseline.

import type { HeadView, Policy } from './types.ts';

export function createFcfsPolicy(): Policy {
  return {
    name: 'fcfs',
    queueOrder: 'fifo',
    agingHorizonMs: null,
    fairness: 'requests',
    score: (head: HeadView, _signals, now: number) => now - head.enqueuedAt,
    rankKey: (head: HeadView) => -head.enqueuedAt,
    overdueKey: (head: HeadView) => -head.enqueuedAt,
  };
}
