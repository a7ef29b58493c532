// The scenarios the sharding study runs: two of the policy lab's own (unchanged, imported from it) and
// hot-pool, a pool big and busy enough to need more than one coordinator (≈ 500 requests per second).

import { DEFAULT_QUEUE_TTL_MS } from '../../src/core/defaults.ts';
import { deriveRng, zipfWeights } from '../prng.ts';
import type { Scenario, WorkloadSpec } from '../scenario.ts';
import { findScenario } from '../scenarios.ts';

const HOT_TENANTS = 1000;
const HOT_RATE_PER_SEC = 520;
const HOT_LOAD_MS = 90_000;
const HOT_SEED = 12;
const HOT_BACKENDS = 32;
const HOT_SLOTS_PER_BACKEND = 32;

function hotWorkloads(): WorkloadSpec[] {
  const weights = zipfWeights(HOT_TENANTS, 1);
  const criticalityRng = deriveRng(HOT_SEED, 'criticality');
  return weights.map((weight, i) => {
    const criticality = 1 + Math.floor(criticalityRng() * 5);
    return {
      id: `h${String(i + 1).padStart(4, '0')}`,
      criticality,
      arrivals: { kind: 'poisson', ratePerSec: HOT_RATE_PER_SEC * weight, startMs: 0, endMs: HOT_LOAD_MS },
      group: `c${criticality}`,
    };
  });
}

/**
 * Shaped like the lab's many-tenants, eight times bigger: 1,000 Zipf tenants, criticality drawn uniformly,
 * 1,024 slots. Mean service ≈ 150 + 15 × 143 ≈ 2.3 s, so the slots serve ≈ 450 req/s against 520 offered
 * (≈ 1.15×) for 90 s: a backlog builds long enough for low-criticality heads to cross the aging horizon.
 */
export const hotPool: Scenario = {
  name: 'hot-pool',
  title: 'Hot pool: 1,000 tenants at ≈ 520 req/s on 1,024 slots',
  purpose:
    'A pool past what one coordinator takes comfortably, overloaded long enough to test the starvation bound.',
  seed: HOT_SEED,
  backends: Array.from({ length: HOT_BACKENDS }, (_, i) => ({
    name: `gpu${i}`,
    slots: HOT_SLOTS_PER_BACKEND,
    ttftMs: 150,
    perTokenMs: 15,
  })),
  tokens: { kind: 'lognormal', medianTokens: 120, sigma: 0.6, maxTokens: 2000 },
  queueTtlMs: DEFAULT_QUEUE_TTL_MS,
  workloads: hotWorkloads(),
  notes: [],
  keyMetric: () => '',
  findings: () => [],
};

/** One of the policy lab's scenarios by name; throws if the lab has none by that name. */
export function labScenario(name: string): Scenario {
  const s = findScenario(name);
  if (!s) throw new Error(`the policy lab has no scenario ${name}`);
  return s;
}

export const SHARDING_SCENARIOS: readonly Scenario[] = [
  hotPool,
  labScenario('many-tenants'),
  labScenario('starvation'),
];
