// Whatever the policy, the simulation must account for every request exactly once and never run more
// requests on a backend than it has slots.

import { describe, expect, it } from 'vitest';
import { LAB_POLICIES } from '../../lab/policies.ts';
import { generateRequests } from '../../lab/requests.ts';
import { SCENARIOS } from '../../lab/scenarios.ts';
import { simulate } from '../../lab/simulate.ts';
import { expectSlotsNeverOversubscribed } from './lab-runs.ts';

describe.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', (_name, scenario) => {
  const requests = generateRequests(scenario);
  it.each(LAB_POLICIES)('%s: every request ends once; slots are never oversubscribed', (policy) => {
    const result = simulate(scenario, policy, requests);
    expect(result.records.length).toBe(requests.length);
    expect(new Set(result.records.map((r) => r.request.id)).size).toBe(requests.length);
    for (const r of result.records) {
      expect(r.outcome, r.request.id).not.toBeNull();
      if (r.outcome === 'success') expect(r.dispatchedAtMs).not.toBeNull();
      if (r.dispatchedAtMs !== null) expect(r.dispatchedAtMs).toBeGreaterThanOrEqual(r.request.arriveAtMs);
    }
    expectSlotsNeverOversubscribed(scenario.backends, result.records);
  });
});
