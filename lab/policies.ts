// The policies the lab compares: the core's configurable ones plus workload-aware with token fairness
// (POLICY=workload-aware, FAIRNESS=tokens), each built by the core's own factory with shipped defaults.

import { createPolicy, POLICY_NAMES, type Policy, type PolicyName } from '../src/core/policy/index.ts';

export type LabPolicyName = PolicyName | 'workload-aware+tokens';

export const LAB_POLICIES: readonly LabPolicyName[] = [...POLICY_NAMES, 'workload-aware+tokens'];

export function isLabPolicy(name: string): name is LabPolicyName {
  return (LAB_POLICIES as readonly string[]).includes(name);
}

/** Each policy with its defaults: the lab measures what the router ships. */
export function createLabPolicy(name: LabPolicyName): Policy {
  return name === 'workload-aware+tokens'
    ? createPolicy('workload-aware', { fairness: 'tokens' })
    : createPolicy(name);
}
