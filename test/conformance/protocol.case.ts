// One conformance suite for the protocol, run against every implementation of it: the core hosts wired
// in one process (test/core/protocol-conformance.test.ts) and the real Durable Objects in the Workers
// runtime (test/worker-conformance/). Like Hono's router/common.case.test.ts, each implementation only
// supplies a factory. Cases use their own workload IDs and end every request they start.

import { describe, expect, it } from 'vitest';
import {
  ENDED,
  type AdmitReply,
  type BackendStatus,
  type CompleteReply,
  type CoordinatorStats,
  type Criticality,
  type Ended,
  type WorkloadLimits,
  type WorkloadMetrics,
} from '../../src/core/index.ts';

/** The pool every implementation is configured with: 3 slots, queues of 3, workload-aware. */
export const CONFORMANCE_BACKENDS = [
  { name: 'alpha', maxConcurrency: 2 },
  { name: 'beta', maxConcurrency: 1 },
] as const;
export const CONFORMANCE_MAX_QUEUE = 3;
const SLOTS = 3;

export interface ProtocolTarget {
  /** `limits`: as an API key's travel with each admission (workload-limits.ts). */
  admit(
    workloadId: string,
    requestId: string,
    criticality: Criticality,
    limits?: WorkloadLimits,
  ): Promise<AdmitReply>;
  complete(workloadId: string, requestId: string, end: Ended, leaseId?: string): Promise<CompleteReply>;
  metrics(workloadId: string): Promise<WorkloadMetrics | null>;
  backends(): Promise<BackendStatus[]>;
  stats(): Promise<CoordinatorStats>;
  /** Polls until `ok` (real I/O moves the implementation's clock and queues); fails after a budget. */
  until<T>(probe: () => Promise<T>, ok: (value: T) => boolean): Promise<T>;
}

type Granted = AdmitReply & { kind: 'granted' };

function granted(reply: AdmitReply): Granted {
  if (reply.kind !== 'granted') throw new Error(`expected a grant, got ${JSON.stringify(reply)}`);
  return reply;
}

export function runProtocolConformance(name: string, makeTarget: () => ProtocolTarget): void {
  describe(`protocol conformance: ${name}`, () => {
    const t = makeTarget();
    let seq = 0;
    const rid = (): string => `${name}-${seq++}`;
    const inFlight = async (): Promise<number> => (await t.backends()).reduce((n, b) => n + b.inFlight, 0);
    const idle = (): Promise<number> => t.until(inFlight, (n) => n === 0);

    /** Takes every slot for `workloadId`; returns the running requests. */
    async function fill(workloadId: string): Promise<Array<{ id: string; reply: Granted }>> {
      const out = [];
      for (let i = 0; i < SLOTS; i++) {
        const id = rid();
        out.push({ id, reply: granted(await t.admit(workloadId, id, 3)) });
      }
      return out;
    }

    it('a request meets a free slot at once; completing it frees the slot, exactly once', async () => {
      await idle();
      const id = rid();
      const reply = granted(await t.admit('c-basic', id, 3));
      expect(CONFORMANCE_BACKENDS.map((b) => b.name)).toContain(reply.backend);
      expect(await inFlight()).toBe(1);
      expect((await t.complete('c-basic', id, ENDED.completed, reply.leaseId)).recorded).toBe(true);
      expect((await t.complete('c-basic', id, ENDED.completed, reply.leaseId)).recorded).toBe(false);
      await idle();
      expect(await t.metrics('c-basic')).toMatchObject({
        totalRequests: 1,
        completedCount: 1,
        activeRequests: 0,
        outcomes: expect.objectContaining({ success: 1 }),
      });
    });

    it('slots are never over-booked: each backend gets at most its maximum', async () => {
      await idle();
      const running = await fill('c-book');
      const perBackend = new Map<string, number>();
      for (const r of running) perBackend.set(r.reply.backend, (perBackend.get(r.reply.backend) ?? 0) + 1);
      for (const b of CONFORMANCE_BACKENDS) expect(perBackend.get(b.name)).toBe(b.maxConcurrency);
      for (const b of await t.backends()) expect(b.inFlight).toBe(b.maxConcurrency);
      for (const r of running) await t.complete('c-book', r.id, ENDED.completed, r.reply.leaseId);
      await idle();
    });

    it('when every slot is taken, a request waits and gets the first slot freed', async () => {
      await idle();
      const running = await fill('c-wait');
      const waiterId = rid();
      const waiter = t.admit('c-wait', waiterId, 3);
      await t.until(
        () => t.metrics('c-wait'),
        (m) => m?.queuedRequests === 1,
      );
      const [first, ...rest] = running;
      if (!first) throw new Error('fill took no slot');
      await t.complete('c-wait', first.id, ENDED.completed, first.reply.leaseId);
      const next = granted(await waiter);
      expect(next.backend).toBe(first.reply.backend);
      for (const r of [...rest, { id: waiterId, reply: next }]) {
        await t.complete('c-wait', r.id, ENDED.completed, r.reply.leaseId);
      }
      await idle();
    });

    it('a full queue turns the next request away at once, as rejected/queue_full', async () => {
      await idle();
      const running = await fill('c-full-a');
      const queued = Array.from({ length: CONFORMANCE_MAX_QUEUE }, () => {
        const id = rid();
        return { id, reply: t.admit('c-full-b', id, 3) };
      });
      await t.until(
        () => t.metrics('c-full-b'),
        (m) => m?.queuedRequests === CONFORMANCE_MAX_QUEUE,
      );
      const refused = await t.admit('c-full-b', rid(), 3);
      expect(refused).toMatchObject({ kind: 'ended', end: ENDED.queueFull });
      expect((refused as { retryAfterSec?: number }).retryAfterSec).toBeGreaterThanOrEqual(1);
      for (const q of queued) await t.complete('c-full-b', q.id, ENDED.clientClosed);
      for (const q of queued) expect(await q.reply).toMatchObject({ kind: 'ended', end: ENDED.clientClosed });
      for (const r of running) await t.complete('c-full-a', r.id, ENDED.completed, r.reply.leaseId);
      await idle();
      expect(await t.metrics('c-full-b')).toMatchObject({
        totalRequests: CONFORMANCE_MAX_QUEUE + 1,
        activeRequests: 0,
        reasons: expect.objectContaining({ queue_full: 1, client_closed: CONFORMANCE_MAX_QUEUE }),
      });
    });

    it('maxInFlight: beyond it a request waits though slots are free, and runs when one of its own ends', async () => {
      await idle();
      const limits = { maxInFlight: 1 };
      const firstId = rid();
      const first = granted(await t.admit('c-mif', firstId, 3, limits));
      const secondId = rid();
      const second = t.admit('c-mif', secondId, 3, limits);
      await t.until(
        () => t.metrics('c-mif'),
        (m) => m?.queuedRequests === 1,
      );
      // Two slots are free, yet only one of the workload's requests runs; another workload is not held.
      expect(await inFlight()).toBe(1);
      const otherId = rid();
      const other = granted(await t.admit('c-mif-other', otherId, 3));
      await t.complete('c-mif-other', otherId, ENDED.completed, other.leaseId);
      await t.complete('c-mif', firstId, ENDED.completed, first.leaseId);
      const next = granted(await second);
      await t.complete('c-mif', secondId, ENDED.completed, next.leaseId);
      await idle();
      expect(await t.metrics('c-mif')).toMatchObject({
        totalRequests: 2,
        activeRequests: 0,
        outcomes: expect.objectContaining({ success: 2, rejected: 0 }),
      });
    });

    it('requestsPerMinute: beyond it a request is turned away at once as rejected/rate_limited', async () => {
      await idle();
      const limits = { requestsPerMinute: 1 };
      const id = rid();
      const reply = granted(await t.admit('c-rpm', id, 3, limits));
      const refused = await t.admit('c-rpm', rid(), 3, limits);
      expect(refused).toMatchObject({ kind: 'ended', end: ENDED.rateLimited });
      // One request a minute: the bucket refills in at most 60 s.
      const retry = (refused as { retryAfterSec?: number }).retryAfterSec ?? 0;
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
      await t.complete('c-rpm', id, ENDED.completed, reply.leaseId);
      await idle();
      expect(await t.metrics('c-rpm')).toMatchObject({
        totalRequests: 2,
        activeRequests: 0,
        reasons: expect.objectContaining({ completed: 1, rate_limited: 1 }),
      });
    });

    it('the more critical waiting head gets the next slot', async () => {
      await idle();
      const running = await fill('c-crit-fill');
      const lowId = rid();
      const highId = rid();
      const low = t.admit('c-crit-low', lowId, 1);
      const high = t.admit('c-crit-high', highId, 5);
      // Both heads have reached the coordinator before a slot frees.
      await t.until(
        () => t.stats(),
        (s) => s.ready === 2,
      );
      const order: string[] = [];
      void low.then(() => order.push('low'));
      const [a, b, c] = running;
      if (!a || !b || !c) throw new Error('fill took fewer slots');
      await t.complete('c-crit-fill', a.id, ENDED.completed, a.reply.leaseId);
      const h = granted(await high);
      order.push('high');
      await t.complete('c-crit-fill', b.id, ENDED.completed, b.reply.leaseId);
      const l = granted(await low);
      expect(order).toEqual(['high', 'low']);
      await t.complete('c-crit-fill', c.id, ENDED.completed, c.reply.leaseId);
      await t.complete('c-crit-high', highId, ENDED.completed, h.leaseId);
      await t.complete('c-crit-low', lowId, ENDED.completed, l.leaseId);
      await idle();
    });

    it('a completion that carries its lease frees the slot even if the workload forgot the request', async () => {
      await idle();
      const id = rid();
      const reply = granted(await t.admit('c-lease', id, 3));
      // An unknown request ID with the real lease: recorded nowhere, but the slot comes back.
      expect((await t.complete('c-lease', `${id}-unknown`, ENDED.completed, reply.leaseId)).recorded).toBe(
        false,
      );
      await idle();
      expect((await t.complete('c-lease', id, ENDED.completed, reply.leaseId)).recorded).toBe(true);
      await idle();
    });
  });
}
