// The findings' conditional branches that the shipped runs do not reach, fed synthetic summaries: their
// prose must still describe start-time fair queuing over tokens (a retired design once lived on in them).

import { describe, expect, it } from 'vitest';
import type { LabPolicyName } from '../../lab/policies.ts';
import type { Runs } from '../../lab/scenario.ts';
import { burstVsSteady, type BurstVsSteadyGroup } from '../../lab/scenarios/burst-vs-steady.ts';
import { heavyTail, type HeavyTailGroup } from '../../lab/scenarios/heavy-tail.ts';
import type { GroupSummary, RunSummary } from '../../lab/summarize.ts';
import { lightTokenDemand } from '../../lab/token-fairness-prose.ts';

type GroupFigures = Partial<Omit<GroupSummary, 'group'>>;

function fakeRun<G extends string>(policy: LabPolicyName, groups: Record<G, GroupFigures>): RunSummary<G> {
  const entries = Object.entries(groups) as [G, GroupFigures][];
  return {
    scenario: 'synthetic',
    policy,
    groups: entries.map(([group, figures]) => ({
      group,
      criticality: 3,
      workloads: 1,
      requests: 10,
      completed: 10,
      evictedTtl: 0,
      rejected: 0,
      waitP50Ms: 0,
      waitP95Ms: 0,
      waitP99Ms: 0,
      waitMaxMs: 0,
      meanCompletionPosition: null,
      requestShare: 1 / entries.length,
      tokenShare: 1 / entries.length,
      meanTokens: 30,
      maxTokens: 30,
      meanMaxTokens: 30,
      activeTokenShare: null,
      ...figures,
    })),
    requests: 10 * entries.length,
    completed: 10 * entries.length,
    evictedTtl: 0,
    rejected: 0,
    endMs: 60_000,
    peakReadyWorkloads: entries.length,
    throughputReqPerSec: 1,
    throughputTokensPerSec: 30,
    jain: 1,
    activeJain: null,
    lowestCriticality: 3,
    lowestCriticalityMaxWaitMs: 0,
    lowestCriticalityEvicted: 0,
  };
}

function runsOf<G extends string>(...runs: RunSummary<G>[]): Runs<G> {
  return new Map(runs.map((r) => [r.policy, r]));
}

describe('burst-vs-steady findings', () => {
  const steadyLikeFcfs = (steadyTokens: number): string[] => {
    const groups = (steadyP95Ms: number): Record<BurstVsSteadyGroup, GroupFigures> => ({
      steady: { waitP95Ms: steadyP95Ms, meanTokens: steadyTokens },
      burst: { waitP95Ms: 6000, meanTokens: 30 },
    });
    return burstVsSteady.findings(
      runsOf(fakeRun('fcfs', groups(5000)), fakeRun('workload-aware+tokens', groups(5200))),
    );
  };

  it('explains a steady tenant served as under fcfs by finish tags advancing per token', () => {
    const line = steadyLikeFcfs(90).find((l) => l.startsWith('Under workload-aware+tokens'));
    expect(line).toContain('waits as under fcfs (p95 5.2 s vs 5.0 s)');
    expect(line).toContain('finish tag forward by its request’s tokens (burst 30, steady 90 on average)');
    expect(line).toContain('granted about 3.0 requests per steady one');
    expect(line).not.toMatch(/service mark/);
  });

  it('makes no claim about tags when both tenants ask for the same tokens per request', () => {
    const line = steadyLikeFcfs(30).find((l) => l.startsWith('Under workload-aware+tokens'));
    expect(line).toContain('waits as under fcfs');
    expect(line).not.toContain('tag');
  });
});

describe('lightTokenDemand (heavy-tail)', () => {
  const run = (writerTokens: number): RunSummary<HeavyTailGroup> =>
    fakeRun('workload-aware+tokens', {
      'chat-a': { meanTokens: 60 },
      'chat-b': { meanTokens: 60 },
      'writer-a': { meanTokens: writerTokens },
      'writer-b': { meanTokens: writerTokens },
    });
  const all: HeavyTailGroup[] = ['chat-a', 'chat-b', 'writer-a', 'writer-b'];

  it('explains oldest-first order by heads starting at the virtual time when every tenant asks little', () => {
    // 0.45 req/s: 27 and 36 tokens/s against an equal share of 8 slots × 40 tokens/s / 4 = 80 tokens/s.
    const text = lightTokenDemand(heavyTail, run(80), all);
    expect(text).toBe(
      'each tenant asks for 27–36 tokens/s on average, under half an equal share of the backends’ 320 tokens/s, ' +
        'so the join level usually passes a tenant’s finish tag before its next request arrives; that head then ' +
        'starts at the join level, and heads that start there go in the order they were offered, close to ' +
        'oldest first',
    );
  });

  it('says nothing when a tenant asks for half an equal share or more', () => {
    expect(lightTokenDemand(heavyTail, run(205), all)).toBeNull();
  });
});
