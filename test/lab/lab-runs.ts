// Shared by the lab tests: runs one scenario under every policy, once per test file, with its group IDs
// typed, so a test that names a group the scenario does not have fails to compile.

import { LAB_POLICIES, type LabPolicyName } from '../../lab/policies.ts';
import { generateRequests } from '../../lab/requests.ts';
import type { Scenario } from '../../lab/scenario.ts';
import { simulate, type RequestRecord, type SimResult } from '../../lab/simulate.ts';
import { summarize, type GroupSummary, type RunSummary } from '../../lab/summarize.ts';

export interface LabRun<G extends string = string> {
  readonly result: SimResult;
  readonly summary: RunSummary<G>;
}

export function runScenario<G extends string>(scenario: Scenario<G>): ReadonlyMap<LabPolicyName, LabRun<G>> {
  const requests = generateRequests(scenario);
  return new Map(
    LAB_POLICIES.map((policy) => {
      const result = simulate(scenario, policy, requests);
      // summarize() groups requests by their workload's group, and every workload's group is a G.
      return [policy, { result, summary: summarize(result) as RunSummary<G> }];
    }),
  );
}

export function runOf<G extends string>(
  runs: ReadonlyMap<LabPolicyName, LabRun<G>>,
  policy: LabPolicyName,
): LabRun<G> {
  const run = runs.get(policy);
  if (!run) throw new Error(`no run for ${policy}`);
  return run;
}

export function groupOf<G extends string>(run: LabRun<G>, name: NoInfer<G>): GroupSummary<G> {
  const g = run.summary.groups.find((x) => x.group === name);
  if (!g) throw new Error(`no group ${name}`);
  return g;
}

export function recordsOf(run: LabRun, workloadId: string): RequestRecord[] {
  return run.result.records.filter((r) => r.request.workloadId === workloadId);
}
