// Structured logs: one JSON line per finished request with the fields operators filter on, at the level
// its outcome deserves; LOG_LEVEL decides which lines are printed (this project runs with the default).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { requestLogRecord, ENDED, ended } from '../../src/core/index.ts';
import { chat, until, workload } from './support/client.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function linesOf(spy: { mock: { calls: unknown[][] } }): Array<Record<string, unknown>> {
  return spy.mock.calls.flatMap(([line]) => {
    if (typeof line !== 'string' || !line.startsWith('{')) return [];
    return [JSON.parse(line) as Record<string, unknown>];
  });
}

describe('request log records', () => {
  it('levels: success and client-closed are info, turned away is warn, backend failures are error', () => {
    const base = {
      requestId: 'r',
      workloadId: 'w',
      criticality: 3,
      pool: 'default',
      backend: null,
      queueMs: null,
      upstreamMs: null,
      attempts: 0,
      promptTokens: null,
      completionTokens: null,
    };
    expect(requestLogRecord({ ...base, end: ENDED.completed }).level).toBe('info');
    expect(requestLogRecord({ ...base, end: ENDED.clientClosed }).level).toBe('info');
    expect(requestLogRecord({ ...base, end: ENDED.queueFull }).level).toBe('warn');
    expect(requestLogRecord({ ...base, end: ENDED.poolDown }).level).toBe('warn');
    expect(requestLogRecord({ ...base, end: ended('unreachable') }).level).toBe('error');
    expect(requestLogRecord({ ...base, end: ENDED.leaseExpired }).level).toBe('error');
  });

  it('prints a failed request as one JSON line with its fields; a success stays quiet at the default level', async () => {
    const errors = vi.spyOn(console, 'error');
    const infos = vi.spyOn(console, 'log');
    const failed = await chat({ model: 'error' }, { workload_id: 'log-fail', criticality: 4 });
    expect(failed.status).toBe(500);
    await failed.arrayBuffer();
    const ok = await chat({ model: 'ok' }, { workload_id: 'log-ok' });
    await ok.arrayBuffer();
    await until(
      () => workload('log-fail'),
      (w) => w.completedCount === 1,
    );
    const line = linesOf(errors).find((l) => l['workloadId'] === 'log-fail');
    expect(line).toMatchObject({
      event: 'request',
      level: 'error',
      workloadId: 'log-fail',
      criticality: 4,
      pool: 'default',
      outcome: 'upstream_error',
      reason: 'upstream_5xx',
      attempts: 1,
      requestId: failed.headers.get('x-request-id'),
    });
    expect(typeof line?.['backend']).toBe('string');
    expect(typeof line?.['queueMs']).toBe('number');
    expect(typeof line?.['upstreamMs']).toBe('number');
    expect(linesOf(infos).some((l) => l['workloadId'] === 'log-ok')).toBe(false);
  });
});
