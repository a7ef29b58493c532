// CoordinatorDO: hosts the core Dispatcher for one backend pool. Receives workload heads, grants leases
// while slots are free, takes releases, and expires lost leases with an alarm. Leases and the set of
// known workloads are persisted, so a restart neither leaks nor double-books a slot.

import { DurableObject } from 'cloudflare:workers';
import { createPolicy, Dispatcher, type HeadView, type Lease, type WorkloadSignals } from '../core/index.ts';
import { loadConfig } from './config.ts';
import type { Env } from './env.ts';
import type { BackendHealth, GrantReply, OfferReply } from './rpc-types.ts';
import { workloadStub } from './stubs.ts';
import { WriteBehind } from './write-behind.ts';

const LEASE_KEY = 'lease:';
const WORKLOAD_KEY = 'wl:';

export interface CoordinatorStats {
  readonly leases: number;
  readonly ready: number;
  readonly freeSlots: number;
}

export class CoordinatorDO extends DurableObject<Env> {
  readonly #dispatcher: Dispatcher;
  readonly #workloads = new Set<string>();
  #alarmAt: number | null = null;
  /** Lease changes not yet written: leaseId → lease to store, or null to delete. */
  readonly #pendingLeases = new Map<string, Lease | null>();
  readonly #writer = new WriteBehind(() => this.#writeLeases());

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.message);
    const { config } = loaded;
    this.#dispatcher = new Dispatcher({
      backends: config.backends,
      policy: createPolicy(config.policy, config.policyParams),
      leaseTtlMs: config.leaseTtlMs,
      backendCooldown: config.backendCooldown,
      newLeaseId: () => crypto.randomUUID(),
    });
    const kv = ctx.storage.kv;
    this.#dispatcher.restoreLeases([...kv.list<Lease>({ prefix: LEASE_KEY })].map(([, lease]) => lease));
    for (const [key] of kv.list({ prefix: WORKLOAD_KEY }))
      this.#workloads.add(key.slice(WORKLOAD_KEY.length));
  }

  /** A workload's current head (or none). Grants for the caller come back inline. */
  offer(workloadId: string, head: HeadView | null, signals: WorkloadSignals): OfferReply {
    this.#remember(workloadId);
    this.#dispatcher.offer(workloadId, head, signals);
    return { grants: this.#drain(workloadId) };
  }

  /**
   * Idempotent. Frees the slot and hands it on. `backendHealth` says whether the request reached its
   * backend: 'unreachable' starts that backend's cooldown, 'reachable' ends it.
   */
  release(leaseId: string, backendHealth?: BackendHealth): { released: boolean } {
    const lease = this.#dispatcher.release(leaseId);
    if (lease) {
      this.#storeLease(leaseId, null);
      if (backendHealth === 'unreachable') this.#dispatcher.reportUnreachable(lease.backend, Date.now());
      if (backendHealth === 'reachable') this.#dispatcher.reportReachable(lease.backend);
    }
    this.#drain();
    if (backendHealth === 'unreachable') void this.#armAlarm();
    return { released: lease !== null };
  }

  /** The workload deleted itself (idle): stop listing it. */
  forget(workloadId: string): void {
    this.#dispatcher.withdraw(workloadId);
    if (this.#workloads.delete(workloadId)) this.ctx.storage.kv.delete(WORKLOAD_KEY + workloadId);
  }

  listWorkloads(): string[] {
    return [...this.#workloads].sort();
  }

  backends(): ReturnType<Dispatcher['backends']> {
    return this.#dispatcher.backends(Date.now());
  }

  scoreOf(workloadId: string): number | null {
    return this.#dispatcher.scoreOf(workloadId, Date.now());
  }

  stats(): CoordinatorStats {
    return {
      leases: this.#dispatcher.leaseCount,
      ready: this.#dispatcher.readyCount,
      freeSlots: this.#dispatcher.freeSlots(Date.now()),
    };
  }

  leases(): Lease[] {
    return this.#dispatcher.leases();
  }

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    for (const lease of this.#dispatcher.expireLeases(Date.now())) {
      this.#storeLease(lease.leaseId, null);
      console.warn(`[sluice] lease ${lease.leaseId} of workload ${lease.workloadId} expired unreleased`);
    }
    this.#drain();
    await this.#armAlarm();
  }

  /**
   * Grants every free slot it can, synchronously, so no other call can interleave between choosing a
   * head and reserving its slot. Grants for `caller` are returned; the rest are delivered by RPC.
   */
  #drain(caller?: string): Lease[] {
    const inline: Lease[] = [];
    const now = Date.now();
    for (let grant = this.#dispatcher.next(now); grant; grant = this.#dispatcher.next(now)) {
      const { score: _score, ...lease } = grant;
      this.#storeLease(lease.leaseId, lease);
      if (lease.workloadId === caller) inline.push(lease);
      else void this.#deliver(lease);
    }
    if (this.#alarmAt === null && this.#dispatcher.leaseCount > 0) void this.#armAlarm();
    return inline;
  }

  async #deliver(lease: Lease): Promise<void> {
    let reply: GrantReply;
    try {
      reply = await workloadStub(this.env, lease.workloadId).grant(lease);
    } catch (err) {
      console.error(`[sluice] grant to workload ${lease.workloadId} failed: ${String(err)}`);
      this.release(lease.leaseId);
      return;
    }
    if (reply.taken === null) {
      this.#dispatcher.release(lease.leaseId);
      this.#storeLease(lease.leaseId, null);
    }
    this.#dispatcher.offer(lease.workloadId, reply.head, reply.signals);
    this.#drain();
  }

  async #armAlarm(): Promise<void> {
    const next = this.#dispatcher.nextDeadline(Date.now());
    if (next === null) return;
    if (this.#alarmAt !== null && this.#alarmAt <= next && this.#alarmAt > Date.now()) return;
    this.#alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }

  #storeLease(leaseId: string, lease: Lease | null): void {
    this.#pendingLeases.set(leaseId, lease);
    this.#writer.mark();
  }

  #writeLeases(): void {
    const kv = this.ctx.storage.kv;
    for (const [leaseId, lease] of this.#pendingLeases) {
      if (lease === null) kv.delete(LEASE_KEY + leaseId);
      else kv.put(LEASE_KEY + leaseId, lease);
    }
    this.#pendingLeases.clear();
  }

  #remember(workloadId: string): void {
    if (this.#workloads.has(workloadId)) return;
    this.#workloads.add(workloadId);
    this.ctx.storage.kv.put(WORKLOAD_KEY + workloadId, 1);
  }
}
