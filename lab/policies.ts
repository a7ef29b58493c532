// The policies the lab compares: the core's configurable ones, each built by the core's own factory with
// shipped defaults: workload-aware's two fairness modes, token fairness charging estimates only (no usage
// reported), and token fairness as it was before issue 11 (the "before" of its policy change).

import { createPolicy, DEFAULT_WORKLOAD_AWARE_PARAMS, type Policy } from '../src/core/policy/index.ts';

export const LAB_POLICIES = [
  'fcfs',
  'seed',
  'workload-aware',
  'workload-aware+tokens',
  'workload-aware+estimates',
  'workload-aware+tokens-legacy',
] as const;
export type LabPolicyName = (typeof LAB_POLICIES)[number];

export function isLabPolicy(name: string): name is LabPolicyName {
  return (LAB_POLICIES as readonly string[]).includes(name);
}

/** Each policy with its defaults: the lab measures what the router ships. */
export function createLabPolicy(name: LabPolicyName): Policy {
  switch (name) {
    case 'fcfs':
    case 'seed':
      return createPolicy(name);
    case 'workload-aware':
      return createPolicy('workload-aware', { fairness: 'requests' });
    case 'workload-aware+tokens':
    case 'workload-aware+estimates':
    case 'workload-aware+tokens-legacy':
      return createPolicy('workload-aware', { fairness: 'tokens' });
  }
}

/** Dispatcher options beyond the policy: the legacy run keeps the pre-issue-11 token tags. */
export function legacyTokenTags(name: LabPolicyName): boolean {
  return name === 'workload-aware+tokens-legacy';
}

/** Whether the lab reports each completion's usage to the core (the router does, when the backend sends it). */
export function chargesUsage(name: LabPolicyName): boolean {
  return name !== 'workload-aware+estimates';
}

/** The lab policy that is the router's default configuration (POLICY and FAIRNESS unset). */
export const DEFAULT_LAB_POLICY: LabPolicyName =
  DEFAULT_WORKLOAD_AWARE_PARAMS.fairness === 'tokens' ? 'workload-aware+tokens' : 'workload-aware';

/** The policy as the report names it: the default configuration's rows say so. */
export function policyLabel(name: LabPolicyName): string {
  return name === DEFAULT_LAB_POLICY ? `${name} (default)` : name;
}
