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

  it('names FAIRNESS when it is neither requests nor tokens', async () => {
    const bad = { ...env, FAIRNESS: 'bytes' } as Env;
    const res = await createApp().fetch(request('/healthz'), bad, ctx);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('FAIRNESS');
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

  it('refuses a backend URL that ends in /v1 (Sluice appends the path itself)', async () => {
    const bad = { ...env, BACKENDS: '[{"name":"a","url":"http://x.test/v1","maxConcurrency":1}]' } as Env;
    const res = await createApp().fetch(request('/healthz'), bad, ctx);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('without /v1');
  });

  it.each([
    [{ AUTH: 'maybe' }, 'AUTH must be on or off'],
    [{ AUTH: 'on', KEYS: undefined }, 'KEYS KV binding is missing'],
    [{ AUTH_CACHE_TTL_MS: '-5' }, 'AUTH_CACHE_TTL_MS'],
    [{ ADMIN_TOKEN: 'pasted-with-newline\n' }, 'ADMIN_TOKEN has leading or trailing whitespace'],
    [{ ADMIN_TOKEN: ' ' }, 'ADMIN_TOKEN has leading or trailing whitespace'],
    [
      { WORKLOAD_LIMITS: '{"batch":{"maxInFlight":0}}' },
      'WORKLOAD_LIMITS.batch.maxInFlight must be an integer',
    ],
    [{ WORKLOAD_LIMITS: '{"batch":{"rpm":5}}' }, 'WORKLOAD_LIMITS.batch.rpm is not a limit'],
    [{ WORKLOAD_LIMITS: '[1]' }, 'WORKLOAD_LIMITS must be an object'],
    [{ WORKLOAD_LIMITS: '{"a\\tb":{"maxInFlight":1}}' }, 'WORKLOAD_LIMITS.a\tb must be a workload ID'],
  ])('names the auth setting that is wrong: %j', async (extra, message) => {
    const bad = { ...env, ...extra } as unknown as Env;
    const res = await createApp().fetch(request('/healthz'), bad, ctx);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(message);
  });

  it('keeps per-workload maps free of inherited keys: a workload named constructor or __proto__ is data', async () => {
    const { parseConfig } = await import('../../src/worker/config.ts');
    const result = parseConfig({
      ...env,
      AUTH: 'off',
      WORKLOAD_LIMITS: '{"__proto__": {"maxInFlight": 1}}',
    } as Partial<Env>);
    if (!result.ok) throw new Error(result.message);
    const limits = result.config.workloadLimits;
    expect(Object.hasOwn(limits, '__proto__')).toBe(true);
    expect(limits['any-workload']).toBeUndefined();
    expect(limits['constructor']).toBeUndefined();
  });

  it('defaults to AUTH on when AUTH is unset (secure unless turned off explicitly)', async () => {
    const { AUTH: _auth, ...unset } = env as unknown as Record<string, unknown>;
    const res = await createApp().fetch(
      request('/v1/chat/completions', { method: 'POST', body: '{"model":"ok"}' }),
      unset as unknown as Env,
      ctx,
    );
    expect(res.status).toBe(401);
  });

  it('refuses a non-string ADMIN_TOKEN instead of leaving /admin open', async () => {
    const bad = { ...env, ADMIN_TOKEN: 12345 } as unknown as Env;
    const res = await createApp().fetch(request('/admin/backends'), bad, ctx);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('ADMIN_TOKEN');
  });

  it('guards /admin with ADMIN_TOKEN: 401 with WWW-Authenticate without it, 200 with it', async () => {
    const guarded = { ...env, ADMIN_TOKEN: 's3cret' } as Env;
    const denied = await createApp().fetch(request('/admin/backends'), guarded, ctx);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await createApp().fetch(
      request('/admin/backends', { headers: { authorization: 'Bearer s3creT' } }),
      guarded,
      ctx,
    );
    expect(wrong.status).toBe(401);
    const ok = await createApp().fetch(
      request('/admin/backends', { headers: { authorization: 'Bearer s3cret' } }),
      guarded,
      ctx,
    );
    expect(ok.status).toBe(200);
    // Inference routes are not affected by the admin token.
    const health = await createApp().fetch(request('/healthz'), guarded, ctx);
    expect(health.status).toBe(200);
  });

  it('does not queue a request whose client is already gone', async () => {
    const abort = new AbortController();
    abort.abort();
    const res = await createApp().fetch(
      request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'x-workload-context': '{"workload_id":"gate-gone"}' },
        body: JSON.stringify({ model: 'ok' }),
        signal: abort.signal,
      }),
      env,
      ctx,
    );
    expect(res.status).toBe(499);
    const admin = await createApp().fetch(request('/admin/workloads/gate-gone'), env, ctx);
    expect(admin.status).toBe(404);
  });
});
