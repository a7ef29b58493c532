// The named scenarios. Each states what it exists to show and why its parameters are what they are; the
// report prints both, so a reader never has to open this file to interpret a number.

import { DEFAULT_QUEUE_TTL_MS } from '../src/core/defaults.ts';
import { deriveRng, zipfWeights } from './prng.ts';
import type { Scenario, WorkloadSpec } from './scenario.ts';

const referenceCriticality: Scenario = {
  name: 'reference-criticality',
  title: 'Reference: three criticalities on one small backend',
  purpose:
    'The reference design’s example. Everything arrives within 0.6 s and takes about 90 s to drain, so the ' +
    'order in which the queue drains is the whole story: does higher criticality finish first?',
  seed: 1,
  backends: [{ name: 'gpu', slots: 3, ttftMs: 200, perTokenMs: 50 }],
  tokens: { kind: 'fixed', tokens: 50 },
  // 100 requests × 2.65 s / 3 slots ≈ 88 s of work: the default 60 s TTL would evict the tail and hide
  // the drain order, so every request is allowed to wait.
  queueTtlMs: 10 * 60_000,
  workloads: [
    { id: 'crit1', criticality: 1, arrivals: { kind: 'periodic', startMs: 0, intervalMs: 10, count: 50 } },
    { id: 'crit3', criticality: 3, arrivals: { kind: 'periodic', startMs: 200, intervalMs: 10, count: 30 } },
    { id: 'crit5', criticality: 5, arrivals: { kind: 'periodic', startMs: 400, intervalMs: 10, count: 20 } },
  ],
  notes: [
    'Service time 200 + 49 × 50 = 2,650 ms per request; 3 slots serve 1.13 req/s, so the 100 requests take ≈ 88 s.',
    'Queue TTL 10 min instead of the default 60 s, so that every request completes and the drain order is visible.',
  ],
};

const starvation: Scenario = {
  name: 'starvation',
  title: 'Starvation: a low-criticality trickle under sustained high-criticality overload',
  purpose:
    'Two criticality-5 tenants offer 1.2× what the backend can serve for 4 minutes; a criticality-1 tenant ' +
    'sends one request every 10 s. Does the trickle ever get a slot, and how long does it wait?',
  seed: 2,
  backends: [{ name: 'gpu', slots: 4, ttftMs: 200, perTokenMs: 20 }],
  tokens: { kind: 'fixed', tokens: 100 },
  queueTtlMs: DEFAULT_QUEUE_TTL_MS,
  workloads: [
    {
      id: 'batch-a',
      criticality: 5,
      arrivals: { kind: 'poisson', ratePerSec: 1.1, startMs: 0, endMs: 240_000 },
    },
    {
      id: 'batch-b',
      criticality: 5,
      arrivals: { kind: 'poisson', ratePerSec: 1.1, startMs: 0, endMs: 240_000 },
    },
    {
      id: 'trickle',
      criticality: 1,
      arrivals: { kind: 'periodic', startMs: 5_000, intervalMs: 10_000, count: 24 },
    },
  ],
  notes: [
    'Service time 200 + 99 × 20 = 2,180 ms; 4 slots serve 1.83 req/s against 2.2 req/s of criticality-5 load (1.2×).',
    'The criticality-5 backlog grows by ≈ 0.37 req/s (waits grow ≈ 0.2 s per second), so from ≈ 2.5 min on their ' +
      'own waits pass the 30 s aging horizon: the run covers both regimes. The load stops at 4 min, before those ' +
      'waits reach the 60 s TTL.',
    'Default queue TTL (60 s): an evicted request is what a starved client sees.',
  ],
};

const burstVsSteady: Scenario = {
  name: 'burst-vs-steady',
  title: 'Burst vs steady: equal criticality, one tenant dumps 40 requests at once',
  purpose:
    'A steady tenant sends 2 req/s; at t = 10 s a second tenant of the same criticality fires 40 requests at ' +
    'once. The steady tenant should keep its service instead of waiting behind the whole burst.',
  seed: 3,
  backends: [{ name: 'gpu', slots: 4, ttftMs: 200, perTokenMs: 20 }],
  tokens: { kind: 'fixed', tokens: 30 },
  queueTtlMs: DEFAULT_QUEUE_TTL_MS,
  workloads: [
    { id: 'steady', criticality: 3, arrivals: { kind: 'periodic', startMs: 0, intervalMs: 500, count: 120 } },
    { id: 'burst', criticality: 3, arrivals: { kind: 'burst', atMs: 10_000, count: 40 } },
  ],
  notes: [
    'Service time 200 + 29 × 20 = 780 ms; 4 slots serve 5.1 req/s. The steady tenant alone uses 39% of that, ' +
      'so the burst takes ≈ 13 s to drain beside it.',
  ],
};

const MANY_TENANTS = 1000;
const MANY_TENANTS_RATE_PER_SEC = 60;
const MANY_TENANTS_ZIPF_S = 1;
const MANY_TENANTS_LOAD_MS = 120_000;
const MANY_TENANTS_SEED = 4;
const manyTenantWeights = zipfWeights(MANY_TENANTS, MANY_TENANTS_ZIPF_S);
const tenantRate = (rank: number): string =>
  (MANY_TENANTS_RATE_PER_SEC * (manyTenantWeights[rank - 1] ?? 0)).toPrecision(2);

/** Tenant k (1-based) gets the k-th Zipf share of the total rate and a seeded criticality. */
function manyTenantWorkloads(seed: number): WorkloadSpec[] {
  const criticalityRng = deriveRng(seed, 'criticality');
  return manyTenantWeights.map((weight, i) => {
    const rank = i + 1;
    const criticality = 1 + Math.floor(criticalityRng() * 5);
    const tier = rank <= 10 ? 'top 10' : rank <= 100 ? 'rank 11-100' : 'rank 101-1000';
    return {
      id: `t${String(rank).padStart(4, '0')}`,
      criticality,
      arrivals: {
        kind: 'poisson',
        ratePerSec: MANY_TENANTS_RATE_PER_SEC * weight,
        startMs: 0,
        endMs: MANY_TENANTS_LOAD_MS,
      },
      group: `c${criticality} ${tier}`,
      series: `criticality ${criticality}`,
    };
  });
}

const manyTenants: Scenario = {
  name: 'many-tenants',
  title: 'Many tenants: 1,000 workloads, Zipf rates, mixed criticality',
  purpose:
    'A realistic tenant mix at slight overload: a few tenants send most of the traffic, most send a request ' +
    'now and then. Are light tenants protected from heavy ones, is service shared fairly within a ' +
    'criticality, and what does a decision cost with a thousand workloads?',
  seed: MANY_TENANTS_SEED,
  backends: Array.from({ length: 8 }, (_, i) => ({
    name: `gpu${i}`,
    slots: 16,
    ttftMs: 150,
    perTokenMs: 15,
  })),
  tokens: { kind: 'lognormal', medianTokens: 120, sigma: 0.6, maxTokens: 2000 },
  queueTtlMs: DEFAULT_QUEUE_TTL_MS,
  workloads: manyTenantWorkloads(MANY_TENANTS_SEED),
  loadSummary: [
    `${MANY_TENANTS} tenants t0001..t${MANY_TENANTS}; tenant of rank k sends Poisson ${MANY_TENANTS_RATE_PER_SEC}·w_k req/s ` +
      `for ${MANY_TENANTS_LOAD_MS / 1000} s, w_k ∝ k^-${MANY_TENANTS_ZIPF_S} (Zipf): rank 1 sends ${tenantRate(1)} req/s, ` +
      `rank 10 ${tenantRate(10)}, rank 100 ${tenantRate(100)}, rank ${MANY_TENANTS} ${tenantRate(MANY_TENANTS)}.`,
    'Each tenant’s criticality is drawn uniformly from 1..5 (seeded). Report rows group tenants by criticality ' +
      'and rank tier (top 10, 11-100, 101-1000); chart series are criticalities.',
  ],
  notes: [
    'Mean service ≈ 150 + 15 × 143 ≈ 2.3 s; 128 slots serve ≈ 56 req/s against 60 req/s offered (≈ 1.07×) for 2 min, ' +
      'then the backlog drains.',
  ],
};

const heavyTail: Scenario = {
  name: 'heavy-tail',
  title: 'Heavy tail: equal request rates, very unequal completion lengths',
  purpose:
    'Four tenants of equal criticality send the same request rate; two ask for short chat answers, two for ' +
    'long, heavy-tailed generations. Request-counting policies give them equal request shares; the token ' +
    'shares show how much of the backend each really gets. Does charging tokens (workload-aware+tokens) put ' +
    'the chat tenants first?',
  seed: 5,
  backends: [
    { name: 'gpu0', slots: 4, ttftMs: 150, perTokenMs: 25 },
    { name: 'gpu1', slots: 4, ttftMs: 150, perTokenMs: 25 },
  ],
  tokens: { kind: 'lognormal', medianTokens: 60, sigma: 0.5, maxTokens: 1000 },
  queueTtlMs: DEFAULT_QUEUE_TTL_MS,
  workloads: [
    {
      id: 'chat-a',
      criticality: 3,
      arrivals: { kind: 'poisson', ratePerSec: 0.45, startMs: 0, endMs: 300_000 },
    },
    {
      id: 'chat-b',
      criticality: 3,
      arrivals: { kind: 'poisson', ratePerSec: 0.45, startMs: 0, endMs: 300_000 },
    },
    {
      id: 'writer-a',
      criticality: 3,
      arrivals: { kind: 'poisson', ratePerSec: 0.45, startMs: 0, endMs: 300_000 },
      tokens: { kind: 'pareto', minTokens: 40, alpha: 1.1, maxTokens: 8000 },
    },
    {
      id: 'writer-b',
      criticality: 3,
      arrivals: { kind: 'poisson', ratePerSec: 0.45, startMs: 0, endMs: 300_000 },
      tokens: { kind: 'pareto', minTokens: 40, alpha: 1.1, maxTokens: 8000 },
    },
  ],
  notes: [
    'Chat: mean ≈ 68 tokens ≈ 1.8 s of slot time. Writers: Pareto α 1.1 capped at 8,000 tokens (200 s, under the ' +
      '10 min lease): mean ≈ 205 tokens ≈ 5.3 s, with rare generations of minutes. Offered ≈ 80% of 8 slots.',
  ],
};

export const SCENARIOS: readonly Scenario[] = [
  referenceCriticality,
  starvation,
  burstVsSteady,
  manyTenants,
  heavyTail,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
