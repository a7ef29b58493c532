// End to end: the official `openai` client against the router under wrangler dev and two simulated
// backends, streaming and not; the admin API counts the requests and returns to activeRequests 0.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminWorkload, openaiClient, startStack, waitFor, type Stack } from './support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  // gpu-dead is listed first, so with every slot free it is the first pick (ties go to the first listed).
  stack = await startStack(
    [
      { name: 'gpu-dead', maxConcurrency: 2, url: 'http://127.0.0.1:9' },
      { name: 'gpu-a', maxConcurrency: 2, sim: { ttftMs: 20, itlMs: 2 } },
      { name: 'gpu-b', maxConcurrency: 2, sim: { ttftMs: 20, itlMs: 2 } },
    ],
    { BACKEND_COOLDOWN_BASE_MS: '120000', BACKEND_COOLDOWN_MAX_MS: '120000' },
  );
});

afterAll(async () => {
  await stack?.close();
});

describe('openai client through Sluice', () => {
  it('fails a request that found a dead backend over to a live one, before any byte, and cools the dead one down', async () => {
    const c = openaiClient(stack.url, 'e2e-failover', 5);
    const ask = () =>
      c.chat.completions
        .create({ model: 'sim-model', messages: [{ role: 'user', content: 'x' }], max_tokens: 2 })
        .withResponse();
    // gpu-dead is the first pick: the connection is refused, and the request goes to a live backend.
    const first = await ask();
    expect(first.response.status).toBe(200);
    expect(first.response.headers.get('x-sluice-attempts')).toBe('2');
    expect(first.response.headers.get('x-sluice-backend')).not.toBe('gpu-dead');
    expect(first.data.choices[0]?.message.content).toBeTruthy();

    // The dead backend now cools down: the next requests go to live ones at once.
    for (let i = 0; i < 4; i++) {
      const { response } = await ask();
      expect(response.headers.get('x-sluice-backend')).not.toBe('gpu-dead');
      expect(response.headers.get('x-sluice-attempts')).toBe('1');
    }
    const backends = (await (await fetch(`${stack.url}/admin/backends`)).json()) as {
      data: Array<{ name: string; healthy: boolean; consecutiveFailures: number }>;
    };
    const dead = backends.data.find((b) => b.name === 'gpu-dead');
    expect(dead?.healthy).toBe(false);
    // 1, or more once its cooldown ended and a health probe to the closed port failed too.
    expect(dead?.consecutiveFailures).toBeGreaterThanOrEqual(1);
    // One request each, counted once: five successes, one retry, no error.
    const w = await waitFor(
      () => adminWorkload(stack.url, 'e2e-failover'),
      (x) => x['activeRequests'] === 0,
    );
    expect(w['outcomes']).toMatchObject({ upstream_error: 0, success: 5 });
    expect(w).toMatchObject({ totalRequests: 5, completedCount: 5, retriedCount: 1 });
  });

  it('gets a chat completion, with exactly max_tokens tokens', async () => {
    const { data, response } = await openaiClient(stack.url, 'e2e-chat', 4)
      .chat.completions.create({
        model: 'sim-model',
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 5,
      })
      .withResponse();
    expect(data.choices[0]?.message.content?.split(' ')).toHaveLength(5);
    expect(data.usage?.completion_tokens).toBe(5);
    expect(response.headers.get('x-sluice-workload')).toBe('e2e-chat');
    expect(['gpu-a', 'gpu-b']).toContain(response.headers.get('x-sluice-backend'));
  });

  it('streams a chat completion chunk by chunk', async () => {
    const stream = await openaiClient(stack.url, 'e2e-stream', 2).chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let usage: number | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) pieces.push(delta);
      if (chunk.usage) usage = chunk.usage.completion_tokens;
    }
    expect(pieces).toHaveLength(6);
    expect(usage).toBe(6);
  });

  it('counts every request in the admin API and returns to activeRequests 0', async () => {
    const c = openaiClient(stack.url, 'e2e-count', 3);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        c.completions.create({ model: 'sim-model', prompt: `p${i}`, max_tokens: 3 }).catch((e: unknown) => e),
      ),
    );
    const w = await waitFor(
      () => adminWorkload(stack.url, 'e2e-count'),
      (x) => x['activeRequests'] === 0,
    );
    expect(w['totalRequests']).toBe(8);
    expect(w['completedCount']).toBe(8);
    expect(w['outcomes']).toMatchObject({ success: 8 });
    const backends = (await (await fetch(`${stack.url}/admin/backends`)).json()) as {
      data: Array<{ inFlight: number }>;
    };
    expect(backends.data.every((b) => b.inFlight === 0)).toBe(true);
  });
});
