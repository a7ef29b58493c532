// Issue 11's targets for the default configuration hold on the lab's own runs (lab/targets.ts computes
// them; the report prints the same table).

import { describe, expect, it } from 'vitest';
import { DEFAULT_LAB_POLICY, policyLabel } from '../../lab/policies.ts';
import { generateRequests } from '../../lab/requests.ts';
import { SCENARIOS } from '../../lab/scenarios.ts';
import { simulate } from '../../lab/simulate.ts';
import { summarize } from '../../lab/summarize.ts';
import { evaluateTargets, withinShare } from '../../lab/targets.ts';
import { heavyTail } from '../../lab/scenarios/heavy-tail.ts';
import { burstVsSteady } from '../../lab/scenarios/burst-vs-steady.ts';

const POLICIES = ['fcfs', DEFAULT_LAB_POLICY, 'workload-aware+estimates'] as const;
const results = SCENARIOS.map((scenario) => {
  const requests = generateRequests(scenario);
  return { scenario, runs: POLICIES.map((p) => summarize(simulate(scenario, p, requests))) };
});
const targets = evaluateTargets(results);

describe('issue 11 targets (default configuration)', () => {
  it('is token fairness, and the report says so on its rows', () => {
    expect(DEFAULT_LAB_POLICY).toBe('workload-aware+tokens');
    expect(policyLabel(DEFAULT_LAB_POLICY)).toBe('workload-aware+tokens (default)');
    expect(policyLabel('fcfs')).toBe('fcfs');
  });

  it('checks every target the issue lists', () => {
    const names = targets.map((t) => t.target.split(':')[0]);
    for (const s of SCENARIOS) expect(names).toContain(s.name);
    expect(targets.filter((t) => t.target.includes('worse than fcfs'))).toHaveLength(SCENARIOS.length);
    expect(targets.some((t) => t.target.startsWith('many-tenants: Jain'))).toBe(true);
  });

  it.each(targets.map((t) => [t.target, t] as const))('%s', (_, t) => {
    expect(t.holds, t.measured).toBe(true);
  });

  it('compares with fcfs the tenants that ask for no more than their share, and only those', () => {
    const run = results.find((r) => r.scenario === heavyTail)?.runs[0];
    const within = run?.groups.filter((g) => withinShare(heavyTail, g)).map((g) => g.group);
    expect(within?.sort()).toEqual(['chat-a', 'chat-b']);
    const burst = results.find((r) => r.scenario === burstVsSteady)?.runs[0];
    expect(burst?.groups.filter((g) => withinShare(burstVsSteady, g)).map((g) => g.group)).toEqual([
      'steady',
    ]);
  });
});
