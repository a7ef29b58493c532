// workload-aware with fairness = 'tokens': start-time fair queuing over token estimates below the horizon
// (tags kept by the dispatcher), while the aging guarantee and the rankKey contract still hold.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createWorkloadAwarePolicy,
  Dispatcher,
  isOverdue,
  LocalScheduler,
  type HeadView,
  type WorkloadSignals,
} from '../../src/core/index.ts';
import { ENDED } from '../../src/core/outcome.ts';

const tokens = createWorkloadAwarePolicy({ fairness: 'tokens' });
const requests = createWorkloadAwarePolicy({ fairness: 'requests' });

const head = (criticality: number, enqueuedAt: number, tokenEstimate = 0, requestId = 'r'): HeadView => ({
  requestId,
  criticality,
  enqueuedAt,
  tokenEstimate,
});
const signals = (s: Partial<WorkloadSignals> = {}): WorkloadSignals => ({
  requestRatePerSec: 0,
  averageWaitMs: null,
  lastDispatchedAt: null,
  ...s,
});

describe('token fairness in the policy', () => {
  it('prefers the smaller start tag at equal criticality, whatever the waits', () => {
    const served = { head: head(3, 0), signals: signals({ serviceTag: 8_000 }) };
    const fresh = { head: head(3, 1_000), signals: signals({ serviceTag: 100 }) };
    expect(tokens.score(fresh.head, fresh.signals, 2_000)).toBeGreaterThan(
      tokens.score(served.head, served.signals, 2_000),
    );
  });

  it('lets criticality outweigh token debt up to 5,000 tokens per level at the defaults', () => {
    const critical = { head: head(5, 0), signals: signals({ serviceTag: 9_000 }) };
    const normal = { head: head(4, 0), signals: signals({ serviceTag: 5_000 }) };
    expect(tokens.score(critical.head, critical.signals, 1)).toBeGreaterThan(
      tokens.score(normal.head, normal.signals, 1),
    );
    const deeper = { head: head(5, 0), signals: signals({ serviceTag: 11_000 }) };
    expect(tokens.score(normal.head, normal.signals, 1)).toBeGreaterThan(
      tokens.score(deeper.head, deeper.signals, 1),
    );
  });

  it('rejects an unknown fairness mode or a negative token cost, naming the field', () => {
    expect(() => createWorkloadAwarePolicy({ fairness: 'bytes' as never })).toThrow(/fairness/);
    expect(() => createWorkloadAwarePolicy({ tokenCostMsPer1k: -1 })).toThrow(/tokenCostMsPer1k/);
    expect(requests.fairness).toBe('requests');
    expect(tokens.fairness).toBe('tokens');
  });

  const arbHead = fc.record({
    c: fc.integer({ min: 1, max: 5 }),
    enq: fc.integer({ min: 0, max: 100_000 }),
    last: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
    tag: fc.integer({ min: 0, max: 10_000_000 }),
    rate: fc.double({ min: 0, max: 200, noNaN: true }),
  });
  const build = (x: { c: number; enq: number; last: number | null; tag: number; rate: number }) => ({
    head: head(x.c, x.enq),
    signals: signals({ requestRatePerSec: x.rate, lastDispatchedAt: x.last, serviceTag: x.tag }),
  });

  it('keeps the guarantee: an overdue head outranks every head that is not, whatever the tags', () => {
    fc.assert(
      fc.property(arbHead, arbHead, fc.integer({ min: 0, max: 200_000 }), (x, y, now) => {
        const a = build(x);
        const b = build(y);
        if (x.enq > now || y.enq > now || (x.last ?? 0) > now || (y.last ?? 0) > now) return;
        if (isOverdue(tokens, a.head, now) && !isOverdue(tokens, b.head, now)) {
          expect(tokens.score(a.head, a.signals, now)).toBeGreaterThan(tokens.score(b.head, b.signals, now));
        }
      }),
    );
  });

  it('keeps the rankKey contract below the horizon', () => {
    fc.assert(
      fc.property(arbHead, arbHead, fc.integer({ min: 0, max: 200_000 }), (x, y, now) => {
        const a = build(x);
        const b = build(y);
        if (x.enq > now || y.enq > now) return;
        if (isOverdue(tokens, a.head, now) || isOverdue(tokens, b.head, now)) return;
        const byScore = tokens.score(a.head, a.signals, now) - tokens.score(b.head, b.signals, now);
        const byKey = tokens.rankKey(a.head, a.signals) - tokens.rankKey(b.head, b.signals);
        if (Math.abs(byScore) > 1e-6) expect(Math.sign(byKey)).toBe(Math.sign(byScore));
      }),
    );
  });
});

describe('token fairness in the dispatcher', () => {
  const dispatcher = () => new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: 1 }], policy: tokens });

  it('charges each grant by its token estimate, so the lighter workload goes next', () => {
    const d = dispatcher();
    d.offer('heavy', head(3, 0, 4_000, 'h1'), signals());
    d.offer('light', head(3, 10, 50, 'l1'), signals());
    // Both start level (tag 0); the earlier arrival breaks the tie.
    expect(d.next(100)?.workloadId).toBe('heavy');
    d.release(d.leases()[0]!.leaseId);
    d.offer('heavy', head(3, 0, 4_000, 'h2'), signals());
    // heavy's tag is now 4,000, light's still 0.
    expect(d.next(200)?.workloadId).toBe('light');
  });

  it('lets a workload returning from idle join level with the backlog instead of cashing in its absence', () => {
    const d = dispatcher();
    for (let i = 0; i < 5; i++) {
      d.offer('busy', head(3, i, 1_000, `b${i}`), signals());
      d.next(i);
      d.release(d.leases()[0]!.leaseId);
    }
    // busy has been served 5,000 tokens and waits with a head tagged 5,000: the smallest waiting tag,
    // where a workload joining the backlog starts (as in VTC).
    d.offer('busy', head(3, 10, 1_000, 'b5'), signals());
    d.offer('returning', head(3, 11, 1_000, 'r0'), signals());
    expect(d.peekReady('returning')?.signals.serviceTag).toBe(5_000);
    expect(d.peekReady('busy')?.signals.serviceTag).toBe(5_000);
    // With nobody waiting, a joiner starts at the last granted start tag.
    d.withdraw('returning');
    d.next(20);
    d.offer('busy', null, signals());
    d.offer('late', head(3, 21, 1_000, 'x0'), signals());
    expect(d.peekReady('late')?.signals.serviceTag).toBe(5_000);
  });

  /**
   * Two equal-criticality tenants with deep backlogs, one slot: `long` asks for 4,000-token generations,
   * `short` for 50-token ones. Returns short's share of the first 30 slots.
   */
  function shareOfShort(fairness: 'requests' | 'tokens'): number {
    const s = new LocalScheduler({
      policy: createWorkloadAwarePolicy({ fairness }),
      backends: [{ name: 'gpu', maxConcurrency: 1 }],
      workload: { queueTtlMs: 1e9, maxQueue: 10_000 },
    });
    const serviceMs = (workload: string) => 200 + (workload === 'long' ? 4_000 : 50);
    for (let i = 0; i < 40; i++) {
      s.admit('long', `l${i}`, 3, 0, 4_000);
      s.admit('short', `s${i}`, 3, 0, 50);
    }
    let now = 0;
    let short = 0;
    for (let slot = 0; slot < 30; slot++) {
      const [d] = s.dispatch(now);
      if (!d) throw new Error('nothing dispatched');
      if (d.workloadId === 'short') short++;
      now += serviceMs(d.workloadId);
      s.complete(d.workloadId, d.requestId, ENDED.completed, now);
    }
    return short / 30;
  }

  it('gives the short-request tenant most slots when fairness counts tokens, half when it counts requests', () => {
    const byRequests = shareOfShort('requests');
    const byTokens = shareOfShort('tokens');
    expect(byRequests).toBeGreaterThanOrEqual(0.4);
    expect(byRequests).toBeLessThanOrEqual(0.6);
    expect(byTokens).toBeGreaterThan(0.9);
  });

  it('does not let a burst hold every slot: a steady tenant alternates with it', () => {
    const s = new LocalScheduler({
      policy: tokens,
      backends: [{ name: 'gpu', maxConcurrency: 1 }],
      workload: { queueTtlMs: 1e9, maxQueue: 10_000 },
    });
    for (let i = 0; i < 40; i++) s.admit('burst', `b${i}`, 3, 0, 100);
    let now = 0;
    const steadyWaits: number[] = [];
    for (let slot = 0; slot < 30; slot++) {
      if (slot % 2 === 0) s.admit('steady', `s${slot}`, 3, now, 100);
      const [d] = s.dispatch(now);
      if (!d) throw new Error('nothing dispatched');
      if (d.workloadId === 'steady') steadyWaits.push(d.waitMs);
      now += 500;
      s.complete(d.workloadId, d.requestId, ENDED.completed, now);
    }
    expect(steadyWaits.length).toBeGreaterThanOrEqual(14);
    expect(Math.max(...steadyWaits)).toBeLessThanOrEqual(1_000);
  });
});

describe('Dispatcher.forget', () => {
  it('drops a deleted workload’s head and its finish tag, so a later one of the same name starts level', () => {
    const d = new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: 1 }], policy: tokens });
    d.offer('gone', head(3, 0, 10_000, 'g1'), signals());
    d.next(0);
    d.release(d.leases()[0]!.leaseId);
    d.offer('other', head(3, 1, 10, 'o1'), signals());
    d.next(1);
    d.release(d.leases()[0]!.leaseId);
    d.forget('gone');
    d.offer('gone', head(3, 2, 10, 'g2'), signals());
    // Its old finish tag (10,000) is forgotten: it joins at the virtual time (the last granted tag, 0).
    expect(d.peekReady('gone')?.signals.serviceTag).toBe(0);
    expect(d.readyCount).toBe(1);
  });
});

describe('token fairness robustness', () => {
  it('caps an absurd token estimate, so one tenant cannot swamp everyone else’s tags', () => {
    const d = new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: 1 }], policy: tokens });
    d.offer('greedy', head(3, 0, 1e300, 'g1'), signals());
    d.next(0);
    d.release(d.leases()[0]!.leaseId);
    d.offer('greedy', head(3, 1, 10, 'g2'), signals());
    expect(d.peekReady('greedy')?.signals.serviceTag).toBe(1_000_000);
  });

  it('keeps a waiting head’s start tag when the same head is re-offered (heartbeat, new arrivals behind it)', () => {
    const d = new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: 1 }], policy: tokens });
    d.offer('waiting', head(1, 0, 1_000, 'w1'), signals());
    // Another workload is served meanwhile and moves the virtual time forward.
    for (let i = 0; i < 3; i++) {
      d.offer('busy', head(5, i, 1_000, `b${i}`), signals());
      d.next(i);
      d.release(d.leases()[0]!.leaseId);
    }
    expect(d.peekReady('waiting')?.signals.serviceTag).toBe(0);
    d.offer('waiting', head(1, 0, 1_000, 'w1'), signals());
    expect(d.peekReady('waiting')?.signals.serviceTag).toBe(0);
    // A new head (the old one was served) does take a fresh tag.
    d.offer('waiting', head(1, 5, 1_000, 'w2'), signals());
    expect(d.peekReady('waiting')?.signals.serviceTag).toBe(2_000);
  });
});

describe('token fairness charges real usage (true-up at release)', () => {
  const dispatcher = () => new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: 1 }], policy: tokens });

  it('gives an over-asking workload back what it did not use, and makes an under-asker pay', () => {
    const d = dispatcher();
    // Both ask for 1,000 tokens; `over` uses 100, `under` uses 3,000.
    d.offer('over', head(3, 0, 1_000, 'o1'), signals());
    const o1 = d.next(10);
    d.release(o1?.leaseId ?? '', 20, 100);
    d.offer('under', head(3, 1, 1_000, 'u1'), signals());
    const u1 = d.next(30);
    d.release(u1?.leaseId ?? '', 40, 3_000);
    d.offer('over', head(3, 2, 1_000, 'o2'), signals());
    d.offer('under', head(3, 3, 1_000, 'u2'), signals());
    // over's finish tag is 0 + 100 (charged 1,000, trued up to 100); under's 0 + 3,000.
    expect(d.peekReady('over')?.signals.serviceTag).toBe(100);
    expect(d.peekReady('under')?.signals.serviceTag).toBe(3_000);
    expect(d.next(50)?.workloadId).toBe('over');
  });

  it('keeps the estimate when the request ends without usage', () => {
    const d = dispatcher();
    d.offer('w', head(3, 0, 1_000, 'a'), signals());
    d.release(d.next(10)?.leaseId ?? '', 20);
    d.offer('w', head(3, 1, 1_000, 'b'), signals());
    expect(d.peekReady('w')?.signals.serviceTag).toBe(1_000);
  });

  it('reaches the dispatcher from a completion with usage, through the workload and coordinator hosts', () => {
    const s = new LocalScheduler({ policy: tokens, backends: [{ name: 'gpu', maxConcurrency: 1 }] });
    s.admit('a', 'a1', 3, 0, 2_000);
    const [d1] = s.dispatch(0);
    expect(d1?.requestId).toBe('a1');
    s.admit('a', 'a2', 3, 1, 2_000);
    s.admit('b', 'b1', 3, 2, 2_000);
    // b joins level with the backlog (a2, tagged 2,000). a1 asked for 2,000 and used 150: a2 moves to 150,
    // so a, which was charged for tokens it never used, goes first.
    expect(s.dispatcher.peekReady('b')?.signals.serviceTag).toBe(2_000);
    expect(s.complete('a', 'a1', ENDED.completed, 10, { promptTokens: 50, completionTokens: 100 })).toBe(
      true,
    );
    // The freed slot went at once (in-process delivery) to a2, granted at its trued-up tag.
    const [d2] = s.dispatch(10);
    expect(d2?.requestId).toBe('a2');
    // a2 is charged its estimate scaled by a's usage ratio so far: 1 + 0.2 × (150 / 2,000 − 1) = 0.815.
    expect(s.dispatcher.leases()[0]?.charged).toBeCloseTo(2_000 * 0.815, 9);
    expect(s.dispatcher.peekReady('b')?.signals.serviceTag).toBe(2_000);
  });
});

describe('weights reach the dispatcher', () => {
  it('carries an admitted request’s weight through the workload and coordinator hosts and divides its tag advance', () => {
    const s = new LocalScheduler({ policy: tokens, backends: [{ name: 'gpu', maxConcurrency: 1 }] });
    s.admit('heavy', 'h1', 3, 0, 1_000, 4);
    s.admit('heavy', 'h2', 3, 1, 1_000, 4);
    const [d1] = s.dispatch(1);
    expect(d1?.requestId).toBe('h1');
    expect(s.dispatcher.leases()[0]).toMatchObject({ charged: 1_000, weight: 4 });
    // h2 continues from h1's finish tag: 1,000 tokens / weight 4.
    expect(s.dispatcher.peekReady('heavy')?.signals.serviceTag).toBe(250);
  });

  it('treats an unusable weight as the default rather than corrupting the tags', () => {
    const d = new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: 1 }], policy: tokens });
    for (const [i, weight] of [0, -1, Number.NaN, Infinity, 1e9].entries()) {
      d.offer(`w${i}`, { ...head(3, 0, 100, `r${i}`), weight }, signals());
      expect(d.next(i)?.weight).toBe(1);
      d.release(d.leases()[0]!.leaseId);
    }
  });
});

describe('usage ratio', () => {
  it('learns a workload’s actual / estimated tokens from usage, and nothing from unserved attempts', () => {
    const d = new Dispatcher({ backends: [{ name: 'gpu', maxConcurrency: 1 }], policy: tokens });
    const grant = (id: string, actual: number | undefined) => {
      d.offer('w', head(3, 0, 1_000, id), signals());
      const g = d.next(0);
      d.release(g?.leaseId ?? '', 0, actual);
      return g?.charged;
    };
    expect(grant('a', 0)).toBe(1_000); // a failover or unreachable backend: charged 0, ratio unchanged
    expect(grant('b', undefined)).toBe(1_000); // no usage: ratio unchanged
    expect(grant('c', 100)).toBe(1_000); // ratio 1 → 1 + 0.2 × (0.1 − 1) = 0.82
    expect(grant('d', 100)).toBeCloseTo(820, 9);
  });
});
