// Turns a scenario into its request list, once, so every policy is run against identical requests.

import { arrivalTimesMs } from './arrivals.ts';
import { deriveRng } from './prng.ts';
import { groupOf, seriesOf, type Scenario } from './scenario.ts';
import { drawTokens } from './token-lengths.ts';

export interface SimRequest {
  readonly id: string;
  readonly workloadId: string;
  readonly group: string;
  readonly series: string;
  readonly criticality: number;
  readonly arriveAtMs: number;
  /** Completion length: how long the request will hold its slot once dispatched. */
  readonly tokens: number;
}

/** Requests in arrival order; simultaneous arrivals keep the scenario's workload order. */
export function generateRequests(scenario: Scenario): SimRequest[] {
  const all: SimRequest[] = [];
  for (const w of scenario.workloads) {
    const arrivalRng = deriveRng(scenario.seed, `${w.id}/arrivals`);
    const tokenRng = deriveRng(scenario.seed, `${w.id}/tokens`);
    const lengths = w.tokens ?? scenario.tokens;
    arrivalTimesMs(w.arrivals, arrivalRng).forEach((arriveAtMs, i) => {
      all.push({
        id: `${w.id}/${i}`,
        workloadId: w.id,
        group: groupOf(w),
        series: seriesOf(w),
        criticality: w.criticality,
        arriveAtMs,
        tokens: drawTokens(lengths, tokenRng),
      });
    });
  }
  // Array.prototype.sort is stable, so equal times keep workload order.
  return all.sort((a, b) => a.arriveAtMs - b.arriveAtMs);
}
