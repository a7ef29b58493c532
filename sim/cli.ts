// Command-line entry of `npm run backend -- --port 8001 --name a`: parses flags, starts one simulated
// backend, prints where it listens, and shuts down on SIGINT/SIGTERM. Exit 2 on bad flags.

import { parseSimArgs, SIM_USAGE } from './flags.ts';
import type { SimOptions } from './options.ts';
import { startSimServer } from './server.ts';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(SIM_USAGE);
  process.exit(0);
}

let options: SimOptions;
try {
  options = parseSimArgs(argv);
} catch (error) {
  console.error(`sim: ${error instanceof Error ? error.message : String(error)}`);
  console.error(SIM_USAGE);
  process.exit(2);
}

const sim = await startSimServer(options);

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  // A second signal means the graceful path is stuck: leave at once.
  if (stopping) process.exit(1);
  stopping = true;
  sim.close().then(
    () => console.log(`sim ${options.name} stopped (${signal})`),
    (error: unknown) => {
      console.error(`sim ${options.name}: close failed`, error);
      process.exitCode = 1;
    },
  );
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

console.log(
  `sim ${options.name} listening on ${sim.url} ` +
    `(max-num-seqs=${options.maxNumSeqs}, ttft=${options.ttftMs}ms, itl=${options.itlMs}ms)`,
);
