// Regression: a client that stops sending its body part way (declares Content-Length: 1000, sends 100
// bytes, goes away) is answered 499 client_closed, not 500, and never reaches a workload's counters.

import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { readInferenceBody } from '../../src/worker/request-body.ts';
import { call, chat } from './support/client.ts';

const MAX_BODY_BYTES = 1 << 20;
const SENT = 100;
const DECLARED = 1000;

/** 100 bytes of a JSON body, then the connection either resets (error) or ends early (close). */
function cutOffBody(end: 'error' | 'close'): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const head = `{"model":"ok","messages":[{"role":"user","content":"`;
      controller.enqueue(new TextEncoder().encode(head.padEnd(SENT, 'x')));
      if (end === 'error') controller.error(new Error('connection reset by peer'));
      else controller.close();
    },
  });
}

function cutOffRequest(end: 'error' | 'close', headers: Record<string, string>): Request {
  return new Request('http://sluice.test/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: cutOffBody(end),
  });
}

async function workloadTotals(): Promise<Array<[string, number]>> {
  const res = await call('/admin/workloads');
  const list = (await res.json()) as { data: Array<{ workloadId: string; totalRequests: number }> };
  return list.data.map((w) => [w.workloadId, w.totalRequests]);
}

describe('readInferenceBody with a body cut off part way', () => {
  it('reports a body whose stream fails part way as incomplete', async () => {
    // No Content-Length: the read failure alone must be enough.
    const result = await readInferenceBody(cutOffRequest('error', {}), MAX_BODY_BYTES);
    expect(result).toMatchObject({ ok: false, incomplete: true });
    expect('incomplete' in result && result.message).toContain('connection reset by peer');
  });

  it('reports a body that ends before its declared Content-Length as incomplete', async () => {
    const result = await readInferenceBody(
      cutOffRequest('close', { 'content-length': String(DECLARED) }),
      MAX_BODY_BYTES,
    );
    expect(result).toMatchObject({ ok: false, incomplete: true });
    expect('incomplete' in result && result.message).toContain(`${SENT} of the ${DECLARED} bytes`);
  });

  it('still reads a whole body whose length matches its Content-Length', async () => {
    const body = JSON.stringify({ model: 'ok', messages: [] });
    const request = new Request('http://sluice.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-length': String(body.length) },
      body,
    });
    expect(await readInferenceBody(request, MAX_BODY_BYTES)).toMatchObject({
      ok: true,
      body: { model: 'ok' },
    });
  });
});

describe('a truncated body through the Worker', () => {
  // Under workerd only the Content-Length case survives the trip into the Worker: a caller-side stream
  // error without a declared length reaches the handler as a clean, short body (then 400 invalid JSON).
  // workerd logs the caller's failed stream as "uncaught exception ... connection reset by peer": expected.
  it.each(['error', 'close'] as const)(
    'Content-Length %s after 100 of 1000 bytes: 499 client_closed and no trace in any workload',
    async (end) => {
      const before = await workloadTotals();
      const res = await exports.default.fetch(
        cutOffRequest(end, {
          'content-length': String(DECLARED),
          'x-workload-context': JSON.stringify({ workload_id: `truncated-${end}` }),
        }),
      );
      expect(res.status).toBe(499);
      expect(res.headers.get('retry-after')).toBeNull();
      const body = (await res.json()) as { error: { code: string; type: string; message: string } };
      expect(body.error).toMatchObject({ code: 'client_closed', type: 'invalid_request_error' });
      expect(body.error.message).toContain('incomplete');

      // Not admitted: the workload was never created, and no other workload counted it.
      expect((await call(`/admin/workloads/truncated-${end}`)).status).toBe(404);
      expect(await workloadTotals()).toEqual(before);
    },
  );

  it('counts a complete request from the same client normally (the check above is not vacuous)', async () => {
    const res = await chat({ model: 'ok' }, { workload_id: 'truncated-error' });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect((await call('/admin/workloads/truncated-error')).status).toBe(200);
  });
});
