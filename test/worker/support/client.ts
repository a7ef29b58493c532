// Helpers for Workers-runtime tests: call the Worker's default export and steer the fake upstream.

import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { AdminBackendList, AdminWorkload } from '../../../src/worker/routes/admin.ts';

const ORIGIN = 'http://sluice.test';

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
}

/** A chat completion request as a client sends it; `body` fields (messages too) replace the defaults. */
export function chatRequest(
  body: Record<string, unknown>,
  context?: Record<string, unknown> | string,
  extra: Record<string, string> = {},
  signal?: AbortSignal,
): Request {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (context !== undefined) {
    headers['x-workload-context'] = typeof context === 'string' ? context : JSON.stringify(context);
  }
  return new Request(`${ORIGIN}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
    ...(signal ? { signal } : {}),
  });
}

export function chat(
  body: Record<string, unknown>,
  context?: Record<string, unknown> | string,
  extra: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return exports.default.fetch(chatRequest(body, context, extra, signal));
}

/** The error of an error response, checked to be OpenAI-shaped (a string message and type). */
export async function errorOf(res: Response): Promise<{ message: string; type: string; code: string }> {
  const body = (await res.json()) as { error: { message: string; type: string; code: string } };
  expect(typeof body.error.message).toBe('string');
  expect(typeof body.error.type).toBe('string');
  return body.error;
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

/** `init` carries what the project's admin guard asks for (an operator token when AUTH is on). */
export async function workload(id: string, init: RequestInit = {}): Promise<AdminWorkload> {
  const res = await call(`/admin/workloads/${encodeURIComponent(id)}`, init);
  return (await res.json()) as AdminWorkload;
}

export async function backends(init: RequestInit = {}): Promise<AdminBackendList['data']> {
  const res = await call('/admin/backends', init);
  return ((await res.json()) as AdminBackendList).data;
}
