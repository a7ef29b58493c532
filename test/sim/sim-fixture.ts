// Shared helpers for the simulator tests: servers that are always closed after each test, JSON posts,
// held-open streams, and an SSE reader that records when each event arrived.

import { afterEach } from 'vitest';
import { startSimServer, type SimServer } from '../../sim/server.ts';
import type { SimOptions } from '../../sim/options.ts';

/** Starts simulators on 127.0.0.1:0 and closes every one of them after each test. */
export function useSims(): (options?: Partial<SimOptions>) => Promise<SimServer> {
  const open: SimServer[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((sim) => sim.close()));
  });
  return async (options = {}) => {
    const sim = await startSimServer({ host: '127.0.0.1', port: 0, ttftMs: 5, itlMs: 1, ...options });
    open.push(sim);
    return sim;
  };
}

export function post(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

/** A chat request whose prompt is `promptTokens` tokens by the simulator's ⌈chars / 4⌉ estimate. */
export function chatRequest(
  promptTokens: number,
  maxTokens: number,
  extra: Record<string, unknown> = {},
): object {
  return {
    model: 'm',
    messages: [{ role: 'user', content: 'x'.repeat(promptTokens * 4) }],
    max_tokens: maxTokens,
    ...extra,
  };
}

/**
 * Starts a streaming chat request and resolves once the server has accepted it (streaming headers are
 * sent on admission, before a slot is free). Aborting the returned controller ends it.
 */
export async function openStream(url: string, body: object): Promise<AbortController> {
  const controller = new AbortController();
  const res = await post(
    `${url}/v1/chat/completions`,
    { ...body, stream: true },
    { signal: controller.signal },
  );
  if (res.status !== 200) throw new Error(`stream answered ${res.status}`);
  return controller;
}

export interface SseEvent {
  readonly data: string;
  readonly atMs: number;
}

/** Reads `data:` events until the stream ends, stamping each with its arrival time. */
export async function readSse(response: Response, onEvent?: (event: SseEvent) => void): Promise<SseEvent[]> {
  if (response.body === null) throw new TypeError(`expected a streamed body, got status ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { data: frame.replace(/^data: /, ''), atMs: performance.now() };
      events.push(event);
      onEvent?.(event);
    }
  }
  return events;
}

/** The slices of OpenAI response bodies these tests read; everything else is checked with toMatchObject. */
export interface CompletionBody {
  readonly id: string;
  readonly created: number;
  readonly choices: ReadonlyArray<{
    readonly message?: { readonly content: string };
    readonly text?: string;
    readonly finish_reason: string | null;
  }>;
  readonly usage: { readonly completion_tokens: number };
}

export interface EmbeddingsBody {
  readonly data: ReadonlyArray<{ readonly index: number; readonly embedding: number[] }>;
}

export interface ModelListBody {
  readonly object: string;
  readonly data: readonly unknown[];
}

/** `Response.json()` is typed `unknown` under Node's fetch types; the tests name the shape they expect. */
export async function readJson<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
