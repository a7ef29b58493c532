// The policies the lab compares: exactly the core's configurable ones, built by the core's own factory.
// Seam for token fairness: the core has no token policy yet. When it adds one to POLICY_NAMES the lab
// runs it too, and simulate.ts already knows each request's length should the policy need an estimate.

import { createPolicy, POLICY_NAMES, type Policy, type PolicyName } from '../src/core/policy/index.ts';

export const LAB_POLICIES: readonly PolicyName[] = POLICY_NAMES;

export function isLabPolicy(name: string): name is PolicyName {
  return (LAB_POLICIES as readonly string[]).includes(name);
}

/** Each policy with its defaults: the lab measures what the router ships. */
export function createLabPolicy(name: PolicyName): Policy {
  return createPolicy(name);
}
