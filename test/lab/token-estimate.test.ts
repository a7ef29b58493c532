// The lab hands the core what the router would know at admission: each request's token estimate, modelled
// as its completion length (max_tokens = the actual length). Token fairness charges it at dispatch.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalScheduler } from '../../src/core/local-scheduler.ts';
import { generateRequests } from '../../lab/requests.ts';
import { simulate } from '../../lab/simulate.ts';
import { heavyTail } from '../../lab/scenarios/heavy-tail.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('token estimate', () => {
  it('admits every request with its completion length as the token estimate', () => {
    const requests = generateRequests(heavyTail);
    const admit = vi.spyOn(LocalScheduler.prototype, 'admit');
    simulate(heavyTail, 'workload-aware+tokens', requests);
    const tokensById = new Map(requests.map((r) => [r.id, r.tokens]));
    expect(admit).toHaveBeenCalledTimes(requests.length);
    for (const [, requestId, , , tokenEstimate] of admit.mock.calls) {
      expect(tokenEstimate, requestId).toBe(tokensById.get(requestId));
    }
  });
});
