// The reference design's formula, kept exactly for comparison:
//   score = 0.4·min(avgWaitSec/60, 1) + 0.4·criticality/5 − 0.2·min(ratePerSec/100, 1)
// Known flaws, kept on purpose (test/core/seed-starvation.test.ts documents them):
// - the wait term is the workload's EMA, which only moves when the workload is dispatched, so a
//   low-criticality workload under sustained higher-criticality load never ages and starves;
// - it has no notion of the head request's own wait.

import type { HeadView, Policy, WorkloadSignals } from './types.ts';

function seedScore(head: HeadView, signals: WorkloadSignals): number {
  const avgWaitSec = (signals.averageWaitMs ?? 0) / 1000;
  return (
    0.4 * Math.min(avgWaitSec / 60, 1) +
    0.4 * (head.criticality / 5) -
    0.2 * Math.min(signals.requestRatePerSec / 100, 1)
  );
}

export function createSeedPolicy(): Policy {
  return {
    name: 'seed',
    queueOrder: 'criticality',
    agingHorizonMs: null,
    fairness: 'requests',
    score: (head, signals) => seedScore(head, signals),
    rankKey: (head, signals) => seedScore(head, signals),
    overdueKey: (head, signals) => seedScore(head, signals),
  };
}
