// Entry point of `npm run lab:sharding`: runs the sharding study, prints it, and writes
// docs/scaling-lab.md. `-- --scenario NAME` runs one scenario and writes nothing.

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderStudy } from './report.ts';
import { SHARDING_SCENARIOS } from './scenarios.ts';
import { runStudy } from './study.ts';

const OUTPUT = 'docs/scaling-lab.md';
const { values } = parseArgs({ options: { scenario: { type: 'string' } }, strict: true });
const scenarios =
  values.scenario === undefined
    ? SHARDING_SCENARIOS
    : SHARDING_SCENARIOS.filter((s) => s.name === values.scenario);
if (scenarios.length === 0) {
  console.error(
    `unknown scenario ${JSON.stringify(values.scenario)}; valid: ${SHARDING_SCENARIOS.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}
const command =
  values.scenario === undefined
    ? 'npm run lab:sharding'
    : `npm run lab:sharding -- --scenario ${values.scenario}`;
const report = renderStudy(runStudy(scenarios), command);
process.stdout.write(report);
if (values.scenario === undefined) {
  writeFileSync(join(dirname(dirname(import.meta.dirname)), OUTPUT), report);
  console.error(`wrote ${OUTPUT}`);
}
