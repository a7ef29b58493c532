// `npm run bench`: prints benchmark results as markdown. Benchmarks never fail on time.
// `npm run bench -- core`, `-- router`, `-- coordinator` or `-- soak` runs one part (the soak and the
// coordinator sweep run only when asked).

import { runCoordinatorBench } from './coordinator.ts';
import { runCoreBench } from './core.ts';
import { runRouterBench } from './router.ts';
import { runSoak } from './soak.ts';

// Exit through process.exit on Ctrl-C, so the launched routers' process groups are stopped too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const only = process.argv[2];
if (only !== undefined && only !== 'core' && only !== 'router' && only !== 'soak' && only !== 'coordinator') {
  console.error(`unknown benchmark ${JSON.stringify(only)}; use core, router, coordinator or soak`);
  process.exit(2);
}
if (only === 'soak') {
  console.log(await runSoak());
} else if (only === 'coordinator') {
  console.log(await runCoordinatorBench());
} else {
  if (only !== 'router') console.log(runCoreBench());
  if (only !== 'core') {
    console.log('');
    console.log(await runRouterBench());
  }
}
