// The sharding study: each scenario under the single coordinator (the lab's own simulate()) and under
// a grid of sharded configurations, reduced to the figures docs/scaling.md discusses. Deterministic.

import { DEFAULT_AGING_HORIZON_MS } from '../../src/core/defaults.ts';
import { generateRequests } from '../requests.ts';
import type { Scenario } from '../scenario.ts';
import { simulate } from '../simulate.ts';
import {
  inversionFigures,
  loadFigures,
  waitFigures,
  type InversionFigures,
  type LoadFigures,
  type WaitFigures,
} from './measure.ts';
import { SHARDING_SCENARIOS } from './scenarios.ts';
import type { ShardingConfig } from './sharded-run.ts';
import { SHARDED_POLICY, simulateSharded } from './simulate-sharded.ts';

/** The design's defaults, each varied in turn by the grid: a same-region RPC, a 100 ms check-in. */
export const BASE_CONFIG: ShardingConfig = Object.freeze({
  shards: 4,
  batch: 32,
  rpcMs: 10,
  checkInMs: 100,
  yieldRule: 'strict',
});

export interface StudyRow {
  /** Null: the single coordinator. */
  readonly config: ShardingConfig | null;
  readonly wait: WaitFigures;
  readonly inversion: InversionFigures | null;
  /** Null for the single coordinator, whose calls per second are in `singleCallsPerSec` of the others. */
  readonly load: LoadFigures | null;
  readonly singleCallsPerSec: number;
}

export interface ScenarioStudy {
  readonly scenario: Scenario;
  readonly requests: number;
  readonly rows: readonly StudyRow[];
}

/** Per scenario: the configurations worth running at its size (a 4-slot pool has no use for 8 shards). */
export function gridFor(scenario: Scenario): ShardingConfig[] {
  const b = BASE_CONFIG;
  const slots = scenario.backends.reduce((n, m) => n + m.slots, 0);
  const batch = Math.min(b.batch, Math.max(1, Math.floor(slots / 16)));
  const base = { ...b, batch };
  if (slots < 16) {
    return [{ ...base, shards: 2 }, base, { ...base, checkInMs: 500 }, { ...base, yieldRule: 'waterline' }];
  }
  return [
    { ...base, shards: 2 },
    base,
    { ...base, shards: 8 },
    { ...base, batch: Math.max(1, Math.floor(batch / 4)) },
    { ...base, batch: batch * 4 },
    { ...base, checkInMs: 25 },
    { ...base, checkInMs: 500 },
    { ...base, rpcMs: 50 },
    { ...base, yieldRule: 'waterline' },
    { ...base, checkInMs: 500, yieldRule: 'waterline' },
  ];
}

export function runStudy(scenarios: readonly Scenario[] = SHARDING_SCENARIOS): ScenarioStudy[] {
  return scenarios.map((scenario) => {
    const requests = generateRequests(scenario);
    const single = simulate(scenario, SHARDED_POLICY, requests);
    const singleWait = waitFigures(single.records, DEFAULT_AGING_HORIZON_MS);
    const singleCallsPerSec = (2 * singleWait.dispatched) / (single.endMs / 1000);
    const rows: StudyRow[] = [
      { config: null, wait: singleWait, inversion: null, load: null, singleCallsPerSec },
    ];
    for (const config of gridFor(scenario)) {
      const run = simulateSharded(scenario, config, requests);
      const load = loadFigures(run, run.endMs);
      rows.push({
        config,
        wait: waitFigures(run.records, DEFAULT_AGING_HORIZON_MS),
        inversion: inversionFigures(run),
        load,
        singleCallsPerSec: load.singleCallsPerSec,
      });
    }
    return { scenario, requests: requests.length, rows };
  });
}
