// How the shell finds its Durable Objects: one coordinator per backend pool, named `pool:<name>` (the
// object reads its pool back from ctx.id.name), optionally placed near its GPUs; one workload object per
// workload ID.

import type { SluiceConfig } from './config.ts';
import type { Env } from './env.ts';

const POOL_PREFIX = 'pool:';

export function coordinatorStub(env: Env, pool: string, config?: Pick<SluiceConfig, 'poolLocationHints'>) {
  const id = env.COORDINATOR.idFromName(`${POOL_PREFIX}${pool}`);
  const locationHint = config?.poolLocationHints[pool];
  return locationHint ? env.COORDINATOR.get(id, { locationHint }) : env.COORDINATOR.get(id);
}

/** The pool a coordinator serves, from its object name; null if it was not created by name. */
export function poolOfCoordinator(name: string | undefined): string | null {
  return name?.startsWith(POOL_PREFIX) ? name.slice(POOL_PREFIX.length) : null;
}

export function workloadStub(env: Env, workloadId: string) {
  return env.WORKLOAD.get(env.WORKLOAD.idFromName(workloadId));
}
