// Plays one admitted generation out on its timeline: one completion at the end, or one SSE chunk per
// token. Counts tokens as they are produced and stops (rejects) as soon as the request is aborted.

import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimCounters } from './backend-state.ts';
import { sendJson, writeEvent } from './http-io.ts';
import { buildChunk, buildCompletion, buildUsageChunk, type ResponseMeta } from './openai-shapes.ts';
import type { GenerationRequest } from './requests.ts';
import { finishOffsetMs, tokenOffsetMs, type GenerationPlan } from './timeline.ts';

/** Sleeps until `deadlineMs` on the `performance.now()` clock; rejects as soon as `signal` aborts. */
export async function sleepUntil(deadlineMs: number, signal: AbortSignal): Promise<void> {
  const delayMs = deadlineMs - performance.now();
  if (delayMs > 0) await sleep(delayMs, undefined, { signal });
  else signal.throwIfAborted();
}

export async function playGeneration(
  request: GenerationRequest,
  meta: ResponseMeta,
  plan: GenerationPlan,
  res: ServerResponse,
  signal: AbortSignal,
  counters: SimCounters,
): Promise<void> {
  const startedMs = performance.now();
  if (!request.stream) {
    await sleepUntil(startedMs + finishOffsetMs(plan), signal);
    counters.generationTokens += plan.tokens;
    sendJson(res, 200, buildCompletion(request, meta));
    return;
  }
  for (let i = 0; i < plan.tokens; i++) {
    await sleepUntil(startedMs + tokenOffsetMs(plan, i), signal);
    counters.generationTokens++;
    writeEvent(res, buildChunk(request, meta, i));
  }
  await sleepUntil(startedMs + finishOffsetMs(plan), signal);
  writeEvent(res, buildChunk(request, meta, null));
  if (request.includeUsage) writeEvent(res, buildUsageChunk(request, meta));
  writeEvent(res, '[DONE]');
  res.end();
}
