// Shared by the lab tests: runs one named scenario under every policy, once per test file.

import { LAB_POLICIES, type LabPolicyName } from '../../lab/policies.ts';
import { generateRequests } from '../../lab/requests.ts';
import type { Scenario } from '../../lab/scenario.ts';
import { findScenario } from '../../lab/scenarios.ts';
import { simulate, type RequestRecord, type SimResult } from '../../lab/simulate.ts';
import { summarize, type GroupSummary, type RunSummary } from '../../lab/summarize.ts';

export interface LabRun {
  readonly result: SimResult;
  readonly summary: RunSummary;
}

export function scenarioNamed(name: string): Scenario {
  const scenario = findScenario(name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  return scenario;
}

export function runScenario(name: string): ReadonlyMap<LabPolicyName, LabRun> {
  const scenario = scenarioNamed(name);
  const requests = generateRequests(scenario);
  return new Map(
    LAB_POLICIES.map((policy) => {
      const result = simulate(scenario, policy, requests);
      return [policy, { result, summary: summarize(result) }];
    }),
  );
}

export function runOf(runs: ReadonlyMap<LabPolicyName, LabRun>, policy: LabPolicyName): LabRun {
  const run = runs.get(policy);
  if (!run) throw new Error(`no run for ${policy}`);
  return run;
}

export function groupOf(run: LabRun, name: string): GroupSummary {
  const g = run.summary.groups.find((x) => x.group === name);
  if (!g) throw new Error(`no group ${name}`);
  return g;
}

export function recordsOf(run: LabRun, workloadId: string): RequestRecord[] {
  return run.result.records.filter((r) => r.request.workloadId === workloadId);
}
