// Why start-time fair queuing over tokens (workload-aware+tokens) can order tenants close to oldest first,
// in a sentence built from a scenario's own load and backends. Used by the findings of several scenarios.

import type { ArrivalPattern } from './arrivals.ts';
import type { BackendModel } from './backend-model.ts';
import { group } from './findings.ts';
import { groupOf, type Scenario } from './scenario.ts';
import type { RunSummary } from './summarize.ts';

/**
 * Token fairness is start-time fair queuing over tokens (see src/core/dispatcher.ts): a workload joining
 * the backlog starts at the later of its finish tag (its last granted tag + that request's tokens) and the
 * join level (the smallest start tag waiting, or the last granted one when none waits); among equal
 * criticality the lower tag goes first, ties oldest first. A workload that asks for well under an equal
 * share of the backends' tokens has usually drained its queue and been passed by the join level before its
 * next request, so that head starts at the join level, and heads that start there go in the order they
 * were offered. Returns that explanation when every
 * listed group (each one workload) asks for less than half an equal share on average (mean tokens / mean
 * arrival gap), else null.
 */
export function lightTokenDemand<G extends string>(
  scenario: Scenario<G>,
  run: RunSummary<G>,
  ids: readonly NoInfer<G>[],
): string | null {
  const demands = ids.map((id) => {
    const members = scenario.workloads.filter((w) => groupOf(w) === id);
    const w = members[0];
    if (!w || members.length > 1)
      throw new Error(`findings: ${scenario.name}: group ${id} is not one workload`);
    const gapMs = meanArrivalGapMs(w.arrivals);
    return gapMs === 0 ? Infinity : (group(run, id).meanTokens * 1000) / gapMs;
  });
  const shareTokensPerSec = tokenRatePerSec(scenario.backends) / ids.length;
  if (demands.some((d) => d * 2 >= shareTokensPerSec)) return null;
  const rounded = demands.map(Math.round);
  const [lo, hi] = [Math.min(...rounded), Math.max(...rounded)];
  return (
    `each tenant asks for ${lo === hi ? lo : `${lo}–${hi}`} tokens/s on average, under half an equal share of ` +
    `the backends’ ${Math.round(tokenRatePerSec(scenario.backends))} tokens/s, so the join level usually ` +
    'passes a tenant’s finish tag before its next request arrives; that head then starts at the join level, ' +
    'and heads that start there go in the order they were offered, close to oldest first'
  );
}

/** Tokens per second the backends generate with every slot busy, time to first token aside. */
function tokenRatePerSec(backends: readonly BackendModel[]): number {
  return backends.reduce((sum, b) => sum + (b.slots * 1000) / b.perTokenMs, 0);
}

function meanArrivalGapMs(arrivals: ArrivalPattern): number {
  switch (arrivals.kind) {
    case 'periodic':
      return arrivals.intervalMs;
    case 'burst':
      return 0;
    case 'poisson':
      return 1000 / arrivals.ratePerSec;
  }
}
