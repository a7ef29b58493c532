// The lab hands the core what the router would know at admission: each request's token estimate, modelled
// as its completion length (max_tokens = the actual length). Token fairness charges it at dispatch.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalScheduler } from '../../src/core/local-scheduler.ts';
import { generateRequests } from '../../lab/requests.ts';
import { simulate } from '../../lab/simulate.ts';
import { scenarioNamed } from './lab-runs.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('token estimate', () => {
  it('admits every request with its completion length as the token estimate', () => {
    const scenario = scenarioNamed('heavy-tail');
    const requests = generateRequests(scenario);
    const admit = vi.spyOn(LocalScheduler.prototype, 'admit');
    simulate(scenario, 'workload-aware+tokens', requests);
    const tokensById = new Map(requests.map((r) => [r.id, r.tokens]));
    expect(admit).toHaveBeenCalledTimes(requests.length);
    for (const [, requestId, , , tokenEstimate] of admit.mock.calls) {
      expect(tokenEstimate, requestId).toBe(tokensById.get(requestId));
    }
  });
});
