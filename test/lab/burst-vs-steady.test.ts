// burst-vs-steady exists to show that a steady tenant does not wait behind another tenant's burst.

import { describe, expect, it } from 'vitest';
import { burstVsSteady, type BurstVsSteadyGroup } from '../../lab/scenarios/burst-vs-steady.ts';
import { groupOf, runOf, runScenario } from './lab-runs.ts';

const runs = runScenario(burstVsSteady);
const p95 = (policy: 'fcfs' | 'workload-aware', workload: BurstVsSteadyGroup): number =>
  groupOf(runOf(runs, policy), workload).waitP95Ms ?? Infinity;

describe('burst-vs-steady', () => {
  it('workload-aware: the steady tenant’s p95 wait is under a quarter of the burst’s', () => {
    expect(p95('workload-aware', 'steady') * 4).toBeLessThan(p95('workload-aware', 'burst'));
  });

  it('fcfs makes the steady tenant wait behind the burst; workload-aware does not', () => {
    expect(p95('fcfs', 'steady')).toBeGreaterThan(4 * p95('workload-aware', 'steady'));
  });

  it('workload-aware shares service evenly between the two (Jain ≥ 0.95)', () => {
    expect(runOf(runs, 'workload-aware').summary.jain).toBeGreaterThanOrEqual(0.95);
  });
});
