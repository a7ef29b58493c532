// Worker entry: the Hono app as the default export, plus the Durable Object classes wrangler binds.

import { env } from 'cloudflare:workers';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import type { Env } from './env.ts';

export { AuthStatsDO } from './auth-failures.ts';
export { CoordinatorDO } from './coordinator-do.ts';
export { WorkloadDO } from './workload-do.ts';

// Parsed once at isolate start, so the auth mode (and any config error) is logged when the router starts
// (`wrangler dev` prints it), not only at the first request.
loadConfig(env as Env);

export default createApp();
