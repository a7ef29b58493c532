// Per-workload limits (src/core/workload-limits.ts): validation names the field, the token bucket's
// admissions and Retry-After are exact at injected times, and the workload host refuses over-rate
// admissions as rejected/rate_limited (counted) while maxInFlight makes requests wait, not fail.

import { describe, expect, it } from 'vitest';
import {
  decodeSparse,
  ENDED,
  IX,
  queuedOf,
  WorkloadHost,
  WorkloadLimiter,
  bucketLevel,
  createPolicy,
  takeFromBucket,
  validateLimits,
  type AdmitReply,
  type Lease,
  type PersistedWorkload,
  type WorkloadPorts,
} from '../../src/core/index.ts';

describe('validateLimits', () => {
  it('accepts positive integers within bounds', () => {
    expect(validateLimits({ maxInFlight: 2, requestsPerMinute: 60, tokensPerMinute: 10_000 })).toEqual({
      ok: true,
      limits: { maxInFlight: 2, requestsPerMinute: 60, tokensPerMinute: 10_000 },
    });
  });

  it.each([
    [{ maxInFlight: 0 }, 'limits.maxInFlight'],
    [{ maxInFlight: -1 }, 'limits.maxInFlight'],
    [{ requestsPerMinute: 1.5 }, 'limits.requestsPerMinute'],
    [{ tokensPerMinute: 'lots' }, 'limits.tokensPerMinute'],
    [{ tokensPerMinute: 1e15 }, 'limits.tokensPerMinute'],
    [{ burst: 3 }, 'limits.burst'],
  ])('rejects %j naming %s', (input, field) => {
    const r = validateLimits(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.field).toBe(field);
    expect(r.message).toContain(field);
  });

  it('merges onto a base, and null removes a limit', () => {
    const r = validateLimits(
      { maxInFlight: null, tokensPerMinute: 500 },
      { maxInFlight: 3, requestsPerMinute: 10 },
    );
    expect(r).toEqual({ ok: true, limits: { requestsPerMinute: 10, tokensPerMinute: 500 } });
  });
});

describe('token bucket', () => {
  it('allows a minute’s allowance at once, then refuses with the exact time to the next unit', () => {
    let state;
    for (let i = 0; i < 60; i++) {
      const r = takeFromBucket(state, 60, 1, 0);
      expect(r.ok).toBe(true);
      if (r.ok) state = r.state;
    }
    // 60 per minute refill one per second.
    expect(takeFromBucket(state, 60, 1, 0)).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(takeFromBucket(state, 60, 1, 400)).toEqual({ ok: false, retryAfterMs: 600 });
    expect(takeFromBucket(state, 60, 1, 1000).ok).toBe(true);
  });

  it('never holds more than one minute’s allowance', () => {
    expect(bucketLevel({ level: 0, at: 0 }, 100, 10 * 60_000)).toBe(100);
  });

  it('takes a cost larger than the bucket from a full one, and the debt delays what follows', () => {
    const big = takeFromBucket(undefined, 1000, 3000, 0);
    expect(big.ok).toBe(true);
    if (!big.ok) return;
    expect(big.state.level).toBe(-2000);
    // To take 10 more, the level must climb from -2000 to 10: 2010 units at 1000 per minute.
    expect(takeFromBucket(big.state, 1000, 10, 0)).toEqual({ ok: false, retryAfterMs: 120_600 });
  });

  it('maxInFlight allows a start strictly below the limit', () => {
    const limited = new WorkloadLimiter();
    limited.configure({ maxInFlight: 2 });
    expect(limited.allowsStart(1)).toBe(true);
    expect(limited.allowsStart(2)).toBe(false);
    expect(new WorkloadLimiter().allowsStart(1_000_000)).toBe(true);
  });
});

describe('WorkloadLimiter', () => {
  it('charges neither bucket when one refuses', () => {
    const l = new WorkloadLimiter();
    l.configure({ requestsPerMinute: 10, tokensPerMinute: 100 });
    expect(l.admit(80, 0)).toEqual({ ok: true });
    expect(l.admit(80, 0)).toEqual({ ok: false, limit: 'tokensPerMinute', retryAfterSec: 36 });
    // The refused request took no request unit: 9 are left.
    expect(l.view(0)).toEqual({
      limits: { requestsPerMinute: 10, tokensPerMinute: 100 },
      requestsAvailable: 9,
      tokensAvailable: 20,
    });
  });

  it('when both limits refuse, Retry-After is the longer wait (a retry at the shorter one would fail)', () => {
    const l = new WorkloadLimiter();
    l.configure({ requestsPerMinute: 2, tokensPerMinute: 100 });
    expect(l.admit(100, 0).ok).toBe(true);
    expect(l.admit(0, 0).ok).toBe(true);
    // Requests: one unit in 30 s; tokens: 100 in 60 s. The tokens bucket decides.
    expect(l.admit(100, 0)).toEqual({ ok: false, limit: 'tokensPerMinute', retryAfterSec: 60 });
    // A small request needs only the request unit back first: 30 s.
    expect(l.admit(1, 0)).toEqual({ ok: false, limit: 'requestsPerMinute', retryAfterSec: 30 });
    expect(l.admit(100, 59_999).ok).toBe(false);
    expect(l.admit(100, 60_000).ok).toBe(true);
  });

  it('reports requestsPerMinute with a Retry-After rounded up to whole seconds', () => {
    const l = new WorkloadLimiter();
    l.configure({ requestsPerMinute: 2 });
    expect(l.admit(0, 0).ok).toBe(true);
    expect(l.admit(0, 0).ok).toBe(true);
    // One unit every 30 s; 10.5 s have passed.
    expect(l.admit(0, 10_500)).toEqual({ ok: false, limit: 'requestsPerMinute', retryAfterSec: 20 });
  });

  it('survives a snapshot round trip with its buckets', () => {
    const l = new WorkloadLimiter();
    l.configure({ requestsPerMinute: 1 });
    l.admit(0, 0);
    const restored = new WorkloadLimiter(l.snapshot());
    expect(restored.admit(0, 1000).ok).toBe(false);
  });
});

/**
 * A workload host whose coordinator grants nothing unless the test hands slots in; given `saved` and
 * `now`, one restarted from that persisted state at that time.
 */
function hostWithPorts(saved?: PersistedWorkload, now = 0) {
  const replies = new Map<string, AdmitReply>();
  const offers: Array<{ pool: string; head: string | null }> = [];
  const ports: WorkloadPorts = {
    coordinator: {
      offer: (pool, _w, head) => offers.push({ pool, head: head?.requestId ?? null }),
      release: () => undefined,
      renew: () => undefined,
      forget: () => undefined,
    },
    reply: (id, r) => replies.set(id, r),
    persist: () => undefined,
    setAlarm: () => undefined,
    deleteState: () => undefined,
  };
  const host = new WorkloadHost({ policy: createPolicy('fcfs'), leaseTtlMs: 60_000 }, ports, saved, now);
  const admit = (id: string, now: number, limits = {}, tokenEstimate = 10) =>
    host.admit({ requestId: id, workloadId: 'w', pool: 'p', criticality: 3, tokenEstimate, limits }, now);
  return { host, replies, offers, admit };
}

const lease = (leaseId: string, requestId: string): Lease => ({
  leaseId,
  requestId,
  workloadId: 'w',
  backend: 'b',
  grantedAt: 0,
  expiresAt: 60_000,
});

describe('WorkloadHost with limits', () => {
  it('refuses an admission over requestsPerMinute as rejected/rate_limited, counted, with Retry-After', () => {
    const { host, replies, admit } = hostWithPorts();
    admit('a', 0, { requestsPerMinute: 1 });
    admit('b', 15_000, { requestsPerMinute: 1 });
    expect(replies.get('b')).toEqual({ kind: 'ended', end: ENDED.rateLimited, retryAfterSec: 45 });
    const m = host.state?.metrics(15_000);
    expect(m?.totalRequests).toBe(2);
    expect(m?.outcomes.rejected).toBe(1);
    expect(m?.reasons.rate_limited).toBe(1);
    // Only the admitted request waits.
    expect(host.state?.queueSize).toBe(1);
  });

  it('counts a rate-limited admission in the /metrics tally as well, as rejected and no demand', () => {
    const { host, admit } = hostWithPorts();
    admit('a', 0, { requestsPerMinute: 1 });
    admit('b', 15_000, { requestsPerMinute: 1 });
    const report = host.state?.tally.peekReport('p');
    expect(report).toBeDefined();
    const c = decodeSparse(report?.counters ?? []);
    expect(c[IX.requests]).toBe(2);
    expect(c[IX.ended('rate_limited')]).toBe(1);
    // Nothing is left counted as queued for it, and it is no demand: only the admitted request counts.
    expect(queuedOf(c)).toBe(1);
    expect(c[IX.level(3, 'enqueued')]).toBe(1);
  });

  it('keeps its limits and rate buckets across a restart (persisted with the workload)', () => {
    const { host, admit } = hostWithPorts();
    admit('a', 0, { requestsPerMinute: 1 });
    const saved = host.persisted();
    expect(saved?.limiter?.limits).toEqual({ requestsPerMinute: 1 });
    const { host: restarted, replies } = hostWithPorts(saved ?? undefined, 1_000);
    // No limits sent (a keyless request): the restored ones and the spent bucket still apply.
    restarted.admit({ requestId: 'b', workloadId: 'w', pool: 'p', criticality: 3, tokenEstimate: 1 }, 1_000);
    expect(replies.get('b')).toEqual({ kind: 'ended', end: ENDED.rateLimited, retryAfterSec: 59 });
  });

  it('maxInFlight: a request beyond it waits (no reply), its head is not offered, and it is offered when a slot frees', () => {
    const { host, replies, offers, admit } = hostWithPorts();
    const limits = { maxInFlight: 1 };
    admit('a', 0, limits);
    host.onOfferReply('p', { grants: [lease('L1', 'a')], freeSlots: 1, poolDownUntil: null }, 0);
    expect(replies.get('a')?.kind).toBe('granted');
    admit('b', 1, limits);
    // Queued, not rejected; and offered as no head while a runs.
    expect(replies.has('b')).toBe(false);
    expect(host.state?.isQueued('b')).toBe(true);
    host.onOfferReply('p', { grants: [], freeSlots: 1, poolDownUntil: null }, 1);
    expect(offers.at(-1)).toEqual({ pool: 'p', head: null });
    // A grant that arrives anyway goes back untaken.
    expect(host.grant('p', lease('L2', 'b'), 2).taken).toBeNull();
    host.complete('a', ENDED.completed, null, undefined, 3);
    // The offer in flight (sent while a ran) is answered; the coalesced next one carries b.
    host.onOfferReply('p', { grants: [], freeSlots: 1, poolDownUntil: null }, 3);
    expect(offers.at(-1)).toEqual({ pool: 'p', head: 'b' });
    expect(host.describe(3)?.limits?.limits).toEqual({ maxInFlight: 1 });
  });
});
