// vLLM-style scheduling over HTTP: at most max-num-seqs generate at once, the rest wait, a full queue
// answers 503, and a client that disconnects (running or waiting) gives its place back.

import { describe, expect, it, vi } from 'vitest';
import { scrapeMetrics } from './prometheus-reader.ts';
import { post, readSse, useSims } from './sim-fixture.ts';

const startSim = useSims();
const streamBody = (maxTokens: number) => ({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  max_tokens: maxTokens,
  stream: true,
});
/** Long enough (100k tokens × itl) that only a cancellation can end it within a test. */
const ENDLESS = 100_000;

describe('slots', () => {
  it('runs at most max-num-seqs at once and queues the rest inside the server', async () => {
    const sim = await startSim({ maxNumSeqs: 2, ttftMs: 50, itlMs: 2 });
    const responses = Array.from({ length: 10 }, () =>
      post(`${sim.url}/v1/completions`, { model: 'm', prompt: 'p', max_tokens: 5 }),
    );
    await vi.waitFor(() => expect(sim.stats().received).toBe(10));
    // Each pair holds its slots for ~58 ms, so eight requests are still waiting when /metrics answers.
    const metrics = await scrapeMetrics(sim.url);
    expect(metrics.value('vllm:num_requests_waiting')).toBeGreaterThan(0);
    expect(metrics.value('vllm:num_requests_running')).toBe(2);

    const statuses = await Promise.all(responses.map(async (r) => (await r).status));
    expect(statuses).toEqual(Array(10).fill(200));
    expect(sim.stats()).toMatchObject({ maxRunningSeen: 2, completed: 10, running: 0, waiting: 0 });
  });

  it('answers /health and /metrics at once while every slot is busy and the queue is full', async () => {
    const sim = await startSim({ maxNumSeqs: 1, maxWaiting: 2, itlMs: 5 });
    for (let i = 0; i < 3; i++) await post(`${sim.url}/v1/chat/completions`, streamBody(ENDLESS));
    expect((await post(`${sim.url}/v1/chat/completions`, streamBody(1))).status).toBe(503);
    expect(sim.stats()).toMatchObject({ running: 1, waiting: 2 });

    // Neither waits for a slot: a slot here is held for 100k tokens × 5 ms.
    const signal = AbortSignal.timeout(1_000);
    const health = await fetch(`${sim.url}/health`, { signal });
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
    expect((await fetch(`${sim.url}/metrics`, { signal })).status).toBe(200);
  });

  it('answers 503 in OpenAI shape once the waiting queue is full', async () => {
    const sim = await startSim({ maxNumSeqs: 1, maxWaiting: 1, itlMs: 5 });
    const running = await post(`${sim.url}/v1/chat/completions`, streamBody(ENDLESS));
    const waiting = await post(`${sim.url}/v1/chat/completions`, streamBody(1));
    expect([running.status, waiting.status]).toEqual([200, 200]);
    expect(sim.stats()).toMatchObject({ running: 1, waiting: 1 });

    const rejected = await post(`${sim.url}/v1/chat/completions`, streamBody(1));
    expect(rejected.status).toBe(503);
    expect(await rejected.json()).toMatchObject({ error: { type: 'server_error', code: 'queue_full' } });
    expect(sim.stats().rejected).toBe(1);
  });
});

describe('client disconnect', () => {
  it('frees the slot of a running request, so the next waiting one is served', async () => {
    const sim = await startSim({ maxNumSeqs: 1, itlMs: 5 });
    const controller = new AbortController();
    const first = await post(`${sim.url}/v1/chat/completions`, streamBody(ENDLESS), {
      signal: controller.signal,
    });
    const firstChunk = await first.body!.getReader().read();
    expect(firstChunk.done).toBe(false);

    const second = post(`${sim.url}/v1/completions`, { model: 'm', prompt: 'p', max_tokens: 2 });
    await vi.waitFor(() => expect(sim.stats().waiting).toBe(1));
    controller.abort();

    expect((await second).status).toBe(200);
    expect(sim.stats()).toMatchObject({ cancelled: 1, completed: 1, maxRunningSeen: 1 });
  });

  it('stops generating for a client that went away', async () => {
    const sim = await startSim({ itlMs: 1 });
    const controller = new AbortController();
    const res = await post(`${sim.url}/v1/chat/completions`, streamBody(ENDLESS), {
      signal: controller.signal,
    });
    await res.body!.getReader().read();
    controller.abort();
    await vi.waitFor(() => expect(sim.stats().running).toBe(0));

    const generated = sim.stats().generationTokens;
    // At 1 ms per token a generation that kept running would add dozens of tokens in this pause.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sim.stats().generationTokens).toBe(generated);
  });

  it('removes a waiting request from the queue without ever running it', async () => {
    const sim = await startSim({ maxNumSeqs: 1, itlMs: 5 });
    await post(`${sim.url}/v1/chat/completions`, streamBody(ENDLESS));
    const controller = new AbortController();
    // Streaming headers are sent on admission, so fetch resolves while the request is still queued.
    await post(`${sim.url}/v1/chat/completions`, streamBody(3), { signal: controller.signal });
    expect(sim.stats()).toMatchObject({ running: 1, waiting: 1 });

    controller.abort();
    await vi.waitFor(() => expect(sim.stats().waiting).toBe(0));
    expect(sim.stats()).toMatchObject({ running: 1, cancelled: 1, completed: 0 });
  });
});

describe('close', () => {
  it('ends open streams promptly and counts them as cancelled', async () => {
    const sim = await startSim({ itlMs: 5 });
    const res = await post(`${sim.url}/v1/chat/completions`, streamBody(ENDLESS));
    const seen: string[] = [];
    const ending = readSse(res, (event) => seen.push(event.data)).then(
      () => 'ended',
      () => 'cut off',
    );
    await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0));

    await sim.close();
    expect(await ending).toBe('cut off');
    expect(sim.stats()).toMatchObject({ running: 0, cancelled: 1 });
  });
});
