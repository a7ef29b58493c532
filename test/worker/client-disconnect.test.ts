// Regression: a client that disconnects while the router waits for the backend's response headers. The
// request must end as cancelled/client_closed (HTTP 499 in the logs), not as a server error, and its
// slot must come back at once rather than when its lease expires.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendConfig } from '../../src/worker/config.ts';
import { endToHttp } from '../../src/worker/http-error.ts';
import { forward } from '../../src/worker/proxy.ts';
import { backends, chat, heldCount, releaseHeld, until, workload } from './support/client.ts';

const BACKEND: BackendConfig = { name: 'alpha', url: 'http://alpha.test', maxConcurrency: 2 };

/** A backend that never sends headers: its fetch settles only when the request is aborted. */
function hangingFetch(): { seen: AbortSignal[] } {
  const seen: AbortSignal[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation((_input, init) => {
    const signal = init?.signal;
    if (!signal) throw new TypeError('forward() must give the upstream fetch a signal');
    seen.push(signal);
    return new Promise<Response>((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    });
  });
  return { seen };
}

function clientRequest(signal: AbortSignal): Request {
  return new Request('http://sluice.test/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":"hold"}',
    signal,
  });
}

describe('client disconnect while waiting for response headers: forward()', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('ends as cancelled/client_closed, aborts the upstream request, and maps to 499', async () => {
    const { seen } = hangingFetch();
    const client = new AbortController();
    const pending = forward({
      backend: BACKEND,
      path: '/v1/chat/completions',
      clientRequest: clientRequest(client.signal),
      body: new TextEncoder().encode('{"model":"hold"}'),
      requestId: 'disconnect-unit',
      // Far away: the end must come from the client's abort, not from the headers timeout.
      headersTimeoutMs: 60_000,
    });
    await until(
      async () => seen.length,
      (n) => n === 1,
    );
    expect(seen[0]!.aborted).toBe(false);
    client.abort();
    const result = await pending;
    if (result.ok) throw new Error('forward() answered although the client had gone');
    expect(result.end).toEqual({ outcome: 'cancelled', reason: 'client_closed' });
    // The backend is not left generating for nobody.
    expect(seen[0]!.aborted).toBe(true);

    // inference.ts answers a failed forward with endResponse(result.end): 499 client_closed, no retry.
    const http = endToHttp(result.end);
    expect(http).toEqual({ status: 499, type: 'invalid_request_error', code: 'client_closed' });
  });
});

describe('client disconnect while waiting for response headers: through the Worker', () => {
  afterEach(async () => {
    await releaseHeld();
  });

  // Regression: under workerd the abort fires, but the handler is never resumed after `await forward()`
  // once the client has gone, so the end must be recorded from the abort listener (inference.ts).
  it('records cancelled/client_closed in the registry and frees the slot at once', async () => {
    const id = 'disconnect-headers';
    const client = new AbortController();
    const pending = chat({ model: 'hold' }, { workload_id: id }, {}, client.signal).then(
      (res) => res.status,
      (err: unknown) => (err instanceof Error ? err.name : String(err)),
    );
    await until(heldCount, (n) => n === 1);
    await until(
      () => workload(id),
      (w) => w['inFlightRequests'] === 1,
    );
    client.abort();
    // The client has gone: it sees its own abort, never the 499 (that is for logs; see the unit test).
    expect(await pending).toBe('AbortError');

    // Well under the default 30 s lease TTL: the slot must not wait for the lease to expire.
    const w = await until(
      () => workload(id),
      (x) => x.activeRequests === 0,
      5_000,
    );
    expect(w['outcomes']).toMatchObject({ cancelled: 1, lost: 0, success: 0 });
    expect(w['reasons']).toMatchObject({ client_closed: 1 });
    await until(backends, (bs) => bs.every((b) => b.inFlight === 0), 5_000);
  });
});
