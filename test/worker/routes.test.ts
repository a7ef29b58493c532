// Routes, status codes and OpenAI-shaped errors of the Worker, against the fake upstream.

import { describe, expect, it } from 'vitest';
import { call, chat, errorOf, until, workload } from './support/client.ts';

describe('routes', () => {
  it('proxies a chat completion and labels it with workload, backend and queue time', async () => {
    const res = await chat(
      { model: 'ok' },
      { workload_id: 'routes-basic', criticality: 4 },
      { 'x-request-id': 'req-123' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sluice-workload')).toBe('routes-basic');
    expect(['alpha', 'beta']).toContain(res.headers.get('x-sluice-backend'));
    expect(Number(res.headers.get('x-sluice-queue-ms'))).toBeGreaterThanOrEqual(0);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    // Hop-by-hop headers from the upstream are stripped; the backend URL never leaks.
    expect(res.headers.get('keep-alive')).toBeNull();
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]?.message.content).toBe('hello world');
  });

  it('counts an estimate of the tokens each workload asks for (prompt bytes / 4 + max_tokens)', async () => {
    const body = { model: 'ok', messages: [{ role: 'user', content: 'x'.repeat(400) }], max_tokens: 50 };
    const res = await chat(body, { workload_id: 'routes-tokens' });
    await res.arrayBuffer();
    const bytes = JSON.stringify(body).length;
    const w = await until(
      () => workload('routes-tokens'),
      (x) => x.activeRequests === 0,
    );
    expect(w['estimatedTokens']).toBe(Math.ceil(bytes / 4) + 50);
  });

  it('generates an x-request-id when the client sends none', async () => {
    const res = await chat({ model: 'ok' }, { workload_id: 'routes-rid' });
    await res.arrayBuffer();
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves /v1/completions and /v1/embeddings through the same path', async () => {
    for (const path of ['/v1/completions', '/v1/embeddings']) {
      const res = await call(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'ok', prompt: 'x', input: 'x' }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  });

  it('streams SSE through unchanged', async () => {
    const res = await chat({ model: 'ok', stream: true }, { workload_id: 'routes-stream' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text).toContain('"content":"hello"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('merges /v1/models from every backend without duplicates', async () => {
    const res = await call('/v1/models');
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id).sort();
    expect(ids).toEqual(['model-alpha', 'model-beta', 'shared']);
  });

  it('answers /healthz', async () => {
    const res = await call('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      policy: 'workload-aware',
      backends: ['alpha', 'beta'],
    });
  });

  it('rejects invalid JSON with 400 and leaves no accounting behind', async () => {
    const res = await call('/v1/chat/completions', {
      method: 'POST',
      headers: { 'x-workload-context': '{"workload_id":"routes-bad"}' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_request');
    expect((await call('/admin/workloads/routes-bad')).status).toBe(404);
  });

  it('rejects a body without model with 400', async () => {
    const res = await chat({}, { workload_id: 'routes-nomodel' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain('model');
  });

  it('rejects an over-long or control-character workload_id with 400', async () => {
    const long = await chat({ model: 'ok' }, { workload_id: 'x'.repeat(129) });
    expect(long.status).toBe(400);
    expect((await errorOf(long)).code).toBe('invalid_workload_context');
    const ctrl = await chat({ model: 'ok' }, '{"workload_id":"a\\u0007b"}');
    expect(ctrl.status).toBe(400);
  });

  it('falls back to the default workload for a malformed header, and says so', async () => {
    const res = await chat({ model: 'ok' }, 'not json');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sluice-workload')).toBe('default');
    expect(res.headers.get('x-sluice-context-defaulted')).toBe('header_not_json');
    await res.arrayBuffer();
  });

  it('refuses a body over MAX_BODY_BYTES with 413', async () => {
    const res = await chat({ model: 'ok', pad: 'x'.repeat(5 * 1024 * 1024) }, { workload_id: 'routes-big' });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('body_too_large');
  });

  it('answers unknown routes with 404 and wrong methods with 405, in OpenAI error shape', async () => {
    const missing = await call('/v2/whatever');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('not_found');
    const wrong = await call('/v1/chat/completions');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await errorOf(wrong)).code).toBe('method_not_allowed');
  });

  it('passes an upstream 5xx through and counts it as upstream_error', async () => {
    const res = await chat({ model: 'error' }, { workload_id: 'routes-5xx' });
    expect(res.status).toBe(500);
    expect((await errorOf(res)).message).toBe('boom');
    const w = await until(
      () => workload('routes-5xx'),
      (x) => x.activeRequests === 0,
    );
    expect(w).toMatchObject({ activeRequests: 0, completedCount: 1 });
    expect((w['outcomes'] as Record<string, number>)['upstream_error']).toBe(1);
  });
});

// Server-Timing: every answered inference request says how long each of its stages took in the router,
// in order (the router benchmark's latency breakdown reads it).
describe('Server-Timing', () => {
  /** The stage names of `name;dur=ms, …`, each checked for shape. */
  function stageNames(header: string | null): string[] {
    expect(header).not.toBeNull();
    return (header ?? '').split(', ').map((part) => {
      const m = /^([a-z]+);dur=(\d+)$/.exec(part);
      expect(m, `malformed Server-Timing part ${JSON.stringify(part)}`).not.toBeNull();
      return m?.[1] ?? '';
    });
  }

  it('reports parse, admit and upstream, in that order, on a forwarded answer', async () => {
    const res = await chat({ model: 'ok' }, { workload_id: 'server-timing' });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(stageNames(res.headers.get('server-timing'))).toEqual(['parse', 'admit', 'upstream']);
    // Settled before the test ends, so no background work outlives the file.
    await until(
      () => workload('server-timing'),
      (w) => w.completedCount === 1,
    );
  });

  it('is not sent on an error the router answers itself', async () => {
    const res = await call('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    await res.arrayBuffer();
    expect(res.headers.get('server-timing')).toBeNull();
  });
});
