// Failed authentications, counted for the whole deployment in one Durable Object (an isolate's own count
// would show one isolate among many). Each isolate batches: at most one call in flight, carrying every
// failure since the last, so a flood of bad keys costs the counter a call per round trip, not per request.

import { DurableObject } from 'cloudflare:workers';
import type { Env } from './env.ts';

export const AUTH_FAILURE_REASONS = [
  'missing',
  'malformed',
  'unknown',
  'revoked',
  'workload_not_allowed',
  'admin_token',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];
export type AuthFailureCounts = Record<AuthFailureReason, number>;

const STATS_OBJECT = 'auth-failures';

export class AuthStatsDO extends DurableObject<Env> {
  add(batch: Partial<AuthFailureCounts>): void {
    for (const reason of AUTH_FAILURE_REASONS) {
      const n = batch[reason] ?? 0;
      if (n > 0) this.ctx.storage.kv.put(reason, (this.ctx.storage.kv.get<number>(reason) ?? 0) + n);
    }
  }

  counts(): AuthFailureCounts {
    const out = {} as AuthFailureCounts;
    for (const reason of AUTH_FAILURE_REASONS) out[reason] = this.ctx.storage.kv.get<number>(reason) ?? 0;
    return out;
  }
}

export function authStatsStub(env: Env) {
  return env.AUTH_STATS.get(env.AUTH_STATS.idFromName(STATS_OBJECT));
}

const pending = new Map<AuthFailureReason, number>();
let flushing = false;

/** Counts one failure; delivered in the background (ctx.waitUntil), never delaying the 401. */
export function countAuthFailure(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  reason: AuthFailureReason,
): void {
  pending.set(reason, (pending.get(reason) ?? 0) + 1);
  if (!flushing) ctx.waitUntil(flush(env));
}

async function flush(env: Env): Promise<void> {
  flushing = true;
  try {
    while (pending.size > 0) {
      const batch = Object.fromEntries(pending) as Partial<AuthFailureCounts>;
      pending.clear();
      try {
        await authStatsStub(env).add(batch);
      } catch (err) {
        // Counting must never break serving; a lost batch is a few uncounted failures, said so here.
        console.error(`[sluice] auth failure counts lost: ${JSON.stringify(batch)}: ${String(err)}`);
      }
    }
  } finally {
    flushing = false;
  }
}
