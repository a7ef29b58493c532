// heavy-tail: writers send about half the requests but most of the tokens. Counting requests, the chat
// tenants wait behind generations that fill the slots; charging tokens (FAIRNESS=tokens) puts them ahead.

import { describe, expect, it } from 'vitest';
import { heavyTail, type HeavyTailGroup } from '../../lab/scenarios/heavy-tail.ts';
import { groupOf, runOf, runScenario } from './lab-runs.ts';

const runs = runScenario(heavyTail);
const p95 = (policy: 'workload-aware' | 'workload-aware+tokens', workload: HeavyTailGroup): number =>
  groupOf(runOf(runs, policy), workload).waitP95Ms ?? Infinity;

describe('heavy-tail', () => {
  it('token fairness lowers both chat tenants’ p95 wait compared with request fairness', () => {
    for (const chat of ['chat-a', 'chat-b'] as const) {
      expect(p95('workload-aware+tokens', chat)).toBeLessThan(p95('workload-aware', chat));
    }
  });

  it('token fairness still evicts nothing: the writers it holds back are rescued by the horizon', () => {
    expect(runOf(runs, 'workload-aware+tokens').summary.evictedTtl).toBe(0);
  });
});
