// A workload's share weight for the request being admitted. The one place the route asks: today it comes
// from WORKLOAD_WEIGHTS; an authenticated principal's weight (API keys) belongs here too, ahead of config.

import type { SluiceConfig } from './config.ts';

/** The configured weight, or undefined for the core's default (DEFAULT_WORKLOAD_WEIGHT). */
export function workloadWeight(
  config: Pick<SluiceConfig, 'workloadWeights'>,
  workloadId: string,
): number | undefined {
  return Object.hasOwn(config.workloadWeights, workloadId) ? config.workloadWeights[workloadId] : undefined;
}

/** Spreads into an AdmitRequest: no field at all for the default, so unweighted messages stay as they were. */
export function weightField(weight: number | undefined): { weight?: number } {
  return weight === undefined ? {} : { weight };
}
