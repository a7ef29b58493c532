// Whatever the policy, the simulation must account for every request exactly once and never run more
// requests on a backend than it has slots.

import { describe, expect, it } from 'vitest';
import { LAB_POLICIES } from '../../lab/policies.ts';
import { generateRequests } from '../../lab/requests.ts';
import { SCENARIOS } from '../../lab/scenarios.ts';
import { simulate } from '../../lab/simulate.ts';

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
    for (const backend of scenario.backends) {
      const edges: Array<[number, number]> = [];
      for (const r of result.records) {
        if (r.backend !== backend.name || r.dispatchedAtMs === null || r.endedAtMs === null) continue;
        edges.push([r.dispatchedAtMs, 1], [r.endedAtMs, -1]);
      }
      // Ends before starts at the same instant: a freed slot may be reused at once.
      edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let inFlight = 0;
      for (const [, delta] of edges) {
        inFlight += delta;
        expect(inFlight).toBeLessThanOrEqual(backend.slots);
      }
    }
  });
});
