// End to end: the official `openai` client streams through Sluice to a simulated backend with and without
// `stream_options.include_usage`. The client sees a usage chunk only when it asked; the admin API records
// the simulator's real counts either way.

import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminWorkload, openaiClient, startStack, waitFor, type Stack } from './support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack([{ name: 'gpu-a', maxConcurrency: 2, sim: { ttftMs: 10, itlMs: 1 } }]);
});

afterAll(async () => {
  await stack?.close();
});

const WORKLOAD = 'e2e-usage';
const PARAMS = {
  model: 'sim-model',
  messages: [{ role: 'user' as const, content: 'how many tokens is this prompt, roughly?' }],
  max_tokens: 6,
};

describe('actual token usage through Sluice', () => {
  it('shows the usage chunk only to a client that asked, and records the backend counts of every request', async () => {
    const c = openaiClient(stack.url, WORKLOAD);
    const reference = (await c.chat.completions.create(PARAMS)).usage;
    expect(reference?.prompt_tokens).toBeGreaterThan(0);
    expect(reference?.completion_tokens).toBe(PARAMS.max_tokens);

    const unasked = await c.chat.completions.create({ ...PARAMS, stream: true });
    const plain: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of unasked) plain.push(chunk);
    expect(plain.length).toBeGreaterThan(0);
    expect(plain.every((chunk) => chunk.choices.length > 0)).toBe(true);
    // Not even the `usage: null` that Sluice's include_usage makes the backend add to each chunk.
    expect(plain.every((chunk) => !('usage' in chunk))).toBe(true);

    const asked = await c.chat.completions.create({
      ...PARAMS,
      stream: true,
      stream_options: { include_usage: true },
    });
    const withUsage: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of asked) withUsage.push(chunk);
    const last = withUsage.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({
      prompt_tokens: reference?.prompt_tokens,
      completion_tokens: reference?.completion_tokens,
    });
    expect(withUsage.filter((chunk) => chunk.usage != null)).toHaveLength(1);

    const w = await waitFor(
      () => adminWorkload(stack.url, WORKLOAD),
      (x) => x['completedCount'] === 3,
    );
    expect(w).toMatchObject({
      promptTokens: 3 * (reference?.prompt_tokens ?? NaN),
      completionTokens: 3 * (reference?.completion_tokens ?? NaN),
      usageKnownCount: 3,
      usageUnknownCount: 0,
    });
  });
});
