// Entry point of `npm run lab`; see cli.ts.

import { dirname } from 'node:path';
import { main, nodeIo } from './cli.ts';

process.exitCode = main(process.argv.slice(2), nodeIo(dirname(import.meta.dirname)));
