// Who may use the operator endpoints (/admin/*, and later /metrics and /dashboard): one guard, mounted
// on each of them in app.ts, so they are protected the same way. The rules:
//   AUTH=on,  no ADMIN_TOKEN → closed (403, saying how to set one): a deployment is never open by omission;
//   AUTH=on,  ADMIN_TOKEN    → `Authorization: Bearer <ADMIN_TOKEN>` required (401 otherwise);
//   AUTH=off, no ADMIN_TOKEN → open: the network is trusted (local use, or behind Cloudflare Access);
//   AUTH=off, ADMIN_TOKEN    → required, as with AUTH=on.
// An inference API key is never an admin token: it does not match ADMIN_TOKEN, and the answer says so.

import type { MiddlewareHandler } from 'hono';
import { API_KEY_PATTERN, bearerToken, constantTimeEqual } from '../core/index.ts';
import { countAuthFailure } from './auth-failures.ts';
import type { SluiceConfig } from './config.ts';
import type { Env } from './env.ts';
import { errorResponse } from './http-error.ts';

type GuardEnv = { Bindings: Env; Variables: { config: SluiceConfig; requestId: string } };

export const ADMIN_CLOSED_MESSAGE =
  'The operator endpoints are closed: AUTH is on and no ADMIN_TOKEN is set. Set one ' +
  '(deployed: npx wrangler secret put ADMIN_TOKEN; local: ADMIN_TOKEN="…" in .dev.vars, or --var ADMIN_TOKEN:…), ' +
  'then send Authorization: Bearer <ADMIN_TOKEN>. Or run with AUTH=off on a trusted network.';

export const requireOperator: MiddlewareHandler<GuardEnv> = async (c, next) => {
  const config = c.get('config');
  const token = config.adminToken;
  if (token === null) {
    if (config.auth === 'on') return errorResponse({ code: 'admin_disabled', message: ADMIN_CLOSED_MESSAGE });
    await next();
    return;
  }
  const header = c.req.header('authorization');
  if (!bearerMatches(header, token)) {
    countAuthFailure(c.env, c.executionCtx, 'admin_token');
    const presented = bearerToken(header);
    const message =
      presented !== null && API_KEY_PATTERN.test(presented)
        ? 'An inference API key cannot be used on the operator endpoints; send Authorization: Bearer <ADMIN_TOKEN>.'
        : 'The operator endpoints need Authorization: Bearer <ADMIN_TOKEN>.';
    return errorResponse(
      { code: 'unauthorized', message },
      { 'www-authenticate': 'Bearer realm="sluice-admin"' },
    );
  }
  await next();
};

/** Constant-time comparison (core's constantTimeEqual), so timing does not reveal how much of a guess was right. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  return constantTimeEqual(header ?? '', `Bearer ${token}`);
}
