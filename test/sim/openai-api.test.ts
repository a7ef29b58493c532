// The OpenAI-compatible surface: response and chunk shapes, exact token counts, embeddings, models,
// health, and errors in OpenAI's shape. /metrics has its own file.

import { describe, expect, it } from 'vitest';
import {
  post,
  readJson,
  readSse,
  useSims,
  type CompletionBody,
  type EmbeddingsBody,
  type ModelListBody,
} from './sim-fixture.ts';

const startSim = useSims();
const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'm-1',
  messages: [{ role: 'user', content: 'twelve chars' }],
  ...extra,
});

describe('non-streaming completions', () => {
  it('chat returns exactly max_tokens tokens, finish_reason length, usage, and echoes the model', async () => {
    const sim = await startSim({ name: 'alpha' });
    const res = await post(`${sim.url}/v1/chat/completions`, chat({ max_tokens: 7 }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sim-backend')).toBe('alpha');
    const body = await readJson<CompletionBody>(res);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'm-1',
      choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'length' }],
      usage: { prompt_tokens: 3, completion_tokens: 7, total_tokens: 10 },
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(Number.isInteger(body.created)).toBe(true);
    expect(body.choices[0]?.message?.content.split(' ')).toHaveLength(7);
  });

  it('chat prefers max_completion_tokens over max_tokens', async () => {
    const sim = await startSim();
    const res = await post(
      `${sim.url}/v1/chat/completions`,
      chat({ max_tokens: 9, max_completion_tokens: 3 }),
    );
    expect((await readJson<CompletionBody>(res)).usage.completion_tokens).toBe(3);
  });

  it('uses --default-max-tokens when the request sets no limit, and reports a natural stop', async () => {
    const sim = await startSim({ defaultMaxTokens: 5 });
    const body = await readJson<CompletionBody>(await post(`${sim.url}/v1/chat/completions`, chat()));
    expect(body.usage.completion_tokens).toBe(5);
    expect(body.choices[0]?.finish_reason).toBe('stop');
  });

  it('text completions return text_completion with the text in choices[0].text', async () => {
    const sim = await startSim();
    const res = await post(`${sim.url}/v1/completions`, { model: 'base', prompt: 'abcdefgh', max_tokens: 4 });
    const body = await readJson<CompletionBody>(res);
    expect(body).toMatchObject({
      object: 'text_completion',
      model: 'base',
      choices: [{ index: 0, finish_reason: 'length' }],
      usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 },
    });
    expect(body.choices[0]?.text?.split(' ')).toHaveLength(4);
  });
});

describe('streaming completions', () => {
  it('sends one chat chunk per token, role first, a finish chunk, a usage chunk, then [DONE]', async () => {
    const sim = await startSim();
    const res = await post(
      `${sim.url}/v1/chat/completions`,
      chat({ max_tokens: 4, stream: true, stream_options: { include_usage: true } }),
    );
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readSse(res);
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(4 + 2);
    for (const chunk of chunks)
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'm-1' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);

    const tokens = chunks.slice(0, 4);
    expect(tokens[0].choices[0].delta.role).toBe('assistant');
    for (const chunk of tokens) {
      expect(chunk.choices[0].finish_reason).toBeNull();
      expect(typeof chunk.choices[0].delta.content).toBe('string');
      expect(chunk.usage).toBeNull();
    }
    expect(tokens.slice(1).every((c) => c.choices[0].delta.role === undefined)).toBe(true);
    expect(chunks[4].choices[0]).toMatchObject({ delta: {}, finish_reason: 'length' });
    expect(chunks[5]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    });
  });

  it('omits the usage chunk without include_usage', async () => {
    const sim = await startSim();
    const events = await readSse(
      await post(`${sim.url}/v1/chat/completions`, chat({ max_tokens: 2, stream: true })),
    );
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(3);
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
  });

  it('streams text completions as text_completion chunks carrying text', async () => {
    const sim = await startSim();
    const events = await readSse(
      await post(`${sim.url}/v1/completions`, { model: 'b', prompt: 'x', max_tokens: 3, stream: true }),
    );
    expect(events.map((e) => e.data).at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.map((c) => c.object)).toEqual(Array(4).fill('text_completion'));
    expect(
      chunks
        .slice(0, 3)
        .map((c) => c.choices[0].text)
        .join(''),
    ).toBe('tok sim lorem');
    expect(chunks[3].choices[0]).toMatchObject({ text: '', finish_reason: 'length' });
  });

  it('delivers the first chunk while the rest is still being generated', async () => {
    const sim = await startSim({ itlMs: 5 });
    const controller = new AbortController();
    // Far too long to finish within the test: a server that buffered the stream would never send a byte.
    const res = await post(`${sim.url}/v1/chat/completions`, chat({ max_tokens: 100_000, stream: true }), {
      signal: controller.signal,
    });
    const first = await res.body!.getReader().read();
    expect(new TextDecoder().decode(first.value)).toMatch(/^data: \{"id":"chatcmpl-/);
    expect(sim.stats()).toMatchObject({ running: 1, completed: 0 });
    controller.abort();
  });

  it('spreads the chunks over the generation time instead of sending them in one burst', async () => {
    const tokens = 30;
    const itlMs = 10;
    const sim = await startSim({ ttftMs: 5, itlMs });
    const events = await readSse(
      await post(`${sim.url}/v1/chat/completions`, chat({ max_tokens: tokens, stream: true })),
    );
    const first = events[0]!.atMs;
    const last = events.at(-1)!.atMs;
    expect(last - first).toBeGreaterThanOrEqual(((tokens - 1) * itlMs) / 2);
  });
});

describe('other endpoints', () => {
  it('embeds each input deterministically as a unit vector', async () => {
    const a = await startSim();
    const b = await startSim();
    const input = ['hello', 'world'];
    const bodyA = await readJson<EmbeddingsBody>(await post(`${a.url}/v1/embeddings`, { model: 'e', input }));
    const bodyB = await readJson<EmbeddingsBody>(await post(`${b.url}/v1/embeddings`, { model: 'e', input }));
    expect(bodyA).toMatchObject({ object: 'list', model: 'e', usage: { prompt_tokens: 4 } });
    expect(bodyA.data.map((d) => d.index)).toEqual([0, 1]);
    expect(bodyA.data).toEqual(bodyB.data);
    const [first, second] = bodyA.data;
    expect(first?.embedding).toHaveLength(8);
    expect(first?.embedding).not.toEqual(second?.embedding);
    expect(Math.hypot(...(first?.embedding ?? []))).toBeCloseTo(1, 9);

    const single = await readJson<EmbeddingsBody>(
      await post(`${a.url}/v1/embeddings`, { model: 'e', input: 'hello' }),
    );
    expect(single.data).toEqual([bodyA.data[0]]);
  });

  it('lists every served model', async () => {
    const sim = await startSim({ models: ['a', 'b'] });
    const body = await readJson<ModelListBody>(await fetch(`${sim.url}/v1/models`));
    expect(body.object).toBe('list');
    expect(body.data).toEqual([
      { id: 'a', object: 'model', owned_by: 'sluice-sim', created: expect.any(Number) },
      { id: 'b', object: 'model', owned_by: 'sluice-sim', created: expect.any(Number) },
    ]);
  });

  it('answers /health with 200 and the backend name', async () => {
    const sim = await startSim({ name: 'h' });
    const res = await fetch(`${sim.url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sim-backend')).toBe('h');
  });
});

describe('errors in OpenAI shape', () => {
  interface Case {
    readonly name: string;
    readonly method: 'GET' | 'POST';
    readonly body?: string;
    readonly status: number;
    readonly code: string;
    readonly param: string | null;
  }
  const cases: readonly Case[] = [
    { name: 'bad JSON', method: 'POST', body: '{"model": ', status: 400, code: 'invalid_json', param: null },
    {
      name: 'missing model',
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
      status: 400,
      code: 'missing_required_parameter',
      param: 'model',
    },
    {
      name: 'missing messages',
      method: 'POST',
      body: JSON.stringify({ model: 'm' }),
      status: 400,
      code: 'missing_required_parameter',
      param: 'messages',
    },
    {
      name: 'max_tokens 0',
      method: 'POST',
      body: JSON.stringify(chat({ max_tokens: 0 })),
      status: 400,
      code: 'invalid_value',
      param: 'max_tokens',
    },
    {
      name: 'non-boolean stream',
      method: 'POST',
      body: JSON.stringify(chat({ stream: 'yes' })),
      status: 400,
      code: 'invalid_type',
      param: 'stream',
    },
    { name: 'wrong method', method: 'GET', status: 405, code: 'method_not_allowed', param: null },
  ];
  it.each(cases)('$name on /v1/chat/completions', async ({ method, body, status, code, param }) => {
    const sim = await startSim({ name: 'err' });
    const res = await fetch(`${sim.url}/v1/chat/completions`, { method, body });
    expect(res.status).toBe(status);
    expect(res.headers.get('x-sim-backend')).toBe('err');
    expect(await res.json()).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param, code },
    });
    if (status === 405) expect(res.headers.get('allow')).toBe('POST');
    expect(sim.stats().received).toBe(0);
  });

  it('answers an unknown path with 404', async () => {
    const sim = await startSim({ name: 'err' });
    const res = await fetch(`${sim.url}/v1/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-sim-backend')).toBe('err');
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'not_found' } });
  });
});
