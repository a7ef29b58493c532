// Regression: a backend that stops sending mid-body held its slot for as long as it stayed stuck (the
// headers timeout was already past and the lease heartbeat kept renewing). forward() against the fake
// upstream, with the same 300 ms idle limit this project configures (vitest.config.ts).

import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import { ENDED, ended, type Ended } from '../../src/core/index.ts';
import {
  type BackendConfig,
  DEFAULT_UPSTREAM_IDLE_TIMEOUT_MS,
  loadConfig,
  parseConfig,
} from '../../src/worker/config.ts';
import { forward, type ForwardResult } from '../../src/worker/proxy.ts';
import { TRICKLE_CHUNKS, TRICKLE_GAP_MS } from '../worker/support/fake-upstream.ts';
import { heldCount, releaseHeld } from '../worker/support/client.ts';

const BACKEND: BackendConfig = { name: 'alpha', url: 'http://alpha.test', maxConcurrency: 2 };
const IDLE_MS = 300;
const decoder = new TextDecoder();

function send(
  model: string,
  opts: { idleTimeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ForwardResult> {
  const body = JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  return forward({
    backend: BACKEND,
    path: '/v1/chat/completions',
    clientRequest: new Request('http://sluice.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      ...(opts.signal ? { signal: opts.signal } : {}),
    }),
    body: new TextEncoder().encode(body),
    requestId: `idle-${model}`,
    headersTimeoutMs: 60_000,
    idleTimeoutMs: opts.idleTimeoutMs ?? IDLE_MS,
  });
}

function answered(result: ForwardResult): { response: Response; done: Promise<Ended> } {
  if (!result.ok) throw new Error(`forward() did not answer: ${result.message}`);
  return result;
}

/** Everything after the first chunk, as text (the first chunk is checked by the caller). */
async function rest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
  }
}

describe('upstream idle timeout: forward()', () => {
  afterEach(async () => {
    await releaseHeld();
  });

  it('ends a stalled SSE stream with an in-band upstream_idle_timeout event and no [DONE]', async () => {
    const { response, done } = answered(await send('drip'));
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toContain('first');

    const tail = await rest(reader);
    expect(tail).not.toContain('[DONE]');
    const events = tail
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => JSON.parse(e.slice('data: '.length)) as unknown);
    expect(events).toEqual([
      {
        error: {
          message: `Backend 'alpha' sent nothing for ${IDLE_MS} ms.`,
          type: 'upstream_error',
          code: 'upstream_idle_timeout',
        },
      },
    ]);
    expect(await done).toEqual(ended('idle_timeout'));
    // The router gave up on its own: the fake is still holding the stream open.
    expect(await heldCount()).toBe(1);
  });

  it('aborts a stalled non-SSE body (no in-band channel) and ends as idle_timeout', async () => {
    const { response, done } = answered(await send('stall-json'));
    expect(response.headers.get('content-type')).toBe('application/json');
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toContain('"chat.completion"');
    await expect(rest(reader)).rejects.toThrow();
    expect(await done).toEqual(ended('idle_timeout'));
    expect(await heldCount()).toBe(1);
  });

  it('restarts the limit on every chunk: a slow but steady stream runs past it and completes', async () => {
    expect(TRICKLE_GAP_MS * 2).toBeLessThan(IDLE_MS);
    expect(TRICKLE_GAP_MS * TRICKLE_CHUNKS).toBeGreaterThan(IDLE_MS * 2);
    const { response, done } = answered(await send('trickle'));
    const text = await response.text();
    expect(text.match(/"n":/g)).toHaveLength(TRICKLE_CHUNKS);
    expect(text).toContain('data: [DONE]');
    expect(await done).toEqual(ENDED.completed);
  });

  it('still ends as client_closed when the client disconnects during a stall', async () => {
    const client = new AbortController();
    const { response, done } = answered(await send('drip', { signal: client.signal }));
    const reader = response.body!.getReader();
    await reader.read();
    client.abort();
    expect(await done).toEqual(ENDED.clientClosed);
  });

  it('ends as client_closed when the client cancelled its body before the stall was noticed', async () => {
    // No request signal (mid-stream, a disconnect is seen only on the next write): the idle limit is
    // what ends the exchange, but the client was already gone, so it is not counted as the backend's.
    const { response, done } = answered(await send('drip'));
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(await done).toEqual(ENDED.clientClosed);
  });
});

describe('UPSTREAM_IDLE_TIMEOUT_MS', () => {
  const backends = JSON.stringify([BACKEND]);

  it('reaches the config from this project’s vars, and defaults when unset', () => {
    const loaded = loadConfig(env);
    expect(loaded.ok && loaded.config.upstreamIdleTimeoutMs).toBe(IDLE_MS);
    const unset = parseConfig({ BACKENDS: backends, AUTH: 'off' });
    expect(unset.ok && unset.config.upstreamIdleTimeoutMs).toBe(DEFAULT_UPSTREAM_IDLE_TIMEOUT_MS);
  });

  it.each(['0', '-5', '1.5', 'soon'])('rejects %j, naming the field', (raw) => {
    const result = parseConfig({ BACKENDS: backends, AUTH: 'off', UPSTREAM_IDLE_TIMEOUT_MS: raw });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain('UPSTREAM_IDLE_TIMEOUT_MS');
  });
});
