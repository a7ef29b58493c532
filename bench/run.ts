// `npm run bench`: prints benchmark results as markdown. Benchmarks never fail on time.
// `npm run bench -- core` or `-- router` runs one part.

import { runCoreBench } from './core.ts';
import { runRouterBench } from './router.ts';

const only = process.argv[2];
if (only !== undefined && only !== 'core' && only !== 'router') {
  console.error(`unknown benchmark ${JSON.stringify(only)}; use core or router`);
  process.exit(2);
}
if (only !== 'router') console.log(runCoreBench());
if (only !== 'core') {
  console.log('');
  console.log(await runRouterBench());
}
