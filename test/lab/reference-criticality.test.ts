// reference-criticality exists to show the drain order by criticality.

import { describe, expect, it } from 'vitest';
import {
  referenceCriticality,
  type ReferenceCriticalityGroup,
} from '../../lab/scenarios/reference-criticality.ts';
import { groupOf, runOf, runScenario } from './lab-runs.ts';

const runs = runScenario(referenceCriticality);
const position = (policy: 'fcfs' | 'seed' | 'workload-aware', workload: ReferenceCriticalityGroup): number =>
  groupOf(runOf(runs, policy), workload).meanCompletionPosition ?? Infinity;

describe('reference-criticality', () => {
  it('completes every request under every policy (the 10 min TTL evicts nothing)', () => {
    for (const run of runs.values()) expect(run.summary.completed).toBe(100);
  });

  it('workload-aware finishes criticality 5 before criticality 3 and 1', () => {
    expect(position('workload-aware', 'crit5')).toBeLessThan(position('workload-aware', 'crit3'));
    expect(position('workload-aware', 'crit5')).toBeLessThan(position('workload-aware', 'crit1'));
  });

  it('seed drains strictly by criticality, fcfs by arrival', () => {
    expect(position('seed', 'crit5')).toBeLessThan(position('seed', 'crit3'));
    expect(position('seed', 'crit3')).toBeLessThan(position('seed', 'crit1'));
    expect(position('fcfs', 'crit1')).toBeLessThan(position('fcfs', 'crit3'));
    expect(position('fcfs', 'crit3')).toBeLessThan(position('fcfs', 'crit5'));
  });

  // The drain (≈ 90 s) outlasts the 30 s aging horizon. Overdue workloads then take turns rather than
  // going strictly oldest first, so criticality 3 keeps its lead over criticality 1 (which arrived first).
  it('workload-aware finishes criticality 3 before criticality 1', () => {
    expect(position('workload-aware', 'crit3')).toBeLessThan(position('workload-aware', 'crit1'));
  });
});
