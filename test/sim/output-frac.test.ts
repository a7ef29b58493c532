// --output-frac: a completion uses ⌈F × its token limit⌉ tokens (at least 1), ends with finish_reason
// "stop" when that is short of the limit, and reports the tokens it actually produced in usage.

import { describe, expect, it } from 'vitest';
import { parseSimArgs } from '../../sim/flags.ts';
import { outputTokens, planOutput } from '../../sim/output-length.ts';
import { parseInferenceRequest, type GenerationRequest } from '../../sim/requests.ts';
import { chatRequest, post, readJson, readSse, useSims, type CompletionBody } from './sim-fixture.ts';

const startSim = useSims();

function generation(body: object, defaultMaxTokens = 16): GenerationRequest {
  const parsed = parseInferenceRequest('chat', JSON.stringify(body), defaultMaxTokens);
  if (!parsed.ok || parsed.request.kind !== 'generation') throw new Error('expected a generation request');
  return parsed.request;
}

describe('outputTokens and planOutput', () => {
  it('takes the ceiling of frac × limit, at least 1, without float error', () => {
    expect(outputTokens(1024, 0.15)).toBe(154);
    expect(outputTokens(1000, 0.15)).toBe(150);
    // 0.1 × 30 is 3.0000000000000004 in binary floating point; a plain ceil would say 4.
    expect(outputTokens(30, 0.1)).toBe(3);
    expect(outputTokens(3, 0.5)).toBe(2);
    expect(outputTokens(1, 0.01)).toBe(1);
    expect(outputTokens(7, 1)).toBe(7);
  });

  it('stops on its own when short of the limit, and keeps the parsed reason when it reaches it', () => {
    expect(planOutput(generation(chatRequest(1, 1024)), 0.15)).toEqual({ tokens: 154, finishReason: 'stop' });
    expect(planOutput(generation(chatRequest(1, 1)), 0.5)).toEqual({ tokens: 1, finishReason: 'length' });
    expect(planOutput(generation(chatRequest(1, 8)), 1)).toEqual({ tokens: 8, finishReason: 'length' });
    expect(planOutput(generation({ model: 'm', messages: [{ content: 'x' }] }, 10), 0.5)).toEqual({
      tokens: 5,
      finishReason: 'stop',
    });
  });
});

describe('--output-frac over HTTP', () => {
  it('returns a shorter non-streaming completion with finish_reason stop and its real usage', async () => {
    const sim = await startSim({ outputFrac: 0.15 });
    const res = await post(`${sim.url}/v1/chat/completions`, chatRequest(3, 100));
    const body = await readJson<CompletionBody>(res);
    expect(body).toMatchObject({
      choices: [{ finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 15, total_tokens: 18 },
    });
    expect(body.choices[0]?.message?.content.split(' ')).toHaveLength(15);
    expect(sim.stats()).toMatchObject({ generationTokens: 15, completed: 1 });
  });

  it('streams that many tokens, then stop, then the usage chunk with the real counts', async () => {
    const sim = await startSim({ outputFrac: 0.15 });
    const events = await readSse(
      await post(`${sim.url}/v1/completions`, {
        model: 'm',
        prompt: 'abcdefgh',
        max_tokens: 100,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(15 + 2);
    expect(chunks.slice(0, 15).every((c) => c.choices[0].finish_reason === null)).toBe(true);
    expect(chunks[15].choices[0]).toMatchObject({ text: '', finish_reason: 'stop' });
    expect(chunks[16]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 2, completion_tokens: 15, total_tokens: 17 },
    });
  });

  it('still ends with finish_reason length when the fraction reaches the limit', async () => {
    const sim = await startSim({ outputFrac: 0.5 });
    const body = await readJson<CompletionBody>(
      await post(`${sim.url}/v1/chat/completions`, chatRequest(1, 1)),
    );
    expect(body).toMatchObject({ choices: [{ finish_reason: 'length' }], usage: { completion_tokens: 1 } });
  });
});

describe('--output-tokens', () => {
  it('ends every completion after at most N tokens, whatever its limit', () => {
    expect(planOutput(generation(chatRequest(1, 800)), 1, 100)).toEqual({
      tokens: 100,
      finishReason: 'stop',
    });
    expect(planOutput(generation(chatRequest(1, 100)), 1, 100)).toEqual({
      tokens: 100,
      finishReason: 'length',
    });
    expect(planOutput(generation(chatRequest(1, 40)), 1, 100)).toEqual({
      tokens: 40,
      finishReason: 'length',
    });
    // With --output-frac too: the smaller of the two.
    expect(planOutput(generation(chatRequest(1, 800)), 0.1, 100)).toEqual({
      tokens: 80,
      finishReason: 'stop',
    });
    expect(planOutput(generation(chatRequest(1, 800)), 1, 0)).toEqual({
      tokens: 800,
      finishReason: 'length',
    });
  });

  it('is a flag, validated like the others', () => {
    expect(parseSimArgs(['--output-tokens', '100']).outputTokens).toBe(100);
    expect(parseSimArgs([]).outputTokens).toBe(0);
    expect(() => parseSimArgs(['--output-tokens', '-1'])).toThrow(/--output-tokens/);
    expect(() => parseSimArgs(['--output-tokens', '1.5'])).toThrow(/--output-tokens/);
  });

  it('reports the shorter completion in usage over HTTP', async () => {
    const sim = await startSim({ outputTokens: 10 });
    const body = await readJson<CompletionBody>(
      await post(`${sim.url}/v1/chat/completions`, chatRequest(3, 80)),
    );
    expect(body).toMatchObject({ choices: [{ finish_reason: 'stop' }], usage: { completion_tokens: 10 } });
  });
});
