// Turns a scenario into its request list, once, so every policy is run against identical requests.

import { arrivalTimesMs } from './arrivals.ts';
import { deriveRng } from './prng.ts';
import { groupOf, seriesOf, type Scenario } from './scenario.ts';
import { DEFAULT_MAX_TOKENS_MODEL, drawTokens, maxTokensFor } from './token-lengths.ts';

export interface SimRequest {
  readonly id: string;
  readonly workloadId: string;
  readonly group: string;
  readonly series: string;
  readonly criticality: number;
  readonly arriveAtMs: number;
  /** Completion length: how long the request will hold its slot once dispatched, and its usage. */
  readonly tokens: number;
  /** What its client asks for (≥ tokens): the router's token estimate (the lab's prompts are empty). */
  readonly maxTokens: number;
  /** Its workload's share weight, when the scenario gives one. */
  readonly weight?: number;
}

/** Requests in arrival order; simultaneous arrivals keep the scenario's workload order. */
export function generateRequests(scenario: Scenario): SimRequest[] {
  const all: SimRequest[] = [];
  for (const w of scenario.workloads) {
    const arrivalRng = deriveRng(scenario.seed, `${w.id}/arrivals`);
    const tokenRng = deriveRng(scenario.seed, `${w.id}/tokens`);
    const lengths = w.tokens ?? scenario.tokens;
    const asks = w.maxTokens ?? DEFAULT_MAX_TOKENS_MODEL;
    arrivalTimesMs(w.arrivals, arrivalRng).forEach((arriveAtMs, i) => {
      const tokens = drawTokens(lengths, tokenRng);
      all.push({
        id: `${w.id}/${i}`,
        workloadId: w.id,
        group: groupOf(w),
        series: seriesOf(w),
        criticality: w.criticality,
        arriveAtMs,
        tokens,
        maxTokens: maxTokensFor(asks, lengths, tokens),
        ...(w.weight !== undefined ? { weight: w.weight } : {}),
      });
    });
  }
  // Array.prototype.sort is stable, so equal times keep workload order.
  return all.sort((a, b) => a.arriveAtMs - b.arriveAtMs);
}
