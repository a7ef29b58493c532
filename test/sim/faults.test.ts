// Fault modes: injected 500s, refused connections (at start and toggled at runtime), mid-stream stalls,
// and the seeded PRNG that makes a fault sequence reproducible.

import { describe, expect, it, vi } from 'vitest';
import type { SimServer } from '../../sim/server.ts';
import { post, readSse, useSims } from './sim-fixture.ts';

const startSim = useSims();
const completion = { model: 'm', prompt: 'p', max_tokens: 1 };

async function statusSequence(sim: SimServer, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await post(`${sim.url}/v1/completions`, completion);
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

describe('error rate', () => {
  it('answers every request with 500 in OpenAI error shape at error-rate 1', async () => {
    const sim = await startSim({ errorRate: 1, name: 'bad' });
    const res = await post(`${sim.url}/v1/chat/completions`, {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-sim-backend')).toBe('bad');
    expect(await res.json()).toEqual({
      error: { message: expect.any(String), type: 'server_error', param: null, code: 'sim_injected_error' },
    });
    expect(sim.stats()).toMatchObject({ received: 1, faulted: 1, completed: 0, maxRunningSeen: 0 });
  });

  it('gives the same failure sequence for the same seed, and another for a different seed', async () => {
    const options = { errorRate: 0.5 };
    const first = await statusSequence(await startSim({ ...options, seed: 42 }), 24);
    const again = await statusSequence(await startSim({ ...options, seed: 42 }), 24);
    const other = await statusSequence(await startSim({ ...options, seed: 7 }), 24);
    expect(again).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 500]));
    expect(other).not.toEqual(first);
  });

  it('changes at runtime through setFault, and rejects a bad value naming the field', async () => {
    const sim = await startSim();
    expect(await statusSequence(sim, 1)).toEqual([200]);
    sim.setFault({ errorRate: 1 });
    expect(await statusSequence(sim, 2)).toEqual([500, 500]);
    expect(() => sim.setFault({ errorRate: 2 })).toThrow(/errorRate/);
    expect(await statusSequence(sim, 1)).toEqual([500]);
    sim.setFault({ errorRate: 0 });
    expect(await statusSequence(sim, 1)).toEqual([200]);
  });
});

describe('refuse', () => {
  it('drops connections when started refusing, /health and /metrics included', async () => {
    const sim = await startSim({ refuse: true });
    await expect(fetch(`${sim.url}/health`)).rejects.toThrow();
    await expect(fetch(`${sim.url}/metrics`)).rejects.toThrow();
    expect(sim.stats().received).toBe(0);
  });

  it('can be toggled at runtime, including on already-open keep-alive connections', async () => {
    const sim = await startSim();
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    sim.setFault({ refuse: true });
    await expect(fetch(`${sim.url}/health`)).rejects.toThrow();
    await expect(fetch(`${sim.url}/metrics`)).rejects.toThrow();
    await expect(post(`${sim.url}/v1/completions`, completion)).rejects.toThrow();
    sim.setFault({ refuse: false });
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
  });
});

describe('stall', () => {
  it('pauses once, after the first half of the tokens, for stall-ms', async () => {
    const stallMs = 300;
    const sim = await startSim({ stallRate: 1, stallMs, ttftMs: 5, itlMs: 1 });
    const startedMs = performance.now();
    const res = await post(`${sim.url}/v1/completions`, { ...completion, max_tokens: 6, stream: true });
    const reading = readSse(res);

    // Six tokens at 1 ms apart would finish in a few ms; the stall holds the count at three.
    await vi.waitFor(() => expect(sim.stats().generationTokens).toBe(3), { interval: 5 });
    expect(sim.stats()).toMatchObject({ running: 1, completed: 0 });

    const events = await reading;
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(stallMs);
    expect(events).toHaveLength(6 + 2);
    expect(events.at(-1)?.data).toBe('[DONE]');
    expect(sim.stats()).toMatchObject({ generationTokens: 6, completed: 1 });
  });

  it('does not stall at stall-rate 0', async () => {
    const sim = await startSim({ stallRate: 0, stallMs: 60_000 });
    const events = await readSse(
      await post(`${sim.url}/v1/completions`, { ...completion, max_tokens: 4, stream: true }),
    );
    expect(events.at(-1)?.data).toBe('[DONE]');
  });
});
