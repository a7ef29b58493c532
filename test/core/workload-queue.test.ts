// One workload's queue: order (criticality then arrival, or FIFO), capacity, TTL expiry, remove-by-id,
// the aging horizon that surfaces a buried request, and nextDeadline for the host's single alarm.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkloadQueue, type WorkloadQueueOptions } from '../../src/core/index.ts';

const HOUR_MS = 3_600_000;

function newQueue(opts: Partial<WorkloadQueueOptions> = {}): WorkloadQueue {
  return new WorkloadQueue({
    capacity: 1000,
    ttlMs: HOUR_MS,
    order: 'criticality',
    agingHorizonMs: null,
    ...opts,
  });
}

function drain(queue: WorkloadQueue, now: number): string[] {
  const out: string[] = [];
  for (let r = queue.shift(now); r; r = queue.shift(now)) out.push(r.requestId);
  return out;
}

const arrivals: Array<[id: string, criticality: number, at: number]> = [
  ['c3-a', 3, 0],
  ['c5-a', 5, 100],
  ['c3-b', 3, 200],
  ['c1-a', 1, 300],
  ['c5-b', 5, 400],
  ['c3-c', 3, 400],
];

describe('WorkloadQueue order', () => {
  it('criticality: by criticality descending, then arrival ascending', () => {
    const q = newQueue();
    for (const [id, c, at] of arrivals) q.push({ requestId: id, criticality: c }, at);
    expect(drain(q, 500)).toEqual(['c5-a', 'c5-b', 'c3-a', 'c3-b', 'c3-c', 'c1-a']);
  });

  it('equal arrival times keep push order', () => {
    const q = newQueue();
    for (const id of ['x', 'y', 'z']) q.push({ requestId: id, criticality: 2 }, 1_000);
    expect(drain(q, 1_000)).toEqual(['x', 'y', 'z']);
  });

  it('fifo: strictly by arrival, whatever the criticality', () => {
    const q = newQueue({ order: 'fifo' });
    for (const [id, c, at] of arrivals) q.push({ requestId: id, criticality: c }, at);
    expect(drain(q, 500)).toEqual(arrivals.map(([id]) => id));
  });

  it('with an aging horizon, the oldest request becomes the head once it is overdue', () => {
    const q = newQueue({ agingHorizonMs: 30_000 });
    q.push({ requestId: 'old-low', criticality: 1 }, 0);
    q.push({ requestId: 'high-1', criticality: 5 }, 10_000);
    q.push({ requestId: 'high-2', criticality: 5 }, 20_000);
    expect(q.peek(29_999)?.requestId).toBe('high-1');
    expect(q.peek(30_000)?.requestId).toBe('old-low');
    expect(q.shift(30_000)?.requestId).toBe('old-low');
    // high-1 is now the oldest, but not yet overdue: criticality order again.
    expect(q.peek(30_000)?.requestId).toBe('high-1');
    expect(drain(q, 60_000)).toEqual(['high-1', 'high-2']);
  });

  it('matches a reference order for random pushes and shift times (criticality order with aging)', () => {
    const H = 5_000;
    fc.assert(
      fc.property(
        fc.array(fc.record({ c: fc.integer({ min: 1, max: 5 }), dt: fc.integer({ min: 0, max: 2_000 }) }), {
          maxLength: 60,
        }),
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 80 }),
        (pushes, shiftGaps) => {
          const q = newQueue({ agingHorizonMs: H });
          const ref: Array<{ id: string; c: number; at: number; seq: number }> = [];
          let now = 0;
          pushes.forEach((p, seq) => {
            now += p.dt;
            q.push({ requestId: `r${seq}`, criticality: p.c }, now);
            ref.push({ id: `r${seq}`, c: p.c, at: now, seq });
          });
          for (const gap of shiftGaps) {
            now += gap;
            const oldest = [...ref].sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
            const best = [...ref].sort((a, b) => b.c - a.c || a.at - b.at || a.seq - b.seq)[0];
            const want = oldest && now - oldest.at >= H ? oldest : best;
            expect(q.shift(now)?.requestId).toBe(want?.id);
            if (want) ref.splice(ref.indexOf(want), 1);
          }
        },
      ),
      { seed: 17, numRuns: 200 },
    );
  });
});

describe('WorkloadQueue capacity, TTL and removal', () => {
  it('rejects beyond capacity with queue_full, and accepts again after a removal', () => {
    const q = newQueue({ capacity: 2 });
    expect(q.push({ requestId: 'a', criticality: 3 }, 0).ok).toBe(true);
    expect(q.push({ requestId: 'b', criticality: 3 }, 0).ok).toBe(true);
    expect(q.push({ requestId: 'c', criticality: 5 }, 0)).toEqual({ ok: false, reason: 'queue_full' });
    expect(q.size).toBe(2);
    expect(q.has('c')).toBe(false);
    q.remove('a');
    expect(q.push({ requestId: 'c', criticality: 5 }, 1).ok).toBe(true);
  });

  it('expire returns exactly the requests whose deadline has passed, oldest first', () => {
    const q = newQueue({ ttlMs: 1_000 });
    q.push({ requestId: 'a', criticality: 1 }, 0);
    q.push({ requestId: 'b', criticality: 5 }, 100);
    q.push({ requestId: 'c', criticality: 3 }, 500);
    q.push({ requestId: 'd', criticality: 3 }, 1_200);
    expect(q.expire(999)).toEqual([]);
    expect(q.expire(1_100).map((r) => r.requestId)).toEqual(['a', 'b']);
    expect(q.size).toBe(2);
    expect(q.has('a') || q.has('b')).toBe(false);
    expect(q.expire(1_500).map((r) => r.requestId)).toEqual(['c']);
    expect(drain(q, 1_500)).toEqual(['d']);
  });

  it('a request carries its deadline: enqueuedAt + ttlMs', () => {
    const pushed = newQueue({ ttlMs: 60_000 }).push({ requestId: 'a', criticality: 2 }, 1_234);
    expect(pushed).toMatchObject({ ok: true, request: { enqueuedAt: 1_234, deadlineAt: 61_234 } });
  });

  it('remove-by-id takes out exactly that request and keeps the order of the rest', () => {
    const q = newQueue();
    for (const [id, c, at] of arrivals) q.push({ requestId: id, criticality: c }, at);
    expect(q.remove('c5-b')?.requestId).toBe('c5-b');
    expect(q.remove('c5-b')).toBeUndefined();
    expect(q.remove('missing')).toBeUndefined();
    expect(q.has('c5-b')).toBe(false);
    expect(drain(q, 500)).toEqual(['c5-a', 'c3-a', 'c3-b', 'c3-c', 'c1-a']);
  });

  it.each([true, false])(
    'indexById %s: removeRequest takes out the request push() returned, and by-ID calls agree',
    (indexById) => {
      const q = newQueue({ indexById });
      const pushed = new Map<string, ReturnType<WorkloadQueue['push']>>();
      for (const [id, c, at] of arrivals) pushed.set(id, q.push({ requestId: id, criticality: c }, at));
      const c5b = pushed.get('c5-b');
      if (!c5b?.ok) throw new Error('push failed');
      expect(q.has('c5-b')).toBe(true);
      expect(q.removeRequest(c5b.request)).toBe(true);
      expect(q.removeRequest(c5b.request)).toBe(false);
      expect(q.has('c5-b')).toBe(false);
      expect(q.remove('c3-b')?.requestId).toBe('c3-b');
      expect(q.remove('missing')).toBeUndefined();
      const head = q.shift(500);
      expect(head?.requestId).toBe('c5-a');
      if (head) expect(q.removeRequest(head)).toBe(false);
      expect(q.size).toBe(3);
      expect(drain(q, 500)).toEqual(['c3-a', 'c3-c', 'c1-a']);
    },
  );
});

describe('WorkloadQueue.nextDeadline', () => {
  it('is null when empty', () => {
    expect(newQueue().nextDeadline(0)).toBeNull();
  });

  it('is the oldest request’s TTL without an aging horizon', () => {
    const q = newQueue({ ttlMs: 60_000 });
    q.push({ requestId: 'a', criticality: 1 }, 1_000);
    q.push({ requestId: 'b', criticality: 5 }, 2_000);
    expect(q.nextDeadline(2_000)).toBe(61_000);
  });

  it('is min(TTL, the moment the oldest becomes overdue and takes over the head)', () => {
    const q = newQueue({ ttlMs: 60_000, agingHorizonMs: 30_000 });
    q.push({ requestId: 'low', criticality: 1 }, 1_000);
    q.push({ requestId: 'high', criticality: 5 }, 2_000);
    expect(q.nextDeadline(2_000)).toBe(31_000);
    // Once the transition has happened only the TTL is left.
    expect(q.nextDeadline(31_000)).toBe(61_000);

    const shortTtl = newQueue({ ttlMs: 10_000, agingHorizonMs: 30_000 });
    shortTtl.push({ requestId: 'low', criticality: 1 }, 1_000);
    shortTtl.push({ requestId: 'high', criticality: 5 }, 2_000);
    expect(shortTtl.nextDeadline(2_000)).toBe(11_000);
  });

  it('has no aging transition when the oldest is already the head', () => {
    const q = newQueue({ ttlMs: 60_000, agingHorizonMs: 30_000 });
    q.push({ requestId: 'high', criticality: 5 }, 1_000);
    q.push({ requestId: 'low', criticality: 1 }, 2_000);
    expect(q.nextDeadline(2_000)).toBe(61_000);
  });
});

describe('WorkloadQueue options', () => {
  it.each([
    [{ capacity: 0 }, /capacity/],
    [{ capacity: 2.5 }, /capacity/],
    [{ ttlMs: 0 }, /ttlMs/],
    [{ ttlMs: Number.NaN }, /ttlMs/],
  ])('%o throws a TypeError naming the field', (opts, message) => {
    expect(() => newQueue(opts)).toThrow(TypeError);
    expect(() => newQueue(opts)).toThrow(message);
  });
});
