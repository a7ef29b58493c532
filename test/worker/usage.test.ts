// Actual token usage: read from the backend's answer as it passes and recorded with the completion. A
// stream whose client did not ask for usage is asked anyway, and the usage chunk is kept from the client.

import { describe, expect, it } from 'vitest';
import { call, chat, until, workload } from './support/client.ts';
import { FAKE_USAGE } from './support/fake-upstream.ts';

/** The `data:` payloads of an SSE body, in order. */
function events(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

async function settled(id: string): Promise<Awaited<ReturnType<typeof workload>>> {
  return until(
    () => workload(id),
    (w) => w.totalRequests > 0 && w.activeRequests === 0,
  );
}

const RECORDED = {
  promptTokens: FAKE_USAGE.prompt_tokens,
  completionTokens: FAKE_USAGE.completion_tokens,
  usageKnownCount: 1,
  usageUnknownCount: 0,
};

describe('actual token usage', () => {
  it('records the usage of a JSON answer next to the estimate', async () => {
    const res = await chat({ model: 'ok', max_tokens: 10 }, { workload_id: 'usage-json' });
    const body = (await res.json()) as { usage: unknown };
    expect(body.usage).toEqual(FAKE_USAGE);
    const w = await settled('usage-json');
    expect(w).toMatchObject(RECORDED);
    expect(w.estimatedTokens).toBeGreaterThan(10);
  });

  it('asks a stream for usage the client did not ask for, and keeps the usage chunk from the client', async () => {
    const res = await chat({ model: 'ok', stream: true }, { workload_id: 'usage-stream' });
    expect(res.status).toBe(200);
    const text = await res.text();
    const data = events(text);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { choices: unknown[]; usage?: unknown });
    expect(chunks).toHaveLength(2);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(text).not.toContain('"usage"');
    expect(await settled('usage-stream')).toMatchObject(RECORDED);
  });

  it('passes the usage chunk through to a client that asked for it, and records it', async () => {
    const res = await chat(
      { model: 'ok', stream: true, stream_options: { include_usage: true } },
      { workload_id: 'usage-stream-asked' },
    );
    const data = events(await res.text());
    expect(data).toHaveLength(4);
    expect(JSON.parse(data[2] ?? '')).toMatchObject({ choices: [], usage: FAKE_USAGE });
    expect(data[3]).toBe('[DONE]');
    expect(await settled('usage-stream-asked')).toMatchObject(RECORDED);
  });

  it('asks a /v1/completions stream too, whose existing stream_options are kept', async () => {
    const res = await call('/v1/completions', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-workload-context': JSON.stringify({ workload_id: 'usage-text' }),
      },
      body: JSON.stringify({
        model: 'ok',
        prompt: 'x',
        stream: true,
        stream_options: { include_usage: false },
      }),
    });
    const text = await res.text();
    expect(events(text)).toHaveLength(3);
    // Exactly the stream the client asked for: no totals, and not the `usage: null` that asking adds.
    expect(text).not.toContain('"usage"');
    expect(await settled('usage-text')).toMatchObject(RECORDED);
  });

  it('counts a stream that carried no usage as usage unknown', async () => {
    const res = await chat({ model: 'trickle', stream: true }, { workload_id: 'usage-none' });
    await res.text();
    expect(await settled('usage-none')).toMatchObject({
      promptTokens: 0,
      completionTokens: 0,
      usageKnownCount: 0,
      usageUnknownCount: 1,
    });
  });
});
