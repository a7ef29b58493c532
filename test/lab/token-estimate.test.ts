// The lab hands the core what the router would know at admission: each request's token estimate, its
// client's max_tokens (the lab's prompts are empty), never less than what it will generate; and at the end
// the usage the backend reports, the generated length. Token fairness charges the one and trues up to the other.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalScheduler } from '../../src/core/local-scheduler.ts';
import { generateRequests } from '../../lab/requests.ts';
import { simulate } from '../../lab/simulate.ts';
import { heavyTail } from '../../lab/scenarios/heavy-tail.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('token estimate', () => {
  it('admits every request with its max_tokens as the token estimate, at least its generated length', () => {
    const requests = generateRequests(heavyTail);
    const admit = vi.spyOn(LocalScheduler.prototype, 'admit');
    simulate(heavyTail, 'workload-aware+tokens', requests);
    const byId = new Map(requests.map((r) => [r.id, r]));
    expect(admit).toHaveBeenCalledTimes(requests.length);
    for (const [, requestId, , , tokenEstimate] of admit.mock.calls) {
      const r = byId.get(requestId);
      expect(tokenEstimate, requestId).toBe(r?.maxTokens);
      expect(r!.maxTokens).toBeGreaterThanOrEqual(r!.tokens);
    }
    // max_tokens is the distribution's cap: 1,000 for chat, 8,000 for the writers.
    expect(new Set(requests.map((r) => r.maxTokens))).toEqual(new Set([1_000, 8_000]));
  });

  it('reports each completion’s generated length as its usage, except when charging estimates only', () => {
    const requests = generateRequests(heavyTail);
    const complete = vi.spyOn(LocalScheduler.prototype, 'complete');
    simulate(heavyTail, 'workload-aware+tokens', requests);
    const tokensById = new Map(requests.map((r) => [r.id, r.tokens]));
    for (const [, requestId, , , usage] of complete.mock.calls) {
      expect(usage, requestId).toEqual({ promptTokens: 0, completionTokens: tokensById.get(requestId) });
    }
    complete.mockClear();
    simulate(heavyTail, 'workload-aware+estimates', requests);
    expect(complete.mock.calls.every(([, , , , usage]) => usage === undefined)).toBe(true);
  });
});
