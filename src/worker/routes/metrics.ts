// GET /metrics (Prometheus text) and GET /dashboard/data (the dashboard's JSON): one call per pool
// coordinator, whatever the number of workloads (the coordinators keep the summaries, core/metrics/), and
// for /metrics one to the deployment's auth-failure counter.

import {
  dashboardView,
  operatorAccess,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from '../../core/index.ts';
import { authModeOf, configErrorCount, type SluiceConfig } from '../config.ts';
import { operatorRefusal } from '../operator-auth.ts';
import type { Env } from '../env.ts';
import { errorResponse } from '../http-error.ts';
import { coordinatorStub } from '../stubs.ts';
import { authStatsStub } from '../auth-failures.ts';

/** A dashboard page: enough rows to read, few enough to stay fast with thousands of workloads. */
const MAX_DASHBOARD_PAGE = 100;

async function summaries(env: Env, config: SluiceConfig, topN: number, offset: number) {
  return Promise.all(
    config.pools.pools.map(async (pool) => ({
      pool: pool.name,
      summary: await coordinatorStub(env, pool.name, config).metricsSnapshot(topN, offset),
    })),
  );
}

export async function handleMetrics(env: Env, config: SluiceConfig): Promise<Response> {
  const [pools, authFailures] = await Promise.all([
    summaries(env, config, config.metricsTopWorkloads, 0),
    authStatsStub(env)
      .counts()
      .then((counts): Record<string, number> => ({ ...counts })),
  ]);
  const body = renderPrometheus({
    pools,
    configErrors: configErrorCount(),
    topWorkloads: config.metricsTopWorkloads,
    authFailures,
  });
  return new Response(body, { headers: { 'content-type': PROMETHEUS_CONTENT_TYPE } });
}

/**
 * /metrics while the configuration is invalid: a scrape that failed would only say "down", so it
 * answers with the config error counter instead (every other route answers 500 config_invalid). Guarded
 * as requireOperator would be, read straight from the raw vars: a string ADMIN_TOKEN is required when
 * set; without one it is open only under an explicit AUTH=off (read as the config reads it). Null (the
 * caller answers 500) when the token itself is invalid, so the endpoint is never opened by a broken
 * config.
 */
export function invalidConfigMetrics(env: Env, authorization: string | undefined): Response | null {
  const token = env.ADMIN_TOKEN;
  if (token !== undefined && token !== '' && typeof token !== 'string') return null;
  const refused = operatorRefusal(
    operatorAccess(
      // An AUTH that is neither on nor off (itself the invalid setting, perhaps) keeps it closed.
      authModeOf(env.AUTH) !== 'off',
      typeof token === 'string' && token !== '' ? token : null,
      authorization,
    ),
  );
  if (refused) return refused;
  const body = renderPrometheus({
    pools: [],
    configErrors: configErrorCount(),
    topWorkloads: 0,
    configValid: false,
  });
  return new Response(body, { headers: { 'content-type': PROMETHEUS_CONTENT_TYPE } });
}

export async function handleDashboardData(
  env: Env,
  config: SluiceConfig,
  query: { readonly offset?: string; readonly limit?: string },
): Promise<Response> {
  const offset = Number(query.offset ?? 0);
  // The configured top N may be larger than a dashboard page (up to MAX_METRICS_TOP_WORKLOADS).
  const limit = Number(query.limit ?? Math.min(config.metricsTopWorkloads, MAX_DASHBOARD_PAGE));
  if (!Number.isInteger(offset) || offset < 0) {
    return errorResponse({ code: 'invalid_request', message: 'offset must be a non-negative integer.' });
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DASHBOARD_PAGE) {
    return errorResponse({
      code: 'invalid_request',
      message: `limit must be an integer from 1 to ${MAX_DASHBOARD_PAGE}.`,
    });
  }
  const pools = await summaries(env, config, limit, offset);
  return Response.json(dashboardView(Date.now(), offset, pools), {
    headers: { 'cache-control': 'no-store' },
  });
}
