// The guarantees stated in src/core/policy/workload-aware.ts for token fairness (the default), checked
// with fast-check on the Dispatcher: the bound on how far two backlogged workloads drift apart in tokens
// served (weights included), the weight ratio it implies, and the aging bound that token tags leave alone.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_AGING_HORIZON_MS,
  DEFAULT_RATE_PENALTY_MS,
  DEFAULT_TOKEN_COST_MS_PER_1K,
} from '../../src/core/defaults.ts';
import { Dispatcher, type Lease } from '../../src/core/dispatcher.ts';
import { createPolicy } from '../../src/core/policy/index.ts';
import type { HeadView, WorkloadSignals } from '../../src/core/policy/types.ts';

const policy = createPolicy('workload-aware');
/** G = P / C: how far the rate penalty lets a lighter workload's tag run ahead. */
const G = DEFAULT_RATE_PENALTY_MS / (DEFAULT_TOKEN_COST_MS_PER_1K / 1000);

interface Req {
  readonly estimate: number;
  readonly actual: number;
}

interface WorkloadSpec {
  readonly weight: number;
  readonly ratePerSec: number;
  readonly requests: readonly Req[];
}

interface Tally {
  served: number;
  maxAdvance: number;
  maxError: number;
  next: number;
}

const arbReq = fc
  .record({ estimate: fc.integer({ min: 1, max: 4_000 }), use: fc.double({ min: 0, max: 1.5, noNaN: true }) })
  .map(({ estimate, use }): Req => ({ estimate, actual: Math.round(estimate * use) }));
const arbWorkload = fc.record({
  weight: fc.constantFrom(0.5, 1, 1, 2, 3, 4),
  ratePerSec: fc.double({ min: 0, max: 120, noNaN: true }),
  requests: fc.array(arbReq, { minLength: 1, maxLength: 8 }),
});

/**
 * Every workload keeps a head waiting (its requests cycle), all of criticality 3, none overdue. Steps
 * either fill a free slot or end a running request (with its usage) chosen by the step's value; after
 * each step, `check` sees every workload's tally. Returns the tallies.
 */
function runBacklogged(
  workloads: readonly WorkloadSpec[],
  slots: number,
  steps: readonly number[],
  check: (tallies: readonly Tally[], slots: number) => void,
  reportUsage = true,
  legacyTokenTags = false,
): Tally[] {
  const d = new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: slots }], policy, legacyTokenTags });
  const tallies: Tally[] = workloads.map(() => ({ served: 0, maxAdvance: 0, maxError: 0, next: 0 }));
  const running = new Map<string, { lease: Lease; actual: number }>();
  const signalsOf = (w: WorkloadSpec): WorkloadSignals => ({
    requestRatePerSec: w.ratePerSec,
    averageWaitMs: null,
    lastDispatchedAt: null,
  });
  const headOf = (i: number, now: number): HeadView => {
    const w = workloads[i] as WorkloadSpec;
    const t = tallies[i] as Tally;
    const r = w.requests[t.next % w.requests.length] as Req;
    return {
      requestId: `w${i}/${t.next}`,
      criticality: 3,
      enqueuedAt: now,
      tokenEstimate: r.estimate,
      weight: w.weight,
    };
  };
  workloads.forEach((w, i) => d.offer(`w${i}`, headOf(i, 0), signalsOf(w)));
  let now = 0;
  for (const step of steps) {
    now++;
    const grant = running.size < slots ? d.next(now) : null;
    if (grant) {
      const i = Number(grant.workloadId.slice(1));
      const w = workloads[i] as WorkloadSpec;
      const t = tallies[i] as Tally;
      const r = w.requests[t.next % w.requests.length] as Req;
      const charged = grant.charged ?? NaN;
      t.served += r.actual;
      t.maxAdvance = Math.max(t.maxAdvance, charged / w.weight);
      t.maxError = Math.max(t.maxError, Math.abs(r.actual - charged));
      t.next++;
      running.set(grant.leaseId, { lease: grant, actual: r.actual });
      d.offer(grant.workloadId, headOf(i, now), signalsOf(w));
    } else {
      const ids = [...running.keys()];
      const id = ids[step % ids.length] as string;
      const run = running.get(id);
      running.delete(id);
      d.release(id, now, reportUsage ? run?.actual : undefined);
    }
    check(tallies, slots);
  }
  return tallies;
}

/** The stated bound for workloads i and j (K = every slot, the most either can have in flight). */
function bound(a: Tally, wa: number, b: Tally, wb: number, slots: number): number {
  return G + Math.max(a.maxAdvance, b.maxAdvance) + 2 * slots * (a.maxError / wa + b.maxError / wb);
}

describe('token bound (workload-aware.ts)', () => {
  it('two backlogged workloads of equal criticality never drift apart by more than the bound, weights and true-ups included', () => {
    fc.assert(
      fc.property(
        fc.array(arbWorkload, { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { minLength: 50, maxLength: 400 }),
        (workloads, slots, steps) => {
          runBacklogged(workloads, slots, steps, (tallies, k) => {
            for (let i = 0; i < tallies.length; i++) {
              for (let j = i + 1; j < tallies.length; j++) {
                const a = tallies[i] as Tally;
                const b = tallies[j] as Tally;
                const wa = (workloads[i] as WorkloadSpec).weight;
                const wb = (workloads[j] as WorkloadSpec).weight;
                const drift = Math.abs(a.served / wa - b.served / wb);
                expect(drift).toBeLessThanOrEqual(bound(a, wa, b, wb, k) + 1e-6);
              }
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with exact estimates the drift is at most G plus one grant: the classic bound, plus the rate penalty’s slack', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4_000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 4_000 }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0, max: 120, noNaN: true }),
        fc.array(fc.nat(), { minLength: 50, maxLength: 300 }),
        (a, b, rate, steps) => {
          const exact = (xs: number[]): Req[] => xs.map((x) => ({ estimate: x, actual: x }));
          const workloads = [
            { weight: 1, ratePerSec: rate, requests: exact(a) },
            { weight: 1, ratePerSec: 0, requests: exact(b) },
          ];
          runBacklogged(workloads, 1, steps, ([x, y]) => {
            const largest = Math.max(...a, ...b);
            expect(Math.abs((x as Tally).served - (y as Tally).served)).toBeLessThanOrEqual(G + largest);
          });
        },
      ),
    );
  });

  it('a workload passed over by the rate penalty keeps its credit (regression: joining at the largest granted tag)', () => {
    // `busy` pays the full rate penalty, `calm` none, so calm may run G tokens ahead; it must not run
    // further. When a new head started at the largest tag granted so far, each calm grant ahead of busy
    // lifted busy's next tag to it and busy fell behind by about G every round.
    const exact: Req[] = [{ estimate: 100, actual: 100 }];
    const workloads = [
      { weight: 1, ratePerSec: 1_000, requests: exact },
      { weight: 1, ratePerSec: 0, requests: exact },
    ];
    const steps = Array.from({ length: 2_000 }, (_, i) => i);
    runBacklogged(workloads, 1, steps, ([busy, calm]) => {
      expect(calm!.served - busy!.served).toBeLessThanOrEqual(G + 100);
    });
    // The old rule, kept only for the lab's before-and-after (legacyTokenTags), does drift without bound.
    const [busy, calm] = runBacklogged(workloads, 1, steps, () => {}, true, true);
    expect(calm!.served - busy!.served).toBeGreaterThan(10 * (G + 100));
  });

  it('charging estimates without the true-up lets an over-asker fall behind without bound', () => {
    // Both generate 100 tokens; `over` asks for 800. Served tokens after 400 grants: with usage reported
    // the two stay within the bound; without it `over` gets about an eighth of `fair`'s tokens.
    const workloads: WorkloadSpec[] = [
      { weight: 1, ratePerSec: 0, requests: [{ estimate: 800, actual: 100 }] },
      { weight: 1, ratePerSec: 0, requests: [{ estimate: 100, actual: 100 }] },
    ];
    const steps = Array.from({ length: 800 }, (_, i) => i);
    const [overTrued, fairTrued] = runBacklogged(workloads, 1, steps, () => {});
    const [overEst, fairEst] = runBacklogged(workloads, 1, steps, () => {}, false);
    expect(Math.abs(overTrued!.served - fairTrued!.served)).toBeLessThanOrEqual(G + 800);
    expect(fairEst!.served / overEst!.served).toBeGreaterThan(6);
  });
});

describe('weight ratio', () => {
  it('weights 1, 2 and 4 under sustained backlog are served tokens 1 : 2 : 4', () => {
    const same: Req[] = [{ estimate: 100, actual: 100 }];
    const workloads = [1, 2, 4].map((weight) => ({ weight, ratePerSec: 0, requests: same }));
    const steps = Array.from({ length: 1_400 }, (_, i) => i);
    const [w1, w2, w4] = runBacklogged(workloads, 1, steps, () => {}).map((t) => t.served);
    const total = w1! + w2! + w4!;
    expect(w1! / total).toBeCloseTo(1 / 7, 2);
    expect(w2! / total).toBeCloseTo(2 / 7, 2);
    expect(w4! / total).toBeCloseTo(4 / 7, 2);
  });

  it('shares approach the weight ratio for any weights and request mixes (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 3, 4),
        fc.constantFrom(1, 2, 3, 4),
        fc.array(
          fc.record({
            estimate: fc.integer({ min: 100, max: 4_000 }),
            use: fc.double({ min: 0.5, max: 1.5, noNaN: true }),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (wa, wb, mix) => {
          const nonEmpty = mix.map(({ estimate, use }) => ({ estimate, actual: Math.round(estimate * use) }));
          const workloads = [
            { weight: wa, ratePerSec: 0, requests: nonEmpty },
            { weight: wb, ratePerSec: 0, requests: nonEmpty },
          ];
          const steps = Array.from({ length: 3_000 }, (_, i) => i);
          const [a, b] = runBacklogged(workloads, 1, steps, () => {});
          // The additive bound, relative to what was served: the ratio converges to wa : wb.
          const slack = bound(a!, wa, b!, wb, 1);
          expect(Math.abs(a!.served / wa - b!.served / wb)).toBeLessThanOrEqual(slack + 1e-6);
          expect(a!.served / wa + b!.served / wb).toBeGreaterThan(4 * slack);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('aging bound, unchanged by token fairness', () => {
  it('a request at the head of its workload waits at most H plus one service turn per other workload, whatever the tags and criticalities', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            criticality: fc.integer({ min: 1, max: 5 }),
            estimate: fc.integer({ min: 0, max: 50_000 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 100, max: 5_000 }),
        (others, trickleAt, serviceMs) => {
          const d = new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: 1 }], policy });
          const signals: WorkloadSignals = {
            requestRatePerSec: 0,
            averageWaitMs: null,
            lastDispatchedAt: null,
          };
          const count = others.map(() => 0);
          const offer = (i: number, now: number): void => {
            const o = others[i]!;
            const head = { requestId: `o${i}/${count[i]}`, criticality: o.criticality, enqueuedAt: now };
            d.offer(`o${i}`, { ...head, tokenEstimate: o.estimate }, signals);
          };
          others.forEach((_, i) => offer(i, 0));
          let now = 0;
          let offered = false;
          for (;;) {
            if (!offered && now >= trickleAt) {
              d.offer(
                'trickle',
                { requestId: 't', criticality: 1, enqueuedAt: trickleAt, tokenEstimate: 0 },
                signals,
              );
              offered = true;
            }
            const grant = d.next(now);
            if (!grant) throw new Error('one slot and waiting heads: expected a grant');
            if (grant.workloadId === 'trickle') {
              expect(now - trickleAt).toBeLessThanOrEqual(
                DEFAULT_AGING_HORIZON_MS + (others.length + 1) * serviceMs,
              );
              return;
            }
            const i = Number(grant.workloadId.slice(1));
            count[i]!++;
            offer(i, now);
            now += serviceMs;
            d.release(grant.leaseId, now, others[i]!.estimate);
          }
        },
      ),
    );
  });
});
