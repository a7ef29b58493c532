// WorkloadDO: one per workload ID, an adapter around the core WorkloadHost. It owns storage (writes
// coalesced, see write-behind.ts), the alarm, RPC to the coordinator, and the promises of waiting admits.
// Every decision (queueing, offers, grants, releases, renewals, idle deletion) is the host's.

import { DurableObject } from 'cloudflare:workers';
import {
  createPolicy,
  WorkloadHost,
  type AdmitReply,
  type AdmitRequest,
  type BackendHealth,
  type CompleteReply,
  type DeclaredLease,
  type Ended,
  type GrantReply,
  type HeldLease,
  type Lease,
  type PersistedWorkload,
  type RetryRequest,
  type TokenUsage,
  type WorkloadDescription,
} from '../core/index.ts';
import { loadConfig } from './config.ts';
import type { Env } from './env.ts';
import { coordinatorStub } from './stubs.ts';
import { send } from './send.ts';
import { WriteBehind } from './write-behind.ts';

const STATE_KEY = 'state';

export class WorkloadDO extends DurableObject<Env> {
  readonly #host: WorkloadHost;
  readonly #waiters = new Map<string, (reply: AdmitReply) => void>();
  readonly #writer = new WriteBehind(() => this.#write());

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.message);
    const c = loaded.config;
    // One stub per pool, reused across calls (creating one hashes the name each time); a failed call
    // drops it, since Cloudflare documents that a stub may be left broken by an exception.
    const stubs = new Map<string, ReturnType<typeof coordinatorStub>>();
    const coordinator = (pool: string) => {
      let stub = stubs.get(pool);
      if (stub === undefined) stubs.set(pool, (stub = coordinatorStub(this.env, pool, c)));
      return stub;
    };
    const dropStub = (pool: string) => stubs.delete(pool);
    this.#host = new WorkloadHost(
      {
        policy: createPolicy(c.policy, c.policyParams),
        maxQueue: c.maxQueuePerWorkload,
        queueTtlMs: c.queueTtlMs,
        inFlightTtlMs: c.leaseTtlMs,
        leaseTtlMs: c.leaseTtlMs,
      },
      {
        coordinator: {
          offer: (pool, workloadId, head, signals, seq, releases, report) =>
            send(
              `offer to the coordinator of pool ${pool}`,
              coordinator(pool).offer(workloadId, head, signals, seq, releases, report),
              (reply) => this.#host.onOfferReply(pool, reply, Date.now()),
              () => {
                dropStub(pool);
                this.#host.onOfferFailed(pool, Date.now());
              },
            ),
          release: (pool, leaseId, health, actualTokens, report) =>
            send(
              `release of lease ${leaseId} (the alarm retries it)`,
              coordinator(pool).release(leaseId, health, actualTokens, report),
              (reply) => this.#host.onReleased(leaseId, reply.informed),
              () => {
                dropStub(pool);
                this.#host.onReleaseFailed(leaseId, Date.now());
              },
            ),
          renew: (pool, workloadId, leases, report) =>
            send(
              'lease renewal',
              coordinator(pool).renew(workloadId, leases, report),
              (reply) => this.#host.onRenewReply(reply),
              () => dropStub(pool),
            ),
          forget: (pool, workloadId, report) =>
            send('forget', coordinator(pool).forget(workloadId, report), undefined, () => dropStub(pool)),
        },
        reply: (requestId, reply) => {
          const resolve = this.#waiters.get(requestId);
          this.#waiters.delete(requestId);
          resolve?.(reply);
        },
        // A new lease is written at once: the runtime then holds every reply until it is durable.
        persist: (now) => (now === true ? this.#writeNow() : this.#writer.mark()),
        setAlarm: (at) => send('setting the alarm', this.ctx.storage.setAlarm(at)),
        deleteState: () => {
          this.#writer.cancel();
          send('deleting idle state', this.ctx.storage.deleteAll());
        },
      },
      ctx.storage.kv.get<PersistedWorkload>(STATE_KEY),
      Date.now(),
    );
  }

  /** Records *new*, queues, and resolves once a slot is granted or the request ends otherwise. */
  admit(req: AdmitRequest): Promise<AdmitReply> {
    const reply = new Promise<AdmitReply>((resolve) => this.#waiters.set(req.requestId, resolve));
    this.#host.admit(req, Date.now());
    return reply;
  }

  /** Failover: queues a request whose dispatch failed before the first byte again, in its old place. */
  retry(req: RetryRequest): Promise<AdmitReply> {
    const reply = new Promise<AdmitReply>((resolve) => this.#waiters.set(req.requestId, resolve));
    this.#host.retry(req, Date.now());
    return reply;
  }

  /** From a pool's coordinator: one slot for this workload, given to its current head in that pool. */
  grant(pool: string, lease: Lease): GrantReply {
    return this.#host.grant(pool, lease, Date.now());
  }

  /**
   * Records *completed* exactly once, with the usage the backend reported, and hands the lease back
   * (see WorkloadHost.complete).
   */
  complete(
    requestId: string,
    end: Ended,
    health?: BackendHealth,
    lease?: HeldLease,
    usage?: TokenUsage | null,
  ): CompleteReply {
    return this.#host.complete(requestId, end, health ?? null, lease, Date.now(), usage);
  }

  /** The Worker's heartbeat for a running request. */
  renew(requestId: string): { renewed: boolean } {
    return { renewed: this.#host.touch(requestId, Date.now()) };
  }

  /** From a restarted coordinator of `pool`: what this workload holds there (see CoordinatorHost). */
  heldLeases(pool: string, epoch: number): DeclaredLease[] {
    return this.#host.heldLeases(pool, epoch);
  }

  describe(): WorkloadDescription | null {
    return this.#host.describe(Date.now());
  }

  override alarm(): void {
    this.#host.alarm(Date.now());
  }

  #writeNow(): void {
    this.#writer.cancel();
    this.#write();
  }

  #write(): void {
    const value = this.#host.persisted();
    if (value) this.ctx.storage.kv.put(STATE_KEY, value);
  }
}
