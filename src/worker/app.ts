// The Hono app: routes, the config gate, request IDs, and OpenAI-shaped errors for everything else.
// Thin by design: scheduling decisions are made in src/core, hosted by the Durable Objects.

import { Hono, type Context } from 'hono';
import { loadConfig, type SluiceConfig } from './config.ts';
import type { Env } from './env.ts';
import { errorResponse } from './http-error.ts';
import { requestIdFrom } from './request-id.ts';
import { handleBackends, handleGetWorkload, handleListWorkloads } from './routes/admin.ts';
import { handleInference } from './routes/inference.ts';
import { handleModels } from './routes/models.ts';
import {
  handleCreateKey,
  handleGetKey,
  handleListKeys,
  handleRevokeKey,
  handleUpdateKey,
} from './routes/keys.ts';
import { handleAuthStatus } from './routes/auth-status.ts';
import { authenticate } from './authenticate.ts';
import { handleDashboardData, handleMetrics, invalidConfigMetrics } from './routes/metrics.ts';
import { DASHBOARD_ASSETS } from './dashboard/assets.ts';
import { requireOperator } from './operator-auth.ts';

type AppEnv = { Bindings: Env; Variables: { config: SluiceConfig; requestId: string } };

const INFERENCE_PATHS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;
const ROUTES: Record<string, string> = {
  '/v1/chat/completions': 'POST',
  '/v1/completions': 'POST',
  '/v1/embeddings': 'POST',
  '/v1/models': 'GET',
  '/healthz': 'GET',
  '/admin/workloads': 'GET',
  '/admin/backends': 'GET',
  '/admin/keys': 'GET, POST',
  '/admin/auth': 'GET',
  '/metrics': 'GET',
  '/dashboard': 'GET',
  '/dashboard/data': 'GET',
};

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    const requestId = requestIdFrom(c.req.raw.headers);
    c.set('requestId', requestId);
    const loaded = loadConfig(c.env);
    if (!loaded.ok) {
      if (c.req.method === 'GET' && c.req.path === '/metrics') {
        const scrape = invalidConfigMetrics(c.env, c.req.header('authorization'));
        if (scrape) return scrape;
      }
      return errorResponse(
        { code: 'config_invalid', message: loaded.message },
        { 'x-request-id': requestId },
      );
    }
    c.set('config', loaded.config);
    await next();
    c.res.headers.set('x-request-id', requestId);
  });

  app.use('/admin/*', requireOperator);
  app.use('/metrics', requireOperator);
  // The dashboard's shell and scripts hold no data and must load before the operator has typed the
  // token (the page asks for it); everything it shows comes from /dashboard/data, which is guarded.
  app.use('/dashboard/data', requireOperator);

  for (const path of INFERENCE_PATHS) {
    app.post(path, (c) =>
      handleInference({
        request: c.req.raw,
        env: c.env,
        ctx: c.executionCtx,
        config: c.get('config'),
        requestId: c.get('requestId'),
        path,
      }),
    );
  }
  app.get('/v1/models', async (c) => {
    // Listing may ask a catch-all pool's backends: with AUTH on, that needs a key like inference does.
    const auth = await authenticate(c.req.raw, c.env, c.executionCtx, c.get('config'), {});
    return auth.ok ? handleModels(c.get('config')) : auth.response;
  });
  app.get('/healthz', (c) => {
    const config = c.get('config');
    return c.json({
      status: 'ok',
      policy: config.policy,
      backends: config.backends.map((b) => b.name),
      pools: config.pools.pools.map((p) => ({
        name: p.name,
        models: p.models,
        backends: p.backends.map((b) => b.name),
      })),
    });
  });
  app.get('/admin/workloads', (c) => handleListWorkloads(c.env, c.get('config'), c.req.query('offset')));
  app.get('/admin/workloads/:id', (c) => handleGetWorkload(c.env, c.get('config'), c.req.param('id')));
  app.get('/admin/backends', (c) => handleBackends(c.env, c.get('config')));
  app.get('/admin/keys', (c) =>
    handleListKeys(c.env, c.get('config'), { cursor: c.req.query('cursor'), limit: c.req.query('limit') }),
  );
  app.post('/admin/keys', (c) => handleCreateKey(c.req.raw, c.env, c.get('config')));
  app.get('/admin/keys/:id', (c) => handleGetKey(c.env, c.get('config'), c.req.param('id')));
  app.patch('/admin/keys/:id', (c) => handleUpdateKey(c.req.raw, c.env, c.get('config'), c.req.param('id')));
  app.delete('/admin/keys/:id', (c) => handleRevokeKey(c.env, c.get('config'), c.req.param('id')));
  app.get('/admin/auth', (c) => handleAuthStatus(c.env, c.get('config')));
  app.get('/metrics', (c) => handleMetrics(c.env, c.get('config')));
  app.get('/dashboard/data', (c) =>
    handleDashboardData(c.env, c.get('config'), {
      offset: c.req.query('offset'),
      limit: c.req.query('limit'),
    }),
  );
  for (const [path, asset] of DASHBOARD_ASSETS) {
    app.get(
      `/dashboard${path}`,
      () =>
        new Response(asset.body, { headers: { 'content-type': asset.type, 'cache-control': 'no-cache' } }),
    );
  }

  app.all('*', (c) => notFoundOrWrongMethod(c));
  app.onError((err, c) => {
    console.error(
      `[sluice] ${c.req.method} ${c.req.path} failed: ${err instanceof Error ? err.stack : String(err)}`,
    );
    return errorResponse(
      { code: 'internal_error', message: 'Internal error in the router.' },
      {
        'x-request-id': c.get('requestId') ?? '',
      },
    );
  });
  return app;
}

function notFoundOrWrongMethod(c: Context<AppEnv>): Response {
  const path = c.req.path;
  const allowed =
    ROUTES[path] ??
    (path.startsWith('/admin/workloads/')
      ? 'GET'
      : path.startsWith('/admin/keys/')
        ? 'GET, PATCH, DELETE'
        : undefined);
  if (allowed !== undefined) {
    return errorResponse(
      { code: 'method_not_allowed', message: `${c.req.method} is not allowed on ${path}; use ${allowed}.` },
      { allow: allowed },
    );
  }
  return errorResponse({ code: 'not_found', message: `No route for ${c.req.method} ${path}.` });
}
