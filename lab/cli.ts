// The lab's command line: picks scenarios and policies, runs them, prints the report, and on a full run
// writes docs/policy-lab.md and the charts. I/O is injected so tests run it without touching the repo.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { isLabPolicy, LAB_POLICIES, type LabPolicyName } from './policies.ts';
import { quotePolicySource, renderReport, type ScenarioRuns } from './report.ts';
import { generateRequests } from './requests.ts';
import type { Scenario } from './scenario.ts';
import { findScenario, SCENARIOS } from './scenarios.ts';
import { simulate, type SimResult } from './simulate.ts';
import { summarize } from './summarize.ts';
import { renderWaitChart } from './wait-chart.ts';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (repoPath: string) => string;
  /** Creates parent directories as needed. */
  readonly writeFile: (repoPath: string, text: string) => void;
}

export const REPORT_PATH = 'docs/policy-lab.md';
export const CHARTS_DIR = 'docs/lab';
const POLICY_SOURCE = 'src/core/policy/workload-aware.ts';
const USAGE = 'usage: npm run lab [-- [--scenario NAME] [--policy NAME]]';

export function nodeIo(repoRoot: string): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readFile: (p) => readFileSync(join(repoRoot, p), 'utf8'),
    writeFile: (p, text) => {
      mkdirSync(dirname(join(repoRoot, p)), { recursive: true });
      writeFileSync(join(repoRoot, p), text);
    },
  };
}

/** Returns the exit code: 0 on success, 2 on bad usage. */
export function main(argv: readonly string[], io: CliIo): number {
  let values: { scenario?: string; policy?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        scenario: { type: 'string' },
        policy: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(
      `${USAGE}\n  scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}\n  policies: ${LAB_POLICIES.join(', ')}\n`,
    );
    return 0;
  }

  let scenarios: readonly Scenario[] = SCENARIOS;
  if (values.scenario !== undefined) {
    const found = findScenario(values.scenario);
    if (!found) {
      io.stderr(`unknown scenario "${values.scenario}"; valid: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
      return 2;
    }
    scenarios = [found];
  }
  if (values.policy !== undefined && !isLabPolicy(values.policy)) {
    io.stderr(`unknown policy "${values.policy}"; valid: ${LAB_POLICIES.join(', ')}\n`);
    return 2;
  }
  const policies: readonly LabPolicyName[] = values.policy === undefined ? LAB_POLICIES : [values.policy];
  const full = values.scenario === undefined && values.policy === undefined;

  const results: ScenarioRuns[] = [];
  const raw: SimResult[] = [];
  for (const scenario of scenarios) {
    const requests = generateRequests(scenario);
    const runs = policies.map((policy) => simulate(scenario, policy, requests));
    raw.push(...runs);
    results.push({ scenario, runs: runs.map(summarize) });
    if (full) io.writeFile(`${CHARTS_DIR}/${scenario.name}.svg`, renderWaitChart(scenario, runs));
  }

  const command = full
    ? 'npm run lab'
    : `npm run lab -- ${[
        ...(values.scenario !== undefined ? ['--scenario', values.scenario] : []),
        ...(values.policy !== undefined ? ['--policy', values.policy] : []),
      ].join(' ')}`;
  const report = renderReport({
    results,
    quote: quotePolicySource(POLICY_SOURCE, io.readFile(POLICY_SOURCE)),
    chartsDir: full ? CHARTS_DIR.replace(/^docs\//, '') : null,
    command,
  });
  io.stdout(report);
  if (full) io.writeFile(REPORT_PATH, report);
  io.stderr(renderDecisionCost(raw));
  if (full) io.stderr(`wrote ${REPORT_PATH} and ${results.length} charts in ${CHARTS_DIR}/\n`);
  return 0;
}

/** Wall-clock, so stderr only: it changes from run to run and machine to machine. */
function renderDecisionCost(runs: readonly SimResult[]): string {
  const lines = ['decision cost (wall clock; varies between runs, never in the report):'];
  for (const r of runs) {
    const perGrantUs =
      r.decisionCost.grants === 0 ? 0 : (r.decisionCost.wallMs * 1000) / r.decisionCost.grants;
    const perCallUs =
      r.decisionCost.dispatchCalls === 0 ? 0 : (r.decisionCost.wallMs * 1000) / r.decisionCost.dispatchCalls;
    lines.push(
      `  ${`${r.scenario}/${r.policy}`.padEnd(44)} up to ${String(r.peakReadyWorkloads).padStart(4)} ready workloads  ` +
        `${String(r.decisionCost.grants).padStart(6)} grants  ${perGrantUs.toFixed(2).padStart(7)} µs/grant  ` +
        `${perCallUs.toFixed(2).padStart(7)} µs/dispatch() call`,
    );
  }
  return lines.join('\n') + '\n';
}
