// The simulator's HTTP surface: which path and method go where, 404/405 for the rest, and the per-request
// refusal when `--refuse` is on. The inference routes live in inference-route.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendState } from './backend-state.ts';
import { sendError, sendJson } from './http-io.ts';
import { serveInference } from './inference-route.ts';
import { renderMetrics } from './metrics.ts';
import { buildModelList } from './openai-shapes.ts';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text.ts';

interface Route {
  readonly method: 'GET' | 'POST';
  readonly serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export type Routes = ReadonlyMap<string, Route>;

export function createRoutes(state: BackendState): Routes {
  const { options, scheduler, kvCache, counters } = state;
  return new Map<string, Route>([
    [
      '/v1/chat/completions',
      { method: 'POST', serve: (req, res) => serveInference(state, 'chat', req, res) },
    ],
    [
      '/v1/completions',
      { method: 'POST', serve: (req, res) => serveInference(state, 'completions', req, res) },
    ],
    [
      '/v1/embeddings',
      { method: 'POST', serve: (req, res) => serveInference(state, 'embeddings', req, res) },
    ],
    [
      '/v1/models',
      {
        method: 'GET',
        serve: async (_req, res) => sendJson(res, 200, buildModelList(options.models, state.createdSec)),
      },
    ],
    [
      '/health',
      {
        method: 'GET',
        // Never waits on a slot or the queue: a router probing health under load must get a fast answer.
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
          const snapshot = {
            modelName: options.models[0] ?? '',
            running: scheduler.running,
            waiting: scheduler.waiting,
            kvCacheUsage: kvCache.usage,
            kvCacheUsedTokens: kvCache.usedTokens,
            outcomes: counters.outcomes,
            promptTokens: counters.promptTokens,
            generationTokens: counters.generationTokens,
          };
          res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
          res.end(renderMetrics(snapshot, options));
        },
      },
    ],
  ]);
}

export async function handleRequest(
  state: BackendState,
  routes: Routes,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  res.setHeader('x-sim-backend', state.options.name);
  // Checked per request too: a keep-alive connection opened before refusing began must fail as well.
  // Every path is refused, /health and /metrics included: a dead server answers nothing.
  if (state.faults.faults.refuse) {
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
