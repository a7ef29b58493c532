// One workload's state (what a WorkloadDO hosts): queue and registry kept consistent through admit,
// dispatch, cancel, complete and sweep; its deadlines; and the restart path that drops orphaned waiters.

import { describe, expect, it } from 'vitest';
import {
  IX,
  WorkloadState,
  createPolicy,
  type RegistrySnapshot,
  type TallySnapshot,
} from '../../src/core/index.ts';
import { ENDED, ended } from '../../src/core/outcome.ts';

const policy = createPolicy('workload-aware');
const newState = (opts: Partial<ConstructorParameters<typeof WorkloadState>[1]> = {}): WorkloadState =>
  new WorkloadState('w', { policy, ...opts });

describe('WorkloadState', () => {
  it('admit, dispatchHead and complete move one request through queued → in flight → done', () => {
    const ws = newState();
    expect(ws.admit({ requestId: 'r1', criticality: 2 }, 1_000)).toEqual({ kind: 'queued', position: 1 });
    expect(ws.head(1_000)).toEqual({ requestId: 'r1', criticality: 2, enqueuedAt: 1_000, tokenEstimate: 0 });
    expect(ws.dispatchHead(1_400)).toEqual({ requestId: 'r1', waitMs: 400, enqueuedAt: 1_000 });
    expect(ws.isQueued('r1')).toBe(false);
    expect(ws.isLive('r1')).toBe(true);
    expect(ws.signals(1_400)).toEqual({
      requestRatePerSec: 1 / 60,
      averageWaitMs: 400,
      lastDispatchedAt: 1_400,
    });
    expect(ws.complete('r1', ENDED.completed, 2_000)).toBe(true);
    expect(ws.complete('r1', ended('upstream_5xx'), 2_001)).toBe(false);
    expect(ws.isLive('r1')).toBe(false);
    expect(ws.dispatchHead(2_000)).toBeNull();
    expect(ws.metrics(2_000)).toMatchObject({ totalRequests: 1, activeRequests: 0, completedCount: 1 });
  });

  it('completing a queued request also removes it from the queue (no ghost head)', () => {
    const ws = newState();
    ws.admit({ requestId: 'a', criticality: 5 }, 0);
    ws.admit({ requestId: 'b', criticality: 1 }, 0);
    expect(ws.complete('a', ENDED.clientClosed, 10)).toBe(true);
    expect(ws.queueSize).toBe(1);
    expect(ws.head(10)?.requestId).toBe('b');
    expect(ws.cancel('a', 11)).toBe(false);
    expect(ws.cancel('b', 11)).toBe(true);
    expect(ws.metrics(11).outcomes.cancelled).toBe(2);
  });

  it('sweep evicts queued requests at their TTL and in-flight ones presumed lost', () => {
    const ws = newState({ queueTtlMs: 1_000, inFlightTtlMs: 5_000 });
    ws.admit({ requestId: 'flying', criticality: 3 }, 0);
    ws.dispatchHead(0);
    ws.admit({ requestId: 'waiting', criticality: 3 }, 100);
    expect(ws.nextDeadline(100)).toBe(1_100);
    expect(ws.sweep(1_099)).toEqual({ evicted: [], lost: [] });
    expect(ws.sweep(1_100)).toEqual({ evicted: ['waiting'], lost: [] });
    expect(ws.nextDeadline(1_100)).toBe(5_000);
    expect(ws.sweep(5_000)).toEqual({ evicted: [], lost: ['flying'] });
    expect(ws.metrics(5_000).outcomes).toMatchObject({ evicted: 1, lost: 1 });
  });

  it('an idle workload reports its eviction time only when asked to (hosts that delete idle workloads)', () => {
    const ws = newState({ idleEvictMs: 60_000 });
    ws.admit({ requestId: 'r', criticality: 3 }, 1_000);
    ws.dispatchHead(1_000);
    ws.complete('r', ENDED.completed, 2_000);
    expect(ws.nextDeadline(2_000)).toBe(61_000);
    expect(ws.nextDeadline(2_000, false)).toBeNull();
    expect(ws.isEvictable(60_999)).toBe(false);
    expect(ws.isEvictable(61_000)).toBe(true);
  });

  it('a full queue completes the request as rejected/queue_full at once', () => {
    const ws = newState({ maxQueue: 1 });
    ws.admit({ requestId: 'a', criticality: 3 }, 0);
    expect(ws.admit({ requestId: 'b', criticality: 3 }, 0)).toEqual({
      kind: 'rejected',
      end: ENDED.queueFull,
    });
    expect(ws.isLive('b')).toBe(false);
    expect(ws.metrics(0)).toMatchObject({ totalRequests: 2, activeRequests: 1, completedCount: 1 });
  });

  it('held admissions are judged after the grants on their way: only requests really waiting count', () => {
    const ws = newState({ maxQueue: 2 });
    ws.admit({ requestId: 'a', criticality: 3 }, 0);
    ws.admit({ requestId: 'b', criticality: 3 }, 0);
    // Full, but an offer is in flight (hold): c and d wait for its verdict instead of a 429.
    expect(ws.admit({ requestId: 'c', criticality: 3 }, 0, true)).toEqual({ kind: 'held' });
    expect(ws.admit({ requestId: 'd', criticality: 3 }, 0, true)).toEqual({ kind: 'held' });
    // The offer's reply granted one slot: a leaves the queue, so c fits and only the newest, d, is refused.
    expect(ws.dispatchHead(1)?.requestId).toBe('a');
    expect(ws.settleHeld(1)).toEqual(['d']);
    expect(ws.isQueued('c')).toBe(true);
    expect(ws.metrics(1)).toMatchObject({
      queuedRequests: 2,
      reasons: expect.objectContaining({ queue_full: 1 }),
    });
    expect(ws.heldCount).toBe(0);
  });

  it('restoring from a snapshot cancels requests persisted as queued and keeps in-flight ones', () => {
    const before = newState();
    before.admit({ requestId: 'flying', criticality: 3 }, 0);
    before.dispatchHead(50);
    before.admit({ requestId: 'orphan', criticality: 3 }, 60);
    const snap = JSON.parse(JSON.stringify(before.snapshot())) as RegistrySnapshot;

    const after = new WorkloadState('w', { policy }, snap, 1_000);
    expect(after.queueSize).toBe(0);
    expect(after.isLive('orphan')).toBe(false);
    expect(after.isLive('flying')).toBe(true);
    expect(after.metrics(1_000)).toMatchObject({
      totalRequests: 2,
      activeRequests: 1,
      queuedRequests: 0,
      inFlightRequests: 1,
      completedCount: 1,
      averageWaitMs: 50,
    });
    expect(after.metrics(1_000).outcomes.cancelled).toBe(1);
    expect(after.complete('flying', ENDED.completed, 2_000)).toBe(true);
  });

  it("restoring files the tally's live requests with the registry's: each ends once, in both", () => {
    const before = newState();
    before.admit({ requestId: 'flying', criticality: 3 }, 0);
    before.dispatchHead(50);
    before.admit({ requestId: 'orphan', criticality: 2 }, 60);
    const snap = JSON.parse(JSON.stringify(before.snapshot())) as RegistrySnapshot;
    const tally = JSON.parse(JSON.stringify(before.tally.snapshot())) as TallySnapshot;
    expect(tally.live).toEqual([
      ['flying', 'default', 3, true],
      ['orphan', 'default', 2, false],
    ]);
    // One the tally holds that the registry does not (its end was counted there before the restart).
    const withGhost = { ...tally, live: [...tally.live, ['ghost', 'default', 4, false] as const] };

    const after = new WorkloadState('w', { policy }, snap, 1_000, withGhost);
    const c = (): readonly number[] => after.tally.countersOf('default') ?? [];
    expect(c()[IX.ended('queue_lost')]).toBe(2);
    expect(c()[IX.inFlight]).toBe(1);
    expect(c()[IX.level(2, 'queued')]).toBe(0);
    expect(after.tally.snapshot().live).toEqual([['flying', 'default', 3, true]]);
    expect(after.complete('flying', ENDED.completed, 2_000)).toBe(true);
    expect(after.complete('flying', ENDED.completed, 2_001)).toBe(false);
    expect(c()[IX.ended('completed')]).toBe(1);
    expect(c()[IX.inFlight]).toBe(0);
    expect(after.tally.snapshot().live).toEqual([]);
  });
});

describe('WorkloadState.retryAfterSec', () => {
  it('follows the recent average wait, clamped to 1–60 s', () => {
    const ws = new WorkloadState('w', { policy: { queueOrder: 'criticality', agingHorizonMs: null } });
    expect(ws.retryAfterSec(0)).toBe(1);
    ws.admit({ requestId: 'a', criticality: 3 }, 0);
    ws.dispatchHead(4_200);
    expect(ws.retryAfterSec(5_000)).toBe(5);
    ws.admit({ requestId: 'b', criticality: 3 }, 5_000);
    ws.dispatchHead(500_000);
    expect(ws.retryAfterSec(500_000)).toBe(60);
  });
});

describe('WorkloadState.touch', () => {
  it('restarts the lost-request clock of an in-flight request, so a live long request is not swept', () => {
    const ws = new WorkloadState('w', {
      policy: { queueOrder: 'criticality', agingHorizonMs: null },
      inFlightTtlMs: 1_000,
    });
    ws.admit({ requestId: 'a', criticality: 3 }, 0);
    ws.dispatchHead(0);
    expect(ws.touch('a', 900)).toBe(true);
    expect(ws.sweep(1_500).lost).toEqual([]);
    expect(ws.sweep(1_900).lost).toEqual(['a']);
    expect(ws.touch('a', 2_000)).toBe(false);
  });
});
