// /metrics values move like a real engine's: waiting counts requests beyond max-num-seqs, KV usage is
// (prompt + generated tokens of running requests) / --kv-cache-tokens, rising per token, 0 when idle.

import { describe, expect, it, vi } from 'vitest';
import { KvCache } from '../../sim/kv-cache.ts';
import type { SimServer } from '../../sim/server.ts';
import { scrapeMetrics } from './prometheus-reader.ts';
import { chatRequest, openStream, post, useSims } from './sim-fixture.ts';

const startSim = useSims();
/** Long enough that only a cancellation ends it within a test. */
const ENDLESS = 100_000;
/** A first token that never comes within a test: the request holds exactly its prompt. */
const NO_TOKENS_YET = { ttftMs: 60_000 };
/** Every generation pauses for a minute after half its tokens: a fixed number of tokens is held. */
const STALL_HALFWAY = { stallRate: 1, stallMs: 60_000, ttftMs: 5, itlMs: 1 };

async function openStreams(sim: SimServer, count: number, body: object): Promise<AbortController[]> {
  const streams: AbortController[] = [];
  for (let i = 0; i < count; i++) streams.push(await openStream(sim.url, body));
  return streams;
}

async function idle(sim: SimServer, streams: readonly AbortController[]): Promise<void> {
  for (const stream of streams) stream.abort();
  await vi.waitFor(() => expect(sim.stats()).toMatchObject({ running: 0, waiting: 0 }));
}

describe('waiting and running', () => {
  it('counts requests beyond max-num-seqs as waiting, and both drop to 0 as clients leave', async () => {
    const sim = await startSim({ maxNumSeqs: 2, itlMs: 5 });
    const streams = await openStreams(sim, 7, chatRequest(1, ENDLESS));
    let metrics = await scrapeMetrics(sim.url);
    expect(metrics.value('vllm:num_requests_running')).toBe(2);
    expect(metrics.value('vllm:num_requests_waiting')).toBe(5);

    await idle(sim, streams);
    metrics = await scrapeMetrics(sim.url);
    expect(metrics.value('vllm:num_requests_running')).toBe(0);
    expect(metrics.value('vllm:num_requests_waiting')).toBe(0);
    expect(metrics.value('sluice_sim_requests_total', { outcome: 'cancelled' })).toBe(7);
  });
});

describe('KV-cache usage', () => {
  it('holds the prompt from admission, adds each generated token, and is 0 when idle', async () => {
    const sim = await startSim({ kvCacheTokens: 100, ...STALL_HALFWAY, ttftMs: 300 });
    const streams = await openStreams(sim, 1, chatRequest(40, 10));
    // Before the first token (300 ms): the 40 prompt tokens only.
    expect((await scrapeMetrics(sim.url)).value('vllm:kv_cache_usage_perc')).toBe(0.4);

    await vi.waitFor(() => expect(sim.stats().generationTokens).toBe(5));
    const metrics = await scrapeMetrics(sim.url);
    expect(metrics.value('vllm:kv_cache_usage_perc')).toBe(0.45);
    expect(metrics.value('vllm:generation_tokens_total')).toBe(5);

    await idle(sim, streams);
    expect((await scrapeMetrics(sim.url)).value('vllm:kv_cache_usage_perc')).toBe(0);
  });

  it('counts tokens as they are generated without streaming too', async () => {
    const sim = await startSim({ kvCacheTokens: 100, ...STALL_HALFWAY });
    const controller = new AbortController();
    const pending = post(`${sim.url}/v1/chat/completions`, chatRequest(40, 10), {
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(sim.stats().generationTokens).toBe(5));
    expect((await scrapeMetrics(sim.url)).value('vllm:kv_cache_usage_perc')).toBe(0.45);

    controller.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(() => expect(sim.stats().kvCacheUsage).toBe(0));
  });

  it('sums every running request, ignores waiting ones, and clamps at 1', async () => {
    const sim = await startSim({ kvCacheTokens: 100, maxNumSeqs: 3, ...NO_TOKENS_YET });
    const usage = async () => (await scrapeMetrics(sim.url)).value('vllm:kv_cache_usage_perc');
    const streams = await openStreams(sim, 2, chatRequest(40, 1));
    expect(await usage()).toBe(0.8);
    streams.push(...(await openStreams(sim, 2, chatRequest(40, 1))));
    expect(sim.stats()).toMatchObject({ running: 3, waiting: 1 });
    expect(await usage()).toBe(1);
    await idle(sim, streams);
    expect(await usage()).toBe(0);
  });

  it('defaults to max-num-seqs × 2048 tokens of capacity', async () => {
    const sim = await startSim({ maxNumSeqs: 2, ...NO_TOKENS_YET });
    await openStreams(sim, 1, chatRequest(1024, 1));
    expect((await scrapeMetrics(sim.url)).value('vllm:kv_cache_usage_perc')).toBe(1024 / 4096);
  });
});

describe('SGLang values', () => {
  it('reports queue, running, token usage and used tokens under its own names', async () => {
    const sim = await startSim({ engine: 'sglang', maxNumSeqs: 1, kvCacheTokens: 100, ...NO_TOKENS_YET });
    const streams = await openStreams(sim, 6, chatRequest(40, 1));
    let metrics = await scrapeMetrics(sim.url);
    expect(metrics.value('sglang:num_running_reqs')).toBe(1);
    expect(metrics.value('sglang:num_queue_reqs')).toBe(5);
    expect(metrics.value('sglang:token_usage')).toBe(0.4);
    expect(metrics.value('sglang:num_used_tokens')).toBe(40);

    await idle(sim, streams);
    metrics = await scrapeMetrics(sim.url);
    expect(metrics.value('sglang:num_queue_reqs')).toBe(0);
    expect(metrics.value('sglang:token_usage')).toBe(0);
    expect(metrics.value('sglang:num_used_tokens')).toBe(0);
  });
});

describe('KvCache', () => {
  it('holds prompts and generated tokens until release, which is idempotent', () => {
    const cache = new KvCache(10);
    const a = cache.hold(4);
    const b = cache.hold(3);
    a.addToken();
    expect([cache.heldTokens, cache.usage]).toEqual([8, 0.8]);
    a.release();
    a.release();
    a.addToken();
    expect(cache.heldTokens).toBe(3);
    b.addToken();
    b.release();
    expect([cache.heldTokens, cache.usage]).toEqual([0, 0]);
  });

  it('clamps usage and used tokens at capacity', () => {
    const cache = new KvCache(10);
    cache.hold(15);
    expect([cache.heldTokens, cache.usedTokens, cache.usage]).toEqual([15, 10, 1]);
  });
});
