// Worker entry: the Hono app as the default export, plus the Durable Object classes wrangler binds.

import { createApp } from './app.ts';

export { AuthStatsDO } from './auth-failures.ts';
export { CoordinatorDO } from './coordinator-do.ts';
export { WorkloadDO } from './workload-do.ts';

export default createApp();
