// Issue 11's targets for the default configuration, computed from the runs: each target says what it
// checks, the figure measured and whether it holds. The report prints them; test/lab/targets.test.ts
// asserts every one holds, so a change that breaks one fails the build, not just the prose.

import { DEFAULT_AGING_HORIZON_MS } from '../src/core/defaults.ts';
import { serviceTimeMs } from './backend-model.ts';
import { group, num, pct, sec } from './findings.ts';
import { DEFAULT_LAB_POLICY, type LabPolicyName } from './policies.ts';
import { groupOf, type Scenario } from './scenario.ts';
import { EQUAL_SHARE_TOLERANCE, OVER_ASKING_ESTIMATES } from './scenarios/over-asking.ts';
import { WEIGHT_SHARE_TOLERANCE, WEIGHTS, type WeightedGroup } from './scenarios/weighted.ts';
import type { GroupSummary, RunSummary } from './summarize.ts';

export const MANY_TENANTS_JAIN_TARGET = 0.95;

export interface TargetResult {
  readonly target: string;
  readonly measured: string;
  readonly holds: boolean;
}

interface Runs {
  readonly scenario: Scenario;
  readonly runs: readonly RunSummary[];
}

/** Mean slot time of a group's requests on the scenario's first backend model. */
export function meanServiceMs(scenario: Scenario, g: GroupSummary): number {
  const backend = scenario.backends[0];
  if (!backend) throw new Error(`targets: ${scenario.name} has no backend`);
  return serviceTimeMs(backend, g.meanTokens);
}

/**
 * Tokens per second a group asks for, from its workloads' arrival patterns and mean length: a burst asks
 * for everything at once (Infinity).
 */
function offeredTokensPerSec(scenario: Scenario, g: GroupSummary): number {
  let reqPerSec = 0;
  for (const w of scenario.workloads) {
    if (groupOf(w) !== g.group) continue;
    const a = w.arrivals;
    reqPerSec += a.kind === 'poisson' ? a.ratePerSec : a.kind === 'periodic' ? 1000 / a.intervalMs : Infinity;
  }
  return reqPerSec * g.meanTokens;
}

/**
 * A group within its share asks for no more tokens per second than an equal (weighted) share of what the
 * backends generate. The FCFS comparison applies to these: a tenant that asks for more than its share
 * (the burst, the writers, a backlogged tenant) or ranks below another's criticality is the one whose
 * wait a fair policy is meant to move, and waits are zero-sum, so no policy can leave them all where FCFS
 * puts them and still protect anyone.
 */
export function withinShare(scenario: Scenario, g: GroupSummary): boolean {
  const capacity = scenario.backends.reduce((sum, b) => sum + (b.slots * 1000) / b.perTokenMs, 0);
  const weightOf = (w: Scenario['workloads'][number]): number => w.weight ?? 1;
  const total = scenario.workloads.reduce((sum, w) => sum + weightOf(w), 0);
  const mine = scenario.workloads.filter((w) => groupOf(w) === g.group).reduce((s, w) => s + weightOf(w), 0);
  return offeredTokensPerSec(scenario, g) <= (capacity * mine) / total;
}

function runOf(r: Runs, policy: LabPolicyName): RunSummary | undefined {
  return r.runs.find((run) => run.policy === policy);
}

export function evaluateTargets(results: readonly Runs[]): TargetResult[] {
  const out: TargetResult[] = [];
  const byName = new Map(results.map((r) => [r.scenario.name, r]));
  const def = (name: string): RunSummary | undefined => {
    const r = byName.get(name);
    return r ? runOf(r, DEFAULT_LAB_POLICY) : undefined;
  };

  const many = def('many-tenants');
  if (many) {
    out.push({
      target: `many-tenants: Jain ≥ ${MANY_TENANTS_JAIN_TARGET}`,
      measured: num(many.jain, 3),
      holds: (many.jain ?? 0) >= MANY_TENANTS_JAIN_TARGET,
    });
  }

  for (const r of results) {
    const mine = runOf(r, DEFAULT_LAB_POLICY);
    const fcfs = runOf(r, 'fcfs');
    if (!mine || !fcfs) continue;
    const checked = mine.groups.filter((g) => withinShare(r.scenario, g));
    let worst: { group: string; over: number; allowance: number } | null = null;
    for (const g of checked) {
      const base = fcfs.groups.find((x) => x.group === g.group);
      const over = (g.waitP95Ms ?? 0) - (base?.waitP95Ms ?? 0);
      const allowance = meanServiceMs(r.scenario, g);
      if (worst === null || over - allowance > worst.over - worst.allowance) {
        worst = { group: g.group, over, allowance };
      }
    }
    out.push({
      target: `${r.scenario.name}: no tenant within its share has a p95 wait worse than fcfs by more than one service time`,
      measured:
        worst === null
          ? 'no tenant within its share'
          : `${checked.length} of ${mine.groups.length} groups within their share; closest: ${worst.group} ` +
            `${worst.over >= 0 ? '+' : '−'}${sec(Math.abs(worst.over))} vs fcfs (allowed +${sec(worst.allowance)})`,
      holds: worst === null || worst.over <= worst.allowance,
    });
  }

  const reference = def('reference-criticality');
  if (reference) {
    const [c5, c3, c1] = (['crit5', 'crit3', 'crit1'] as const).map(
      (id) =>
        group(reference as RunSummary<'crit5' | 'crit3' | 'crit1'>, id).meanCompletionPosition ?? Infinity,
    ) as [number, number, number];
    out.push({
      target: 'reference-criticality: criticality 5 finishes first, then 3, then 1',
      measured: `mean completion position ${num(c5, 1)} / ${num(c3, 1)} / ${num(c1, 1)}`,
      holds: c5 < c3 && c3 < c1,
    });
  }

  const starvationRuns = byName.get('starvation');
  const starving = def('starvation');
  if (starvationRuns && starving) {
    const trickle = group(starving as RunSummary<'trickle'>, 'trickle');
    const limit = DEFAULT_AGING_HORIZON_MS + meanServiceMs(starvationRuns.scenario, trickle);
    out.push({
      target: 'starvation: no trickle request evicted; its longest wait ≤ horizon + one service time',
      measured: `${trickle.evictedTtl} evicted, max wait ${sec(trickle.waitMaxMs)} (limit ${sec(limit)})`,
      holds: trickle.evictedTtl === 0 && (trickle.waitMaxMs ?? Infinity) <= limit,
    });
  }

  const burst = def('burst-vs-steady');
  const burstFcfs = byName.get('burst-vs-steady');
  const fcfsBurst = burstFcfs ? runOf(burstFcfs, 'fcfs') : undefined;
  if (burst && fcfsBurst) {
    type B = 'steady' | 'burst';
    const p95 = (run: RunSummary, id: B): number => group(run as RunSummary<B>, id).waitP95Ms ?? Infinity;
    out.push({
      target:
        'burst-vs-steady: the steady tenant keeps its service (p95 under a quarter of fcfs’s and of the burst’s)',
      measured: `steady p95 ${sec(p95(burst, 'steady'))}, fcfs ${sec(p95(fcfsBurst, 'steady'))}, burst ${sec(p95(burst, 'burst'))}`,
      holds:
        4 * p95(burst, 'steady') < p95(fcfsBurst, 'steady') && 4 * p95(burst, 'steady') < p95(burst, 'burst'),
    });
  }

  const overRuns = byName.get('over-asking');
  const over = def('over-asking');
  const overEstimates = overRuns ? runOf(overRuns, OVER_ASKING_ESTIMATES) : undefined;
  if (over && overEstimates) {
    type O = 'over-asker' | 'exact';
    const share = (run: RunSummary): number =>
      group(run as RunSummary<O>, 'over-asker').activeTokenShare ?? 0;
    out.push({
      target: `over-asking: the over-asker’s active token share is within ${pct(EQUAL_SHARE_TOLERANCE)} of half; charging estimates only misallocates (under a third)`,
      measured: `${pct(share(over))} (estimates only: ${pct(share(overEstimates))})`,
      holds: Math.abs(share(over) - 0.5) <= EQUAL_SHARE_TOLERANCE && share(overEstimates) < 1 / 3,
    });
  }

  const weighted = def('weighted');
  if (weighted) {
    const ids = Object.keys(WEIGHTS) as WeightedGroup[];
    const shares = ids.map((id) => group(weighted as RunSummary<WeightedGroup>, id).activeTokenShare ?? 0);
    const errors = ids.map((id, i) => Math.abs((shares[i] as number) / (WEIGHTS[id] / 7) - 1));
    out.push({
      target: `weighted: active token shares within ${pct(WEIGHT_SHARE_TOLERANCE)} (relative) of 1 : 2 : 4`,
      measured: `${shares.map(pct).join(' / ')} (largest relative error ${pct(Math.max(...errors))})`,
      holds: errors.every((e) => e <= WEIGHT_SHARE_TOLERANCE),
    });
  }
  return out;
}
