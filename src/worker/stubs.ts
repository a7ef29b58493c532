// How the shell finds its Durable Objects: one coordinator per backend pool (today a single pool of all
// backends) and one workload object per workload ID.

import type { Env } from './env.ts';

export const DEFAULT_POOL = 'default';

export function coordinatorStub(env: Env, pool: string = DEFAULT_POOL) {
  return env.COORDINATOR.get(env.COORDINATOR.idFromName(`pool:${pool}`));
}

export function workloadStub(env: Env, workloadId: string) {
  return env.WORKLOAD.get(env.WORKLOAD.idFromName(workloadId));
}
