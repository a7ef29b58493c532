// Failover before the first byte: which failed dispatches go to another backend of the same pool. The
// request keeps its place (see WorkloadState.requeue); this only decides whether to try again.

import type { Ended } from './outcome.ts';

/** Tries per request, the first included: one failover covers a dying server without doubling load. */
export const DEFAULT_MAX_ATTEMPTS = 2;

export type DispatchFailure =
  /** No response at all (forward() gave up). */
  | { readonly kind: 'no_response'; readonly end: Ended }
  /** A response whose status arrived, with nothing of it sent to the client yet. */
  | { readonly kind: 'status'; readonly status: number };

/**
 * True when the request should go to another backend: the backend refused the connection or failed
 * before sending response headers (`unreachable`), or answered 502/503 (a gateway or an overloaded
 * engine), and attempts remain. Never a 4xx (the request itself is at fault) nor another 5xx (the
 * backend ran it and failed; running it again is not safe to assume), and never a headers timeout (the
 * backend may still be generating: a second copy would double the GPU work after a long wait already).
 * Once a byte has gone to the client there is no failure of this kind to ask about.
 */
export function shouldFailover(failure: DispatchFailure, attempt: number, maxAttempts: number): boolean {
  if (attempt >= maxAttempts) return false;
  if (failure.kind === 'status') return isBackendDownStatus(failure.status);
  return failure.end.reason === 'unreachable';
}

/**
 * A status that says the server is not serving (its gateway found nothing behind it, or the engine is
 * overloaded): reported as unreachable, so the pool cools that backend down. Any other answer, even a
 * 500, proves it is there.
 */
export function isBackendDownStatus(status: number): boolean {
  return status === 502 || status === 503;
}
