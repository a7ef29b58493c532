// many-tenants: 1,000 workloads with Zipf rates and mixed criticality at slight overload, grouped by
// criticality and rank tier, and what each policy's waits and fairness say about light tenants.

import {
  DEFAULT_AGING_HORIZON_MS,
  DEFAULT_CRITICALITY_STEP_MS,
  DEFAULT_QUEUE_TTL_MS,
} from '../../src/core/defaults.ts';
import { group, NEAR_MS, H_SEC, num, sec, STEP_SEC, WA_TOKENS } from '../findings.ts';
import { deriveRng, type Rng, zipfWeights } from '../prng.ts';
import type { Scenario, WorkloadSpec } from '../scenario.ts';
import type { RunSummary } from '../summarize.ts';

const CRITICALITIES = [1, 2, 3, 4, 5] as const;
type Criticality = (typeof CRITICALITIES)[number];
type Tier = 'top 10' | 'rank 11-100' | 'rank 101-1000';
/** A report row: the tenants of one criticality in one rank tier. */
export type ManyTenantsGroup = `c${Criticality} ${Tier}`;

const MANY_TENANTS = 1000;
const MANY_TENANTS_RATE_PER_SEC = 60;
const MANY_TENANTS_ZIPF_S = 1;
const MANY_TENANTS_LOAD_MS = 120_000;
const MANY_TENANTS_SEED = 4;
const manyTenantWeights = zipfWeights(MANY_TENANTS, MANY_TENANTS_ZIPF_S);
const tenantRate = (rank: number): string =>
  (MANY_TENANTS_RATE_PER_SEC * (manyTenantWeights[rank - 1] ?? 0)).toPrecision(2);

/** Uniform over 1..5, one draw. */
function drawCriticality(rng: Rng): Criticality {
  const c = CRITICALITIES[Math.floor(rng() * CRITICALITIES.length)];
  if (c === undefined) throw new RangeError('drawCriticality: rng() must be in [0, 1)');
  return c;
}

/** Tenant k (1-based) gets the k-th Zipf share of the total rate and a seeded criticality. */
function manyTenantWorkloads(seed: number): WorkloadSpec<ManyTenantsGroup>[] {
  const criticalityRng = deriveRng(seed, 'criticality');
  return manyTenantWeights.map((weight, i) => {
    const rank = i + 1;
    const criticality = drawCriticality(criticalityRng);
    const tier: Tier = rank <= 10 ? 'top 10' : rank <= 100 ? 'rank 11-100' : 'rank 101-1000';
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

export const manyTenants: Scenario<ManyTenantsGroup> = {
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

  keyMetric: (run) =>
    `p95 wait of light tenants (rank 101-1000) c1 / c3 / c5: ${([1, 3, 5] as const).map((c) => sec(group(run, `c${c} rank 101-1000`).waitP95Ms)).join(' / ')}`,

  findings(runs) {
    const all = [...runs.values()];
    const any = all[0];
    if (!any) return [];
    const active = any.groups.reduce((sum, g) => sum + g.workloads, 0);
    const fcfs = runs.get('fcfs');
    const wa = runs.get('workload-aware');
    const seed = runs.get('seed');
    const out = [
      `${active} of the tenants sent at least one request (${any.requests} requests in all); at most ` +
        `${Math.max(...all.map((r) => r.peakReadyWorkloads))} were waiting for a slot at once.`,
    ];
    let jain = `Jain’s index (service within a criticality): ${all.map((r) => `${r.policy} ${num(r.jain, 3)}`).join('; ')}.`;
    if (fcfs && wa && fcfs.jain !== null && wa.jain !== null && fcfs.jain < wa.jain) {
      jain +=
        ' FCFS hands out slots in proportion to demand, so the heaviest tenants take the shares of the light ones.';
    }
    out.push(jain);
    const highP95 = (run: RunSummary<ManyTenantsGroup>): number =>
      Math.max(...run.groups.filter((g) => g.criticality >= 3).map((g) => g.waitP95Ms ?? 0));
    out.push(
      `p95 wait of criticality 3 to 5, worst group: ${all.map((r) => `${r.policy} ${sec(highP95(r))}`).join('; ')}. ` +
        `Criticality 1 (lowest): ${all
          .map(
            (r) =>
              `${r.policy} max wait ${sec(r.lowestCriticalityMaxWaitMs)}, ${r.lowestCriticalityEvicted} evicted`,
          )
          .join('; ')}.`,
    );
    if (wa && seed && seed.lowestCriticalityEvicted > 0 && wa.lowestCriticalityEvicted === 0) {
      const bounded = (wa.lowestCriticalityMaxWaitMs ?? Infinity) <= DEFAULT_AGING_HORIZON_MS + 1000;
      out.push(
        'seed and workload-aware both protect the higher criticalities during the overload; seed does it by ' +
          'evicting criticality-1 requests, workload-aware by making them wait' +
          (bounded ? ` up to the ${H_SEC} s horizon and no longer.` : ' (and none is evicted).'),
      );
    }
    const tokens = runs.get(WA_TOKENS);
    if (wa && tokens) {
      const light3: ManyTenantsGroup = 'c3 rank 101-1000';
      const heavy1: ManyTenantsGroup = 'c1 top 10';
      const heavyWaitMs = (run: RunSummary<ManyTenantsGroup>): number => group(run, heavy1).waitP50Ms ?? 0;
      out.push(
        `${WA_TOKENS} vs workload-aware: Jain ${num(tokens.jain, 3)} vs ${num(wa.jain, 3)}; p95 wait of the light ` +
          `criticality-3 tenants ${sec(group(tokens, light3).waitP95Ms)} vs ${sec(group(wa, light3).waitP95Ms)}; median ` +
          `wait of the top-10 criticality-1 tenants ${sec(group(tokens, heavy1).waitP50Ms)} vs ` +
          `${sec(group(wa, heavy1).waitP50Ms)}; ${tokens.lowestCriticalityEvicted} vs ${wa.lowestCriticalityEvicted} ` +
          'criticality-1 requests evicted.',
      );
      const levels = [4, 3, 2, 1];
      const longest = levels.map((c) =>
        Math.max(0, ...tokens.groups.filter((g) => g.criticality === c).map((g) => g.waitMaxMs ?? 0)),
      );
      if (longest.every((ms, i) => ms < (5 - (levels[i] as number)) * DEFAULT_CRITICALITY_STEP_MS)) {
        out.push(
          `Under ${WA_TOKENS} the longest wait of each criticality c stays under (5 − c) × ${STEP_SEC} s ` +
            `(c4 / c3 / c2 / c1: ${longest.map((ms) => sec(ms)).join(' / ')}), the pattern of a score of about ` +
            `wait + S·(c − 1) (see [Policies](#policies)): a criticality level is worth ${STEP_SEC} s of waiting, and ` +
            'a dispatch does not send a tenant to the back of its level.' +
            (heavyWaitMs(wa) >= DEFAULT_AGING_HORIZON_MS - NEAR_MS &&
            heavyWaitMs(tokens) < heavyWaitMs(wa) &&
            (group(tokens, light3).waitP95Ms ?? 0) > (group(wa, light3).waitP95Ms ?? 0)
              ? ' So busy low-criticality tenants are no longer held back to the aging horizon, and light ' +
                'higher-criticality tenants pay for it.'
              : ''),
        );
      }
    }
    if (tokens) {
      const worst = tokens.groups
        .filter((g) => g.criticality >= 3)
        .reduce((a, b) => ((b.waitP95Ms ?? 0) > (a.waitP95Ms ?? 0) ? b : a));
      if (worst.group.endsWith('top 10') && (worst.waitP95Ms ?? 0) >= DEFAULT_AGING_HORIZON_MS - NEAR_MS) {
        out.push(
          `Under ${WA_TOKENS} the worst p95 among criticality 3 to 5 is the heaviest tenants’ (${worst.group}, ` +
            `${sec(worst.waitP95Ms)}): each sends far more than an equal share of tokens, so its start tag runs ` +
            `ahead of lighter tenants’ by more than the ${(DEFAULT_CRITICALITY_STEP_MS / 1000).toFixed(0)} s that a ` +
            'criticality level is worth (5,000 tokens), and lighter tenants, of lower criticality too, go first until ' +
            'its requests reach the aging horizon. Criticality orders tenants whose service is comparable; it does not ' +
            'buy a tenant more than its share.',
        );
      }
    }
    out.push('Decision cost is wall-clock, so it is printed on stderr by `npm run lab`, not here.');
    return out;
  },
};
