// Policy lookup by configured name.

import { createFcfsPolicy } from './fcfs.ts';
import { createSeedPolicy } from './seed.ts';
import type { Policy, PolicyName } from './types.ts';
import { createWorkloadAwarePolicy, type WorkloadAwareParams } from './workload-aware.ts';

export function createPolicy(name: PolicyName, params: Partial<WorkloadAwareParams> = {}): Policy {
  switch (name) {
    case 'fcfs':
      return createFcfsPolicy();
    case 'seed':
      return createSeedPolicy();
    case 'workload-aware':
      return createWorkloadAwarePolicy(params);
  }
}

export { isOverdue, POLICY_NAMES } from './types.ts';
export type { HeadView, Policy, PolicyName, WorkloadSignals } from './types.ts';
export {
  DEFAULT_WORKLOAD_AWARE_PARAMS,
  FAIRNESS_MODES,
  type Fairness,
  type WorkloadAwareParams,
} from './workload-aware.ts';
