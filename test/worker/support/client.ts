// Helpers for Workers-runtime tests: call the Worker's default export and steer the fake upstream.

import { exports } from 'cloudflare:workers';
import type { AdminBackendList, AdminWorkload } from '../../../src/worker/routes/admin.ts';

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://sluice.test${path}`, init));
}

export function chat(
  body: Record<string, unknown>,
  context?: Record<string, unknown> | string,
  extra: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (context !== undefined) {
    headers['x-workload-context'] = typeof context === 'string' ? context : JSON.stringify(context);
  }
  return call('/v1/chat/completions', {
    method: 'POST',
    headers,
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
    ...(signal ? { signal } : {}),
  });
}

export async function releaseHeld(n?: number): Promise<number> {
  const res = await fetch(`http://control.test/release${n === undefined ? '' : `?n=${n}`}`);
  return ((await res.json()) as { released: number }).released;
}

export async function heldCount(): Promise<number> {
  const res = await fetch('http://control.test/held');
  return ((await res.json()) as { held: number }).held;
}

/**
 * Polls a condition through real I/O (each round trip lets the runtime's clock and queues move). The
 * budget is generous because CI runs the test projects side by side on two cores.
 */
export async function until<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  budgetMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await scheduler.wait(10);
    value = await probe();
  }
  if (!ok(value)) throw new Error(`condition not met; last value ${JSON.stringify(value)}`);
  return value;
}

export async function workload(id: string): Promise<AdminWorkload> {
  const res = await call(`/admin/workloads/${encodeURIComponent(id)}`);
  return (await res.json()) as AdminWorkload;
}

export async function backends(): Promise<AdminBackendList['data']> {
  const res = await call('/admin/backends');
  return ((await res.json()) as AdminBackendList).data;
}
