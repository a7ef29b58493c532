// `npm run bench`: prints benchmark results as markdown. Benchmarks never fail on time.
// `npm run bench -- core`, `-- router`, `-- auth`, `-- metrics`, `-- coordinator`, `-- profile` or
// `-- soak` runs one part (the soak, the metrics bench, the coordinator sweep and the CPU profile run only
// when asked).

import { runAuthBench } from './auth.ts';
import { runCoordinatorBench } from './coordinator.ts';
import { runCoreBench } from './core.ts';
import { runMetricsBench } from './metrics.ts';
import { runProfile } from './profile.ts';
import { runRouterBench } from './router.ts';
import { runSoak } from './soak.ts';

// Exit through process.exit on Ctrl-C, so the launched routers' process groups are stopped too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const PARTS = ['core', 'router', 'auth', 'metrics', 'coordinator', 'profile', 'soak'];
const only = process.argv[2];
if (only !== undefined && !PARTS.includes(only)) {
  console.error(`unknown benchmark ${JSON.stringify(only)}; use ${PARTS.join(', ')}`);
  process.exit(2);
}
if (only === 'soak') {
  console.log(await runSoak());
} else if (only === 'auth') {
  console.log(await runAuthBench());
} else if (only === 'metrics') {
  console.log(await runMetricsBench());
} else if (only === 'profile') {
  console.log(await runProfile());
} else if (only === 'coordinator') {
  console.log(await runCoordinatorBench());
} else {
  if (only !== 'router') console.log(runCoreBench());
  if (only !== 'core') {
    console.log('');
    console.log(await runRouterBench());
    console.log('');
    console.log(await runAuthBench());
  }
}
