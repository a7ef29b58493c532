// The vocabulary the scenarios' findings (lab/scenarios/*.ts) are written in: group lookups typed by a
// scenario's group IDs, the number formats the report shares, and the thresholds the prose uses.

import { DEFAULT_AGING_HORIZON_MS, DEFAULT_CRITICALITY_STEP_MS } from '../src/core/defaults.ts';
import type { LabPolicyName } from './policies.ts';
import type { GroupSummary, RunSummary } from './summarize.ts';

export const H_SEC = DEFAULT_AGING_HORIZON_MS / 1000;
export const STEP_SEC = DEFAULT_CRITICALITY_STEP_MS / 1000;
/** Two p95 waits this close are "the same" for the prose. */
export const NEAR_MS = 1000;
export const WA: LabPolicyName = 'workload-aware';
export const WA_TOKENS: LabPolicyName = 'workload-aware+tokens';

/** A group the scenario's type declares but the run lacks is a bug in the scenario: throws. */
export function group<G extends string>(run: RunSummary<G>, id: NoInfer<G>): GroupSummary<G> {
  const g = run.groups.find((x) => x.group === id);
  if (!g) throw new Error(`findings: ${run.scenario}/${run.policy} has no group ${id}`);
  return g;
}

export function requestShare<G extends string>(run: RunSummary<G>, ids: readonly NoInfer<G>[]): number {
  return ids.reduce((sum, id) => sum + group(run, id).requestShare, 0);
}

export function tokenShare<G extends string>(run: RunSummary<G>, ids: readonly NoInfer<G>[]): number {
  return ids.reduce((sum, id) => sum + group(run, id).tokenShare, 0);
}

export function near(a: number | null, b: number | null): boolean {
  return a !== null && b !== null && Math.abs(a - b) <= NEAR_MS;
}

export function sec(ms: number | null): string {
  return ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}

export function num(value: number | null, digits: number): string {
  return value === null || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

export function pct(share: number | null): string {
  return share === null ? 'n/a' : `${(share * 100).toFixed(1)}%`;
}
