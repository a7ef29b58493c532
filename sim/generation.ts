// Plays one admitted generation out on its timeline, token by token whether or not it streams (as an
// engine decodes): one completion at the end, or one SSE chunk per token. Reports each token as it is
// produced and stops (rejects) as soon as the request is aborted.

import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendJson, writeEvent } from './http-io.ts';
import { buildChunk, buildCompletion, buildUsageChunk, type ResponseMeta } from './openai-shapes.ts';
import type { CompletionOutput } from './output-length.ts';
import type { GenerationRequest } from './requests.ts';
import { finishOffsetMs, tokenOffsetMs, type GenerationPlan } from './timeline.ts';

/** Sleeps until `deadlineMs` on the `performance.now()` clock; rejects as soon as `signal` aborts. */
export async function sleepUntil(deadlineMs: number, signal: AbortSignal): Promise<void> {
  const delayMs = deadlineMs - performance.now();
  if (delayMs > 0) await sleep(delayMs, undefined, { signal });
  else signal.throwIfAborted();
}

export interface Generation {
  readonly request: GenerationRequest;
  readonly meta: ResponseMeta;
  readonly output: CompletionOutput;
  /** Its `tokens` equal `output.tokens`. */
  readonly plan: GenerationPlan;
}

export async function playGeneration(
  { request, meta, output, plan }: Generation,
  res: ServerResponse,
  signal: AbortSignal,
  onToken: () => void,
): Promise<void> {
  const startedMs = performance.now();
  for (let i = 0; i < plan.tokens; i++) {
    await sleepUntil(startedMs + tokenOffsetMs(plan, i), signal);
    onToken();
    if (request.stream) writeEvent(res, buildChunk(request, meta, output, i));
  }
  await sleepUntil(startedMs + finishOffsetMs(plan), signal);
  if (!request.stream) {
    sendJson(res, 200, buildCompletion(request, meta, output));
    return;
  }
  writeEvent(res, buildChunk(request, meta, output, null));
  if (request.includeUsage) writeEvent(res, buildUsageChunk(request, meta, output));
  writeEvent(res, '[DONE]');
  res.end();
}
