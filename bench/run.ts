// `npm run bench`: prints benchmark results as markdown. Benchmarks never fail on time.
// `npm run bench -- core`, `-- router`, `-- metrics` or `-- soak` runs one part (the soak and the metrics
// bench run only when asked).

import { runCoreBench } from './core.ts';
import { runMetricsBench } from './metrics.ts';
import { runRouterBench } from './router.ts';
import { runSoak } from './soak.ts';

// Exit through process.exit on Ctrl-C, so the launched routers' process groups are stopped too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const only = process.argv[2];
if (only !== undefined && only !== 'core' && only !== 'router' && only !== 'soak' && only !== 'metrics') {
  console.error(`unknown benchmark ${JSON.stringify(only)}; use core, router, metrics or soak`);
  process.exit(2);
}
if (only === 'soak') {
  console.log(await runSoak());
} else if (only === 'metrics') {
  console.log(await runMetricsBench());
} else {
  if (only !== 'router') console.log(runCoreBench());
  if (only !== 'core') {
    console.log('');
    console.log(await runRouterBench());
  }
}
