// Invalid configuration and missing backends, seen through the app with an overridden env.

import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/worker/app.ts';
import type { Env } from '../../src/worker/env.ts';

const ctx = {
  waitUntil: () => undefined,
  passThroughOnException: () => undefined,
  props: {},
} as unknown as ExecutionContext;

function request(path: string, init: RequestInit = {}): Request {
  return new Request(`http://sluice.test${path}`, init);
}

describe('config gate', () => {
  it('answers every request with 500 naming the bad field when config is invalid', async () => {
    const bad: Env = { ...env, POLICY: 'round-robin' } as Env;
    for (const path of ['/healthz', '/v1/models', '/admin/backends']) {
      const res = await createApp().fetch(request(path), bad, ctx);
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('config_invalid');
      expect(body.error.message).toContain('POLICY');
    }
  });

  it('names the nested field of a bad backend entry', async () => {
    const bad = { ...env, BACKENDS: '[{"name":"a","url":"http://x","maxConcurrency":0}]' } as Env;
    const res = await createApp().fetch(request('/healthz'), bad, ctx);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'BACKENDS.0.maxConcurrency',
    );
  });

  it('answers 503 no_backend when no backend is configured', async () => {
    const none = { ...env, BACKENDS: '[]' } as Env;
    const res = await createApp().fetch(
      request('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'ok' }) }),
      none,
      ctx,
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_backend');
    expect(res.headers.get('retry-after')).not.toBeNull();
  });
});
