// The guard of the operator endpoints (/admin/*, /metrics, /dashboard/data), mounted on each of them in
// app.ts so they are protected the same way. Who may pass is core's operatorAccess (the README's "Secure
// by default" table); this file turns a refusal into its HTTP answer and counts it. An inference API key
// is never an admin token: it does not match ADMIN_TOKEN, and the answer says so.

import type { MiddlewareHandler } from 'hono';
import { operatorAccess, type OperatorAccess } from '../core/index.ts';
import { countAuthFailure } from './auth-failures.ts';
import type { SluiceConfig } from './config.ts';
import type { Env } from './env.ts';
import { errorResponse } from './http-error.ts';

type GuardEnv = { Bindings: Env; Variables: { config: SluiceConfig; requestId: string } };

const ADMIN_CLOSED_MESSAGE =
  'The operator endpoints are closed: AUTH is on and no ADMIN_TOKEN is set. Set one ' +
  '(deployed: npx wrangler secret put ADMIN_TOKEN; local: ADMIN_TOKEN="…" in .dev.vars, or --var ADMIN_TOKEN:…), ' +
  'then send Authorization: Bearer <ADMIN_TOKEN>. Or run with AUTH=off on a trusted network.';

const UNAUTHORIZED_MESSAGE = 'The operator endpoints need Authorization: Bearer <ADMIN_TOKEN>.';
const INFERENCE_KEY_MESSAGE =
  'An inference API key cannot be used on the operator endpoints; send Authorization: Bearer <ADMIN_TOKEN>.';

/** The answer to a refused operator request (the rules are core's operatorAccess). */
export function operatorRefusal(access: OperatorAccess): Response | null {
  if (access.kind === 'open') return null;
  if (access.kind === 'closed')
    return errorResponse({ code: 'admin_disabled', message: ADMIN_CLOSED_MESSAGE });
  return errorResponse(
    { code: 'unauthorized', message: access.inferenceKey ? INFERENCE_KEY_MESSAGE : UNAUTHORIZED_MESSAGE },
    { 'www-authenticate': 'Bearer realm="sluice-admin"' },
  );
}

export const requireOperator: MiddlewareHandler<GuardEnv> = async (c, next) => {
  const config = c.get('config');
  const access = operatorAccess(config.auth === 'on', config.adminToken, c.req.header('authorization'));
  if (access.kind === 'unauthorized') countAuthFailure(c.env, c.executionCtx, 'admin_token');
  const refused = operatorRefusal(access);
  if (refused) return refused;
  await next();
};
