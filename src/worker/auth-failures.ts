// The hook for sluice_auth_failures_total: call noteAuthFailure wherever a request is refused for bad or
// missing credentials. Counts are batched per isolate (core/metrics/event-batcher.ts) and handed to the
// first pool's coordinator, whose summary /metrics reads; a scrape hands off this isolate's remainder.

import { DEFAULT_POOL, EventBatcher } from '../core/index.ts';
import type { SluiceConfig } from './config.ts';
import type { Env } from './env.ts';
import { coordinatorStub } from './stubs.ts';

const batcher = new EventBatcher();

function counterPool(config: SluiceConfig): string {
  return config.pools.pools[0]?.name ?? DEFAULT_POOL;
}

async function handOff(env: Env, config: SluiceConfig, n: number): Promise<void> {
  if (n === 0) return;
  try {
    await coordinatorStub(env, counterPool(config), config).countAuthFailures(n);
  } catch {
    batcher.putBack(n);
  }
}

/** One refused request. The hand-off, when due, runs after the response (waitUntil). */
export function noteAuthFailure(
  env: Env,
  config: SluiceConfig,
  ctx: ExecutionContext,
  now = Date.now(),
): void {
  const n = batcher.note(now);
  if (n > 0) ctx.waitUntil(handOff(env, config, n));
}

/** Before a scrape reads the coordinators: this isolate's pending count goes first. */
export function flushAuthFailures(env: Env, config: SluiceConfig, now = Date.now()): Promise<void> {
  return handOff(env, config, batcher.takeAll(now));
}
