// The dispatcher: best head by policy with a backend while a slot is free, leases that are released
// exactly once or expire, restored leases that hold their slots, and the decision property
// "never grant a lower score while a higher one is ready".

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Dispatcher,
  POLICY_NAMES,
  createPolicy,
  type HeadView,
  type Lease,
  type Policy,
  type PolicyName,
  type WorkloadSignals,
} from '../../src/core/index.ts';

const signals = (s: Partial<WorkloadSignals> = {}): WorkloadSignals => ({
  requestRatePerSec: 0,
  averageWaitMs: null,
  lastDispatchedAt: null,
  ...s,
});
const head = (requestId: string, criticality: number, enqueuedAt: number): HeadView => ({
  requestId,
  criticality,
  enqueuedAt,
});

function fcfsDispatcher(maxConcurrency = 1, leaseTtlMs = 60_000): Dispatcher {
  return new Dispatcher({
    backends: [{ name: 'gpu', maxConcurrency }],
    policy: createPolicy('fcfs'),
    leaseTtlMs,
  });
}

describe('Dispatcher.next', () => {
  it('returns null with no ready head, and with no free slot (the head stays ready)', () => {
    const d = fcfsDispatcher(1);
    expect(d.next(0)).toBeNull();
    d.offer('a', head('a1', 3, 0), signals());
    d.offer('b', head('b1', 3, 5), signals());
    expect(d.next(10)).toMatchObject({ workloadId: 'a', requestId: 'a1', backend: 'gpu', grantedAt: 10 });
    expect(d.next(10)).toBeNull();
    expect(d.readyCount).toBe(1);
    expect(d.peekReady('b')?.head.requestId).toBe('b1');
  });

  it('a granted head leaves the ready set; offer replaces a head, and a null offer withdraws it', () => {
    const d = fcfsDispatcher(5);
    d.offer('a', head('a1', 3, 0), signals());
    d.offer('a', head('a2', 3, 7), signals());
    expect(d.readyCount).toBe(1);
    d.offer('b', head('b1', 3, 3), signals());
    d.offer('c', head('c1', 3, 1), signals());
    d.offer('c', null, signals());
    expect(d.scoreOf('c', 10)).toBeNull();
    expect(d.scoreOf('b', 10)).toBe(7);
    expect(d.next(10)?.requestId).toBe('b1');
    expect(d.next(10)?.requestId).toBe('a2');
    expect(d.next(10)).toBeNull();
    expect(d.readyCount).toBe(0);
  });

  it('sends each grant to the most free backend relative to its max, ties to the first listed', () => {
    const d = new Dispatcher({
      backends: [
        { name: 'small', maxConcurrency: 2 },
        { name: 'big', maxConcurrency: 4 },
      ],
      policy: createPolicy('fcfs'),
    });
    for (let i = 0; i < 7; i++) d.offer(`w${i}`, head(`r${i}`, 3, i), signals());
    const backends: string[] = [];
    for (let g = d.next(100); g; g = d.next(100)) backends.push(g.backend);
    expect(backends).toEqual(['small', 'big', 'big', 'small', 'big', 'big']);
    expect(d.backends(0).map((b) => b.inFlight)).toEqual([2, 4]);
    expect(d.readyCount).toBe(1);
  });

  it('skips a backend that is cooling down, and reports the cooldown end as a deadline', () => {
    const d = new Dispatcher({
      backends: [
        { name: 'a', maxConcurrency: 1 },
        { name: 'b', maxConcurrency: 1 },
      ],
      policy: createPolicy('fcfs'),
    });
    d.reportUnreachable('a', 1_000);
    expect(d.nextDeadline(1_000)).toBe(2_000);
    expect(d.freeSlots(1_000)).toBe(1);
    d.offer('w1', head('r1', 3, 0), signals());
    d.offer('w2', head('r2', 3, 0), signals());
    expect(d.next(1_500)?.backend).toBe('b');
    expect(d.next(1_500)).toBeNull();
    expect(d.next(2_000)?.backend).toBe('a');
    d.reportUnreachable('b', 3_000);
    d.reportReachable('b', 3_000);
    expect(d.backends(3_000).map((b) => b.healthy)).toEqual([true, true]);
  });

  it('workload-aware: a head crossing the horizon moves to the overdue tier, which goes first by service gap', () => {
    const d = new Dispatcher({
      backends: [{ name: 'gpu', maxConcurrency: 3 }],
      policy: createPolicy('workload-aware'),
    });
    // c5 was enqueued last but outranks both c1 heads below the horizon.
    d.offer('old-served', head('a', 1, 0), signals({ lastDispatchedAt: 20_000 }));
    d.offer('young-unserved', head('b', 1, 10_000), signals());
    d.offer('urgent', head('c', 5, 29_000), signals());
    expect(d.next(29_500)?.workloadId).toBe('urgent');
    d.offer('urgent', head('c2', 5, 29_500), signals({ lastDispatchedAt: 29_500 }));
    // At 40 s both c1 heads are overdue; the one whose workload waited longest for a slot goes first.
    expect(d.next(40_000)?.workloadId).toBe('young-unserved');
    expect(d.next(40_000)?.workloadId).toBe('old-served');
    expect(d.readyCount).toBe(1);
    expect(d.peekReady('urgent')?.head.requestId).toBe('c2');
  });

  it('the grant carries the head’s score at decision time', () => {
    const d = new Dispatcher({
      backends: [{ name: 'gpu', maxConcurrency: 1 }],
      policy: createPolicy('workload-aware', { fairness: 'requests' }),
    });
    d.offer('a', head('a1', 4, 1_000), signals({ requestRatePerSec: 25 }));
    expect(d.next(3_000)?.score).toBe(2_000 + 15_000 - 1_000);
  });
});

describe('Dispatcher leases', () => {
  it('release is idempotent: the second release returns null and frees nothing', () => {
    const d = fcfsDispatcher(2);
    d.offer('a', head('a1', 3, 0), signals());
    d.offer('b', head('b1', 3, 0), signals());
    const g1 = d.next(0);
    const g2 = d.next(0);
    if (!g1 || !g2) throw new Error('expected two grants');
    expect(d.freeSlots(0)).toBe(0);
    expect(d.release(g1.leaseId)).toMatchObject({ leaseId: g1.leaseId, requestId: 'a1' });
    expect(d.freeSlots(0)).toBe(1);
    expect(d.release(g1.leaseId)).toBeNull();
    expect(d.release('never-granted')).toBeNull();
    expect(d.freeSlots(0)).toBe(1);
    expect(d.leaseCount).toBe(1);
  });

  it('an expired lease frees its slot; nextDeadline reports the expiry; a late release frees nothing', () => {
    const d = fcfsDispatcher(1, 1_000);
    d.offer('a', head('a1', 3, 0), signals());
    const g = d.next(500);
    if (!g) throw new Error('expected a grant');
    expect(g.expiresAt).toBe(1_500);
    expect(d.nextDeadline(0)).toBe(1_500);
    expect(d.expireLeases(1_499)).toEqual([]);
    expect(d.freeSlots(0)).toBe(0);
    const expired = d.expireLeases(1_500);
    expect(expired.map((l) => l.leaseId)).toEqual([g.leaseId]);
    expect(d.freeSlots(0)).toBe(1);
    expect(d.nextDeadline(0)).toBeNull();
    expect(d.release(g.leaseId)).toBeNull();
    expect(d.freeSlots(0)).toBe(1);
  });

  it('nextDeadline is the earliest expiry among several leases', () => {
    const d = fcfsDispatcher(3, 1_000);
    for (const [i, at] of [300, 100, 200].entries()) {
      d.offer(`w${i}`, head(`r${i}`, 3, 0), signals());
      d.next(at);
    }
    expect(d.nextDeadline(0)).toBe(1_100);
    expect(d.expireLeases(1_250).map((l) => l.grantedAt)).toEqual([100, 200]);
    expect(d.nextDeadline(0)).toBe(1_300);
  });

  it('assign records which request a slot finally went to', () => {
    const d = fcfsDispatcher(1);
    d.offer('a', head('a1', 3, 0), signals());
    const g = d.next(0);
    if (!g) throw new Error('expected a grant');
    d.assign(g.leaseId, 'a7');
    expect(d.leases()).toEqual([expect.objectContaining({ leaseId: g.leaseId, requestId: 'a7' })]);
    expect(d.release(g.leaseId)?.requestId).toBe('a7');
  });

  const restored = (leaseId: string, expiresAt: number, backend = 'gpu'): Lease => ({
    leaseId,
    workloadId: 'w',
    requestId: `req-${leaseId}`,
    backend,
    grantedAt: 0,
    expiresAt,
  });

  it('restoreLeases holds the restored slots until released or expired; duplicates are ignored', () => {
    const d = new Dispatcher({
      backends: [{ name: 'gpu', maxConcurrency: 2 }],
      policy: createPolicy('fcfs'),
      newLeaseId: (() => {
        let n = 0;
        return () => `new-${++n}`;
      })(),
    });
    d.restoreLeases([restored('old-1', 5_000), restored('old-2', 9_000), restored('old-1', 5_000)]);
    expect(d.leaseCount).toBe(2);
    expect(d.freeSlots(0)).toBe(0);
    expect(d.nextDeadline(0)).toBe(5_000);
    d.offer('a', head('a1', 3, 0), signals());
    expect(d.next(100)).toBeNull();
    expect(d.release('old-2')).not.toBeNull();
    expect(d.next(200)).toMatchObject({ leaseId: 'new-1', requestId: 'a1' });
    expect(d.freeSlots(0)).toBe(0);
    expect(d.expireLeases(5_000).map((l) => l.leaseId)).toEqual(['old-1']);
    expect(d.freeSlots(0)).toBe(1);
  });

  it('a restored lease beyond the current maximum still holds a slot', () => {
    const d = fcfsDispatcher(1);
    d.restoreLeases([restored('old-1', 5_000), restored('old-2', 5_000)]);
    expect(d.backends(0)).toEqual([expect.objectContaining({ name: 'gpu', maxConcurrency: 1, inFlight: 2 })]);
    d.release('old-1');
    expect(d.freeSlots(0)).toBe(0);
    d.release('old-2');
    expect(d.freeSlots(0)).toBe(1);
  });

  // Regression: a fresh Dispatcher's default IDs restart at lease-1; after restoreLeases() a duplicate
  // ID used to throw after the head was withdrawn and the slot taken, leaking the slot for good.
  it('after restoreLeases, next() neither reuses a restored lease ID nor leaks a slot', () => {
    const d = fcfsDispatcher(2);
    d.restoreLeases([restored('lease-1', 600_000)]);
    d.offer('a', head('a1', 3, 0), signals());
    const g = d.next(10);
    expect(g?.leaseId).not.toBe('lease-1');
    expect(d.leaseCount).toBe(2);
    expect(d.backends(0)[0]?.inFlight).toBe(2);
  });

  it('rejects a non-positive lease TTL', () => {
    expect(() => fcfsDispatcher(1, 0)).toThrow(TypeError);
    expect(() => fcfsDispatcher(1, Number.NaN)).toThrow(/leaseTtlMs/);
  });
});

describe('Dispatcher decision property', () => {
  type Step =
    | {
        readonly kind: 'offer';
        readonly w: number;
        readonly c: number;
        readonly waitMs: number;
        readonly s: WorkloadSignals;
      }
    | { readonly kind: 'clear'; readonly w: number }
    // The same head again with new signals (an arrival behind it): its keys change in place.
    | { readonly kind: 'reoffer'; readonly w: number; readonly s: WorkloadSignals }
    | { readonly kind: 'next'; readonly dtMs: number }
    | { readonly kind: 'release'; readonly pick: number };

  const H = 30_000;
  // Rates that make the workload-aware penalty (2000·r/50) exact, so score ties are exact ties.
  const signalsArb = fc.record({
    requestRatePerSec: fc.constantFrom(0, 12.5, 25, 50, 100),
    averageWaitMs: fc.option(fc.integer({ min: 0, max: 120_000 })),
    lastDispatchedAt: fc.constant(null),
  });
  const stepArb = (workloads: number): fc.Arbitrary<Step> =>
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('offer' as const),
          w: fc.integer({ min: 0, max: workloads - 1 }),
          c: fc.integer({ min: 1, max: 5 }),
          // Coarse waits so that equal enqueuedAt (a tie) happens often.
          waitMs: fc.integer({ min: 0, max: 8 }).map((k) => k * (H / 4)),
          s: signalsArb,
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('clear' as const), w: fc.nat({ max: workloads - 1 }) }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('reoffer' as const),
          w: fc.nat({ max: workloads - 1 }),
          s: signalsArb,
        }),
      },
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('next' as const),
          dtMs: fc.constantFrom(0, 0, 1_000, 7_500, 40_000),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
    );

  function checkDecisions(makePolicy: () => Policy, numRuns: number): void {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }).chain((w) => fc.array(stepArb(w), { maxLength: 150 })),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
        (steps, maxes) => {
          const policy = makePolicy();
          const d = new Dispatcher({
            backends: maxes.map((m, i) => ({ name: `b${i}`, maxConcurrency: m })),
            policy,
          });
          let now = 1_000_000;
          let n = 0;
          const lastDispatch = new Map<string, number>();
          const leaseIds: string[] = [];
          for (const step of steps) {
            if (step.kind === 'offer') {
              const wid = `w${step.w}`;
              const s = { ...step.s, lastDispatchedAt: lastDispatch.get(wid) ?? null };
              d.offer(wid, head(`r${n++}`, step.c, now - step.waitMs), s);
            } else if (step.kind === 'clear') {
              d.offer(`w${step.w}`, null, signals());
            } else if (step.kind === 'reoffer') {
              const wid = `w${step.w}`;
              const current = d.peekReady(wid);
              const s = { ...step.s, lastDispatchedAt: lastDispatch.get(wid) ?? null };
              if (current) d.offer(wid, current.head, s);
            } else if (step.kind === 'release') {
              const id = leaseIds.length ? leaseIds[step.pick % leaseIds.length] : undefined;
              if (id !== undefined) d.release(id);
            } else {
              now += step.dtMs;
              const ready = [...d.readyHeads()].map((r) => ({
                ...r,
                score: policy.score(r.head, r.signals, now),
              }));
              const free = d.freeSlots(now);
              const grant = d.next(now);
              if (ready.length === 0 || free === 0) {
                expect(grant).toBeNull();
                continue;
              }
              if (!grant) throw new Error('a ready head and a free slot must yield a grant');
              leaseIds.push(grant.leaseId);
              lastDispatch.set(grant.workloadId, now);
              const chosen = ready.find((r) => r.workloadId === grant.workloadId);
              if (!chosen) throw new Error(`granted workload ${grant.workloadId} was not ready`);
              expect(grant.requestId).toBe(chosen.head.requestId);
              expect(grant.score).toBe(chosen.score);
              const best = Math.max(...ready.map((r) => r.score));
              expect(chosen.score).toBeGreaterThanOrEqual(best - 1e-6);
              for (const r of ready) {
                if (r.score === chosen.score)
                  expect(chosen.head.enqueuedAt).toBeLessThanOrEqual(r.head.enqueuedAt);
              }
              expect(d.peekReady(grant.workloadId)).toBeUndefined();
            }
            for (const b of d.backends(now)) expect(b.inFlight).toBeLessThanOrEqual(b.maxConcurrency);
          }
        },
      ),
      { seed: 37, numRuns },
    );
  }

  it.each(POLICY_NAMES.map((p) => [p]))(
    '%s: every grant has the highest score among ready heads, ties to the earlier enqueuedAt',
    (policyName: PolicyName) => {
      checkDecisions(() => createPolicy(policyName), 300);
    },
  );

  it('the property catches a policy whose keys disagree with its score (self-check)', () => {
    const wa = createPolicy('workload-aware');
    const badRank = (): Policy => ({ ...wa, rankKey: (h, s) => -wa.rankKey(h, s) });
    const badOverdue = (): Policy => ({ ...wa, overdueKey: (h, s) => -wa.overdueKey(h, s) });
    const noTiers = (): Policy => ({ ...wa, agingHorizonMs: null });
    expect(() => checkDecisions(badRank, 50)).toThrow();
    expect(() => checkDecisions(badOverdue, 50)).toThrow();
    expect(() => checkDecisions(noTiers, 50)).toThrow();
  });
});

describe('Dispatcher.renew', () => {
  it('pushes a live lease’s expiry to now + TTL, never earlier; unknown leases return null', () => {
    const d = new Dispatcher({
      backends: [{ name: 'gpu', maxConcurrency: 1 }],
      policy: createPolicy('fcfs'),
      leaseTtlMs: 1_000,
    });
    d.offer(
      'w',
      { requestId: 'r', criticality: 3, enqueuedAt: 0 },
      { requestRatePerSec: 0, averageWaitMs: null, lastDispatchedAt: null },
    );
    const grant = d.next(0)!;
    expect(d.nextDeadline(0)).toBe(1_000);
    expect(d.renew(grant.leaseId, 800)?.expiresAt).toBe(1_800);
    expect(d.expireLeases(1_500)).toEqual([]);
    expect(d.renew(grant.leaseId, 100)?.expiresAt).toBe(1_800);
    expect(d.renew('nope', 900)).toBeNull();
    expect(d.expireLeases(1_800).map((l) => l.leaseId)).toEqual([grant.leaseId]);
    expect(d.freeSlots(1_800)).toBe(1);
  });
});
