// Shared by the lab tests: runs one scenario under every policy, once per test file, with its group IDs
// typed, so a test that names a group the scenario does not have fails to compile; and the slot check
// every simulation (single coordinator or sharded) must pass.

import { expect } from 'vitest';
import type { BackendModel } from '../../lab/backend-model.ts';
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

/** What the slot check reads of a record; both the lab's and the sharded simulation's records have it. */
interface SlotUse {
  readonly backend: string | null;
  readonly dispatchedAtMs: number | null;
  readonly endedAtMs: number | null;
}

/** Sweeps each backend's dispatch and end edges and asserts it never runs more requests than it has slots. */
export function expectSlotsNeverOversubscribed(
  backends: readonly BackendModel[],
  records: readonly SlotUse[],
): void {
  for (const backend of backends) {
    const edges: Array<[number, number]> = [];
    for (const r of records) {
      if (r.backend !== backend.name || r.dispatchedAtMs === null || r.endedAtMs === null) continue;
      edges.push([r.dispatchedAtMs, 1], [r.endedAtMs, -1]);
    }
    // Ends before starts at the same instant: a freed slot may be reused at once.
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let inFlight = 0;
    for (const [, delta] of edges) {
      inFlight += delta;
      expect(inFlight).toBeLessThanOrEqual(backend.slots);
    }
  }
}
