// Who may use the operator endpoints (/admin/*, and later /metrics and /dashboard): one guard, mounted
// on each of them in app.ts, so they are protected the same way.

import type { MiddlewareHandler } from 'hono';
import type { SluiceConfig } from './config.ts';
import type { Env } from './env.ts';
import { errorResponse } from './http-error.ts';

type GuardEnv = { Bindings: Env; Variables: { config: SluiceConfig; requestId: string } };

/** Enforced only when ADMIN_TOKEN is set. */
export const requireOperator: MiddlewareHandler<GuardEnv> = async (c, next) => {
  const token = c.get('config').adminToken;
  if (token !== null && !bearerMatches(c.req.header('authorization'), token)) {
    return errorResponse(
      { code: 'unauthorized', message: 'The admin API needs Authorization: Bearer <ADMIN_TOKEN>.' },
      { 'www-authenticate': 'Bearer realm="sluice-admin"' },
    );
  }
  await next();
};

/** Constant-time comparison, so response timing does not reveal how much of a guess was right. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = new TextEncoder().encode(header ?? '');
  const expected = new TextEncoder().encode(`Bearer ${token}`);
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given[i] ?? 0) ^ (expected[i] ?? 0);
  return diff === 0;
}
