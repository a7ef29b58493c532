// Server-Timing: every answered inference request says how long each of its stages took in the router,
// in order (the router benchmark's latency breakdown reads it).

import { describe, expect, it } from 'vitest';
import { call, chat } from './support/client.ts';

/** `name;dur=ms, …` → [name, ms] pairs, in header order. */
function stages(header: string | null): Array<[string, number]> {
  expect(header).not.toBeNull();
  return (header ?? '').split(', ').map((part) => {
    const m = /^([a-z]+);dur=(\d+)$/.exec(part);
    expect(m, `malformed Server-Timing part ${JSON.stringify(part)}`).not.toBeNull();
    return [m?.[1] ?? '', Number(m?.[2])];
  });
}

describe('Server-Timing', () => {
  it('reports parse, admit and upstream, in that order, on a forwarded answer', async () => {
    const res = await chat({ model: 'ok' }, { workload_id: 'server-timing' });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(stages(res.headers.get('server-timing')).map(([name]) => name)).toEqual([
      'parse',
      'admit',
      'upstream',
    ]);
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
