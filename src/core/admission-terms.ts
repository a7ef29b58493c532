// Which limits and share weight a request's workload is admitted under: configuration per workload
// (WORKLOAD_LIMITS, WORKLOAD_WEIGHTS), overridden by the API key the request was made with. Pure; the
// route spreads the result into its AdmitRequest.

import type { WorkloadLimits } from './workload-limits.ts';

/** The per-workload maps from configuration (own keys only count: see workloadWeight). */
export interface ConfiguredTerms {
  readonly workloadLimits: Readonly<Record<string, WorkloadLimits>>;
  readonly workloadWeights: Readonly<Record<string, number>>;
}

/** What an API key adds, when the request was made with one. */
export interface KeyTerms {
  readonly limits: WorkloadLimits;
  readonly weight: number | null;
}

/** The key's weight, else the configured one, else undefined for the core's default (DEFAULT_WORKLOAD_WEIGHT). */
export function workloadWeight(
  config: Pick<ConfiguredTerms, 'workloadWeights'>,
  workloadId: string,
  keyWeight: number | null = null,
): number | undefined {
  if (keyWeight !== null) return keyWeight;
  return Object.hasOwn(config.workloadWeights, workloadId) ? config.workloadWeights[workloadId] : undefined;
}

/**
 * The AdmitRequest fields for limits and weight. Limits: the configured ones, overridden field by field
 * by the key's; absent when neither exists, so a keyless request leaves limits a key set as they are.
 * Weight: absent for the default, so unweighted messages stay as they were.
 */
export function admissionTerms(
  config: ConfiguredTerms,
  workloadId: string,
  key: KeyTerms | null,
): { limits?: WorkloadLimits; weight?: number } {
  const configured = Object.hasOwn(config.workloadLimits, workloadId)
    ? config.workloadLimits[workloadId]
    : undefined;
  const limits = key ? { ...configured, ...key.limits } : configured;
  const weight = workloadWeight(config, workloadId, key?.weight ?? null);
  return { ...(limits ? { limits } : {}), ...(weight === undefined ? {} : { weight }) };
}
