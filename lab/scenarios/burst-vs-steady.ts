// burst-vs-steady: one tenant dumps 40 requests beside a steady tenant of the same criticality, and what
// each policy's waits say about who keeps its service.

import { DEFAULT_QUEUE_TTL_MS } from '../../src/core/defaults.ts';
import { group, near, num, sec, WA, WA_TOKENS } from '../findings.ts';
import type { Scenario } from '../scenario.ts';

export type BurstVsSteadyGroup = 'steady' | 'burst';

export const burstVsSteady: Scenario<BurstVsSteadyGroup> = {
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

  keyMetric: (run) =>
    `p95 wait steady / burst: ${sec(group(run, 'steady').waitP95Ms)} / ${sec(group(run, 'burst').waitP95Ms)}`,

  findings(runs) {
    const out = [
      `Steady tenant p95 / max wait: ${[...runs.values()]
        .map(
          (run) =>
            `${run.policy} ${sec(group(run, 'steady').waitP95Ms)} / ${sec(group(run, 'steady').waitMaxMs)}`,
        )
        .join(
          '; ',
        )}. The burst’s own p95: ${[...runs.values()].map((run) => `${run.policy} ${sec(group(run, 'burst').waitP95Ms)}`).join('; ')}.`,
    ];
    const fcfs = runs.get('fcfs');
    for (const name of [WA, WA_TOKENS]) {
      const run = runs.get(name);
      if (!run) continue;
      const steady = group(run, 'steady').waitP95Ms ?? Infinity;
      const burst = group(run, 'burst').waitP95Ms ?? 0;
      if (steady * 4 < burst) {
        out.push(
          `Under ${name} the steady tenant keeps its service (p95 ${num(steady / burst, 2)}× the burst’s)` +
            (name === WA
              ? ': the burst has just been served, so its service gap is short, and requests of the two tenants ' +
                'alternate instead of the steady one queueing behind all 40.'
              : '.'),
        );
        continue;
      }
      let line = `Under ${name} the steady tenant’s p95 is ${num(steady / burst, 2)}× the burst’s: not clearly separated.`;
      const fcfsSteady = fcfs ? group(fcfs, 'steady').waitP95Ms : null;
      if (name === WA_TOKENS && near(steady, fcfsSteady)) {
        line += ` The steady tenant waits as under fcfs (p95 ${sec(steady)} vs ${sec(fcfsSteady)}).`;
        const burstTokens = group(run, 'burst').meanTokens;
        const steadyTokens = group(run, 'steady').meanTokens;
        if (steadyTokens >= 2 * burstTokens) {
          line +=
            ' Start tags advance by tokens, not requests: a dispatch moves a tenant’s finish tag forward by its ' +
            `request’s tokens (burst ${Math.round(burstTokens)}, steady ${Math.round(steadyTokens)} on average) and ` +
            `the lower start tag goes first, so while both wait the burst is granted about ` +
            `${num(steadyTokens / burstTokens, 1)} requests per steady one.`;
        }
      }
      out.push(line);
    }
    return out;
  },
};
