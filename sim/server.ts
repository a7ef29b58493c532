// The simulated vLLM backend: HTTP routing, per-request lifecycle (admit, wait, generate, cancel) and
// shutdown. Wiring only: options, admission, timing, faults and JSON shapes each live in their own file.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultInjector } from './faults.ts';
import { renderMetrics, type SimOutcome } from './metrics.ts';
import {
  buildChunk,
  buildCompletion,
  buildEmbeddings,
  buildError,
  buildModelList,
  buildUsageChunk,
  type ErrorType,
  type ResponseMeta,
} from './openai-shapes.ts';
import { resolveSimOptions, type SimFaults, type SimOptions } from './options.ts';
import { parseInferenceRequest, type GenerationRequest, type InferenceEndpoint } from './requests.ts';
import { SlotScheduler } from './slot-scheduler.ts';
import { finishOffsetMs, tokenOffsetMs, type GenerationPlan } from './timeline.ts';

export interface SimStats {
  readonly running: number;
  readonly waiting: number;
  /** Valid inference requests received, whatever became of them. */
  readonly received: number;
  readonly completed: number;
  /** The client went away (or the server closed) before the response was complete. */
  readonly cancelled: number;
  /** Answered 500 by `errorRate`. */
  readonly faulted: number;
  /** Answered 503 because the waiting queue was full. */
  readonly rejected: number;
  readonly maxRunningSeen: number;
  /** Prompt tokens of requests that got a slot, as vLLM counts them at prefill. */
  readonly promptTokens: number;
  /** Tokens actually generated; a cancelled stream stops adding to it. */
  readonly generationTokens: number;
}

export interface SimServer {
  /** e.g. `http://127.0.0.1:41234`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly options: SimOptions;
  stats(): SimStats;
  /** Changes fault modes for requests arriving from now on; throws a TypeError naming a bad field. */
  setFault(partial: Partial<SimFaults>): void;
  /** Stops listening and destroys every connection, open streams included. Idempotent. */
  close(): Promise<void>;
}

type Route = {
  readonly method: 'GET' | 'POST';
  readonly serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
};

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
} as const;

function sendJson(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  type: ErrorType,
  code: string,
  message: string,
  param: string | null = null,
): void {
  sendJson(res, status, buildError(message, type, code, param));
}

function writeEvent(res: ServerResponse, body: object | string): void {
  res.write(`data: ${typeof body === 'string' ? body : JSON.stringify(body)}\n\n`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Sleeps until `deadlineMs` on the `performance.now()` clock; rejects as soon as `signal` aborts. */
async function sleepUntil(deadlineMs: number, signal: AbortSignal): Promise<void> {
  const delayMs = deadlineMs - performance.now();
  if (delayMs > 0) await sleep(delayMs, undefined, { signal });
  else signal.throwIfAborted();
}

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startSimServer(partial: Partial<SimOptions> = {}): Promise<SimServer> {
  const options = resolveSimOptions(partial);
  const scheduler = new SlotScheduler(options.maxNumSeqs, options.maxWaiting);
  const faults = new FaultInjector(options, options.seed);
  const outcomes: Record<SimOutcome, number> = { completed: 0, cancelled: 0, faulted: 0, rejected: 0 };
  /** Admitted requests (waiting or running); close() aborts them and waits for their accounting. */
  const inflight = new Map<AbortController, Promise<void>>();
  const createdSec = Math.floor(Date.now() / 1000);
  let received = 0;
  let promptTokens = 0;
  let generationTokens = 0;
  let nextId = 0;
  let closing: Promise<void> | null = null;

  async function generate(
    request: GenerationRequest,
    meta: ResponseMeta,
    plan: GenerationPlan,
    res: ServerResponse,
    signal: AbortSignal,
  ): Promise<void> {
    const startedMs = performance.now();
    if (!request.stream) {
      await sleepUntil(startedMs + finishOffsetMs(plan), signal);
      generationTokens += plan.tokens;
      sendJson(res, 200, buildCompletion(request, meta));
      return;
    }
    for (let i = 0; i < plan.tokens; i++) {
      await sleepUntil(startedMs + tokenOffsetMs(plan, i), signal);
      generationTokens++;
      writeEvent(res, buildChunk(request, meta, i));
    }
    await sleepUntil(startedMs + finishOffsetMs(plan), signal);
    writeEvent(res, buildChunk(request, meta, null));
    if (request.includeUsage) writeEvent(res, buildUsageChunk(request, meta));
    writeEvent(res, '[DONE]');
    res.end();
  }

  async function serveInference(
    endpoint: InferenceEndpoint,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const parsed = parseInferenceRequest(endpoint, await readBody(req), options.defaultMaxTokens);
    if (!parsed.ok) {
      const { message, code, param } = parsed.error;
      sendError(res, 400, 'invalid_request_error', code, message, param);
      return;
    }
    received++;
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
    const idPrefix =
      request.kind === 'embedding' ? 'embd' : request.endpoint === 'chat' ? 'chatcmpl' : 'cmpl';
    const meta: ResponseMeta = {
      id: `${idPrefix}-${options.name}-${++nextId}`,
      created: Math.floor(Date.now() / 1000),
    };
    // vLLM starts a streaming response as soon as the request is accepted: headers now, tokens later.
    if (request.kind === 'generation' && request.stream) {
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
    }

    if (!(await ticket.granted)) return;
    promptTokens += request.promptTokens;
    const { signal } = controller;
    try {
      if (request.kind === 'embedding') {
        await sleepUntil(performance.now() + options.ttftMs, signal);
        sendJson(res, 200, buildEmbeddings(request));
      } else {
        const plan = {
          tokens: request.maxTokens,
          ttftMs: options.ttftMs,
          itlMs: options.itlMs,
          stallMs: roll.stallMs,
        };
        await generate(request, meta, plan, res, signal);
      }
      settled = true;
      outcomes.completed++;
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      ticket.release();
    }
  }

  const routes = new Map<string, Route>([
    ['/v1/chat/completions', { method: 'POST', serve: (req, res) => serveInference('chat', req, res) }],
    ['/v1/completions', { method: 'POST', serve: (req, res) => serveInference('completions', req, res) }],
    ['/v1/embeddings', { method: 'POST', serve: (req, res) => serveInference('embeddings', req, res) }],
    [
      '/v1/models',
      {
        method: 'GET',
        serve: async (_req, res) => sendJson(res, 200, buildModelList(options.models, createdSec)),
      },
    ],
    [
      '/health',
      {
        method: 'GET',
        serve: async (_req, res) => {
          res.writeHead(200, { 'content-length': 0 });
          res.end();
        },
      },
    ],
    [
      '/metrics',
      {
        method: 'GET',
        serve: async (_req, res) => {
          const text = renderMetrics({
            modelName: options.models[0] ?? '',
            running: scheduler.running,
            waiting: scheduler.waiting,
            maxNumSeqs: options.maxNumSeqs,
            outcomes,
            promptTokens,
            generationTokens,
          });
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(text);
        },
      },
    ],
  ]);

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-sim-backend', options.name);
    // Checked per request too: a keep-alive connection opened before refusing began must fail as well.
    if (faults.faults.refuse) {
      req.socket.destroy();
      return;
    }
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes.get(path);
    if (route === undefined) {
      sendError(res, 404, 'invalid_request_error', 'not_found', `Unknown path: ${method} ${path}`);
      return;
    }
    if (method !== route.method) {
      res.setHeader('allow', route.method);
      sendError(
        res,
        405,
        'invalid_request_error',
        'method_not_allowed',
        `${method} is not allowed on ${path}; use ${route.method}.`,
      );
      return;
    }
    await route.serve(req, res);
  }

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((error: unknown) => {
      // A body cut off by a disconnecting client is not a simulator failure.
      if (res.destroyed || req.destroyed) return;
      console.error(`sim ${options.name}: internal error`, error);
      if (res.headersSent) res.destroy();
      else sendError(res, 500, 'server_error', 'internal_error', 'Simulator internal error.');
    });
  });
  server.on('connection', (socket) => {
    if (faults.faults.refuse) socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: formatUrl(options.host, port),
    port,
    options,
    stats: () => ({
      running: scheduler.running,
      waiting: scheduler.waiting,
      received,
      completed: outcomes.completed,
      cancelled: outcomes.cancelled,
      faulted: outcomes.faulted,
      rejected: outcomes.rejected,
      promptTokens,
      generationTokens,
      maxRunningSeen: scheduler.maxRunningSeen,
    }),
    setFault: (change) => faults.update(change),
    close: () => {
      if (closing === null) {
        const pending = [...inflight.values()];
        // Abort first, so a slot freed by one cancellation is not handed to a waiter that is about to die.
        for (const controller of inflight.keys()) controller.abort();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        // Waiting for every response's 'close' makes stats() final once close() resolves.
        closing = Promise.all([stopped, ...pending]).then(() => undefined);
      }
      return closing;
    },
  };
}
