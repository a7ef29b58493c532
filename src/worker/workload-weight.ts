// A workload's share weight for the request being admitted. The one place the route asks: the API key's
// weight when the request was authenticated with a key that has one, else WORKLOAD_WEIGHTS.

import type { SluiceConfig } from './config.ts';

/** The key's weight, else the configured one, else undefined for the core's default (DEFAULT_WORKLOAD_WEIGHT). */
export function workloadWeight(
  config: Pick<SluiceConfig, 'workloadWeights'>,
  workloadId: string,
  keyWeight: number | null = null,
): number | undefined {
  if (keyWeight !== null) return keyWeight;
  return Object.hasOwn(config.workloadWeights, workloadId) ? config.workloadWeights[workloadId] : undefined;
}

/** Spreads into an AdmitRequest: no field at all for the default, so unweighted messages stay as they were. */
export function weightField(weight: number | undefined): { weight?: number } {
  return weight === undefined ? {} : { weight };
}
