// One inference request's life: parse, fault roll, admission to a slot (or 503), cancellation when the
// client goes away, then the embedding or generation holding KV-cache tokens. Every outcome is counted
// exactly once here.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendState } from './backend-state.ts';
import { playGeneration, sleepUntil } from './generation.ts';
import { readBody, sendError, sendJson, SSE_HEADERS } from './http-io.ts';
import { buildEmbeddings, type ResponseMeta } from './openai-shapes.ts';
import { planOutput } from './output-length.ts';
import { parseInferenceRequest, type InferenceEndpoint } from './requests.ts';

export async function serveInference(
  state: BackendState,
  endpoint: InferenceEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { options, scheduler, kvCache, faults, counters, inflight } = state;
  const { outcomes } = counters;
  const parsed = parseInferenceRequest(endpoint, await readBody(req), options.defaultMaxTokens);
  if (!parsed.ok) {
    const { message, code, param } = parsed.error;
    sendError(res, 400, 'invalid_request_error', code, message, param);
    return;
  }
  counters.received++;
  const roll = faults.roll();
  if (roll.fail) {
    outcomes.faulted++;
    sendError(res, 500, 'server_error', 'sim_injected_error', 'Simulated backend failure (--error-rate).');
    return;
  }
  const ticket = scheduler.enqueue();
  if (ticket === null) {
    outcomes.rejected++;
    sendError(
      res,
      503,
      'server_error',
      'queue_full',
      `Waiting queue is full (${options.maxWaiting} requests).`,
    );
    return;
  }

  const controller = new AbortController();
  let settled = false;
  const closed = new Promise<void>((resolve) => {
    res.on('close', () => {
      inflight.delete(controller);
      if (!settled) {
        outcomes.cancelled++;
        controller.abort();
        ticket.release();
      }
      resolve();
    });
  });
  inflight.set(controller, closed);

  const request = parsed.request;
  const idPrefix = request.kind === 'embedding' ? 'embd' : request.endpoint === 'chat' ? 'chatcmpl' : 'cmpl';
  const meta: ResponseMeta = {
    id: `${idPrefix}-${options.name}-${++counters.lastResponseId}`,
    created: Math.floor(Date.now() / 1000),
  };
  // vLLM starts a streaming response as soon as the request is accepted: headers now, tokens later.
  if (request.kind === 'generation' && request.stream) {
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
  }

  if (!(await ticket.granted)) return;
  counters.promptTokens += request.promptTokens;
  // Prefill puts the whole prompt in the cache at once; decode adds one token at a time.
  const kv = kvCache.hold(request.promptTokens);
  const { signal } = controller;
  try {
    if (request.kind === 'embedding') {
      await sleepUntil(performance.now() + options.ttftMs, signal);
      sendJson(res, 200, buildEmbeddings(request));
    } else {
      const output = planOutput(request, options.outputFrac, options.outputTokens);
      const plan = {
        tokens: output.tokens,
        ttftMs: options.ttftMs,
        itlMs: options.itlMs,
        stallMs: roll.stallMs,
      };
      await playGeneration({ request, meta, output, plan }, res, signal, () => {
        counters.generationTokens++;
        kv.addToken();
      });
    }
    settled = true;
    outcomes.completed++;
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    kv.release();
    ticket.release();
  }
}
