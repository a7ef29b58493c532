// The named scenarios, in report order. Each lives in lab/scenarios/ with what it exists to show, why its
// parameters are what they are, and the findings the report prints about its runs.

import type { Scenario } from './scenario.ts';
import { burstVsSteady } from './scenarios/burst-vs-steady.ts';
import { heavyTail } from './scenarios/heavy-tail.ts';
import { manyTenants } from './scenarios/many-tenants.ts';
import { overAsking } from './scenarios/over-asking.ts';
import { referenceCriticality } from './scenarios/reference-criticality.ts';
import { starvation } from './scenarios/starvation.ts';
import { weighted } from './scenarios/weighted.ts';

export const SCENARIOS: readonly Scenario[] = [
  referenceCriticality,
  starvation,
  burstVsSteady,
  manyTenants,
  heavyTail,
  overAsking,
  weighted,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
