// The sharded pool simulation's invariants: every request is accounted for once, no backend runs more
// requests than it has slots whichever shard holds them, one shard with instant calls is exactly the
// lab's single coordinator, and the overdue tier still crosses shards (the starvation bound).

import { describe, expect, it } from 'vitest';
import { DEFAULT_AGING_HORIZON_MS } from '../../../src/core/defaults.ts';
import { generateRequests } from '../../../lab/requests.ts';
import { simulate } from '../../../lab/simulate.ts';
import { waitFigures } from '../../../lab/sharding/measure.ts';
import { labScenario } from '../../../lab/sharding/scenarios.ts';
import type { ShardingConfig } from '../../../lab/sharding/sharded-run.ts';
import { simulateSharded } from '../../../lab/sharding/simulate-sharded.ts';
import { expectSlotsNeverOversubscribed } from '../lab-runs.ts';

const SMALL = ['reference-criticality', 'starvation', 'burst-vs-steady', 'heavy-tail'].map(labScenario);

const CONFIGS: readonly ShardingConfig[] = [
  { shards: 2, batch: 1, rpcMs: 0, checkInMs: 50, yieldRule: 'strict' },
  { shards: 3, batch: 4, rpcMs: 7, checkInMs: 100, yieldRule: 'strict' },
  { shards: 4, batch: 2, rpcMs: 25, checkInMs: 500, yieldRule: 'waterline' },
];

describe.each(SMALL.map((s) => [s.name, s] as const))('%s', (_name, s) => {
  const requests = generateRequests(s);
  const total = s.backends.reduce((n, b) => n + b.slots, 0);

  it('one shard, instant calls, a batch of every slot: the single coordinator, request for request', () => {
    const single = simulate(s, 'workload-aware', requests);
    const sharded = simulateSharded(
      s,
      { shards: 1, batch: total, rpcMs: 0, checkInMs: 100, yieldRule: 'strict' },
      requests,
    );
    const byId = new Map(sharded.records.map((r) => [r.request.id, r]));
    for (const r of single.records) {
      const other = byId.get(r.request.id);
      expect({ id: r.request.id, at: other?.dispatchedAtMs, outcome: other?.outcome }).toEqual({
        id: r.request.id,
        at: r.dispatchedAtMs,
        outcome: r.outcome,
      });
    }
    expect(sharded.records.some((r) => r.inverted)).toBe(false);
  });

  it.each(
    CONFIGS.map((c) => [`${c.shards} shards, batch ${c.batch}, ${c.rpcMs} ms, ${c.yieldRule}`, c] as const),
  )(
    '%s: every request ends once, dispatched at most once, and no backend is over-booked',
    (_label, config) => {
      const result = simulateSharded(s, config, requests);
      expect(result.records.length).toBe(requests.length);
      const dispatchedIds = result.order.map(([id]) => id);
      expect(new Set(dispatchedIds).size).toBe(dispatchedIds.length);
      for (const r of result.records) {
        expect(r.outcome, r.request.id).not.toBeNull();
        expect(r.outcome === 'success', r.request.id).toBe(r.dispatchedAtMs !== null);
        if (r.dispatchedAtMs !== null) expect(r.dispatchedAtMs).toBeGreaterThanOrEqual(r.request.arriveAtMs);
      }
      expect(dispatchedIds.length).toBe(result.records.filter((r) => r.dispatchedAtMs !== null).length);
      expectSlotsNeverOversubscribed(s.backends, result.records);
    },
  );

  it('is deterministic', () => {
    const config = CONFIGS[1] as ShardingConfig;
    expect(simulateSharded(s, config, requests)).toEqual(simulateSharded(s, config, requests));
  });
});

describe('the starvation bound across shards', () => {
  const s = labScenario('starvation');
  const requests = generateRequests(s);
  // The single coordinator serves the criticality-1 trickle within about a second of the horizon (one
  // request's service time of 2.2 s at most); the shards may add a check-in and a few calls to that.
  const BOUND_MS = DEFAULT_AGING_HORIZON_MS + 3_000;

  it('holds for the single coordinator (the reference)', () => {
    const single = waitFigures(simulate(s, 'workload-aware', requests).records, DEFAULT_AGING_HORIZON_MS);
    expect(single.lowestCriticalityWaitMaxMs).toBeLessThanOrEqual(BOUND_MS);
  });

  it.each(['strict', 'waterline'] as const)(
    '%s: an overdue head on one shard gets the next slot freed on another',
    (yieldRule) => {
      for (const shards of [2, 3, 4]) {
        const result = simulateSharded(
          s,
          { shards, batch: 1, rpcMs: 10, checkInMs: 100, yieldRule },
          requests,
        );
        const figures = waitFigures(result.records, DEFAULT_AGING_HORIZON_MS);
        expect(figures.evicted, `${shards} shards`).toBe(0);
        expect(figures.lowestCriticalityWaitMaxMs, `${shards} shards`).toBeLessThanOrEqual(BOUND_MS);
      }
    },
  );
});

describe('configuration', () => {
  const s = labScenario('reference-criticality');
  it.each([
    [{ shards: 0 }, /shards/],
    [{ batch: 0 }, /batch/],
    [{ rpcMs: -1 }, /rpcMs/],
    [{ checkInMs: 0 }, /checkInMs/],
  ] as const)('%o is refused with a TypeError naming the field', (bad, field) => {
    const config = { shards: 2, batch: 1, rpcMs: 0, checkInMs: 100, yieldRule: 'strict' as const, ...bad };
    expect(() => simulateSharded(s, config)).toThrow(TypeError);
    expect(() => simulateSharded(s, config)).toThrow(field);
  });
});
