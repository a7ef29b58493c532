// GET /admin/auth: how this deployment is protected and how many authentications failed, by reason
// (deployment-wide, from the AuthStatsDO). The counts are plain numbers an exporter can read as counters.

import { authStatsStub, type AuthFailureCounts } from '../auth-failures.ts';
import type { AuthMode, SluiceConfig } from '../config.ts';
import type { Env } from '../env.ts';

export interface AuthStatus {
  readonly auth: AuthMode;
  readonly adminToken: boolean;
  readonly keyCacheTtlMs: number;
  /** Failed authentications since the deployment's counter was created, by reason. */
  readonly failures: AuthFailureCounts;
}

export async function handleAuthStatus(env: Env, config: SluiceConfig): Promise<Response> {
  const status: AuthStatus = {
    auth: config.auth,
    adminToken: config.adminToken !== null,
    keyCacheTtlMs: config.keyCacheTtlMs,
    failures: await authStatsStub(env).counts(),
  };
  return Response.json(status);
}
