// WorkloadDO: one per workload ID. Hosts the core WorkloadState (registry entry + queue), holds the
// waiters of queued requests, and talks to the coordinator. Persists the registry (writes coalesced, see
// write-behind.ts); an alarm sweeps TTL expiries, re-offers the head, retries failed releases, and
// deletes the workload once idle.

import { DurableObject } from 'cloudflare:workers';
import {
  createPolicy,
  WorkloadState,
  type Lease,
  type Outcome,
  type RegistrySnapshot,
} from '../core/index.ts';
import { loadConfig, type SluiceConfig } from './config.ts';
import type { Env } from './env.ts';
import type {
  BackendHealth,
  AdmitReply,
  AdmitRequest,
  CompleteReply,
  GrantReply,
  WorkloadDescription,
} from './rpc-types.ts';
import { coordinatorStub } from './stubs.ts';
import { WriteBehind } from './write-behind.ts';

/**
 * While requests wait, the head is re-offered this often. It heals a coordinator restart (its ready set
 * lives in memory) and a lost offer, at the cost of one small RPC per waiting workload per interval.
 * Releases that failed are retried on the same beat.
 */
const REOFFER_INTERVAL_MS = 5_000;
const STATE_KEY = 'state';

interface PersistedState {
  readonly workloadId: string;
  readonly registry: RegistrySnapshot;
  /** requestId → leaseId for requests in flight, so completion after a restart still frees the slot. */
  readonly leases: ReadonlyArray<readonly [string, string]>;
  /** Releases the coordinator has not acknowledged yet (it was unreachable); retried by the alarm. */
  readonly pendingReleases?: ReadonlyArray<readonly [string, BackendHealth | null]>;
}

export class WorkloadDO extends DurableObject<Env> {
  readonly #config: SluiceConfig;
  #state: WorkloadState | null = null;
  readonly #leases = new Map<string, string>();
  readonly #pendingReleases = new Map<string, BackendHealth | null>();
  readonly #waiters = new Map<string, (reply: AdmitReply) => void>();
  #offering: Promise<void> | null = null;
  #offerDirty = false;
  #alarmAt: number | null = null;
  readonly #writer = new WriteBehind(() => this.#write());

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.message);
    this.#config = loaded.config;
    const saved = ctx.storage.kv.get<PersistedState>(STATE_KEY);
    if (saved) {
      this.#state = this.#newState(saved.workloadId, saved.registry);
      for (const [requestId, leaseId] of saved.leases) this.#leases.set(requestId, leaseId);
      for (const [leaseId, health] of saved.pendingReleases ?? []) this.#pendingReleases.set(leaseId, health);
      this.#write();
    }
  }

  /** Records *new*, enqueues, and resolves once a slot is granted (or the request ends otherwise). */
  async admit(req: AdmitRequest): Promise<AdmitReply> {
    const state = this.#ensure(req.workloadId);
    const now = Date.now();
    const admitted = state.admit(
      { requestId: req.requestId, criticality: req.criticality, tokenEstimate: req.tokenEstimate },
      now,
    );
    this.#persist();
    if (admitted.kind === 'rejected') {
      return {
        kind: 'rejected',
        outcome: 'rejected_capacity',
        retryAfterSec: this.#state?.retryAfterSec(now) ?? 1,
      };
    }
    const reply = new Promise<AdmitReply>((resolve) => this.#waiters.set(req.requestId, resolve));
    await this.#offerHead();
    await this.#armAlarm();
    return reply;
  }

  /** From the coordinator: one slot for this workload, given to the current head. */
  grant(lease: Lease): GrantReply {
    const taken = this.#applyGrant(lease);
    const now = Date.now();
    const state = this.#state;
    return {
      taken,
      head: state?.head(now) ?? null,
      signals: state?.signals(now) ?? {
        requestRatePerSec: 0,
        averageWaitMs: null,
        lastDispatchedAt: null,
      },
    };
  }

  /** Client gone. Same as completing with `cancelled`: removes it if queued, frees its slot if not. */
  async cancel(requestId: string): Promise<CompleteReply> {
    return this.complete(requestId, 'cancelled');
  }

  /**
   * Records *completed* exactly once and hands the lease back, with what was learned of the backend.
   * `leaseId` comes from the caller too, so the slot is freed even when this object no longer knows the
   * request (it restarted between the grant and its next write).
   */
  async complete(
    requestId: string,
    outcome: Outcome,
    backendHealth?: BackendHealth,
    leaseId?: string,
  ): Promise<CompleteReply> {
    const state = this.#state;
    const now = Date.now();
    const wasQueued = state?.isQueued(requestId) ?? false;
    const recorded = state?.complete(requestId, outcome, now) ?? false;
    this.#resolveWaiter(requestId, { kind: 'cancelled', outcome: 'cancelled' });
    const lease = this.#leases.get(requestId) ?? leaseId;
    this.#leases.delete(requestId);
    this.#persist();
    if (lease !== undefined) await this.#release(lease, backendHealth ?? null);
    if (wasQueued) await this.#offerHead();
    await this.#armAlarm();
    return { recorded };
  }

  /**
   * The Worker's heartbeat for a running request: keeps the request from being swept as lost and its
   * lease from expiring, however long the generation takes.
   */
  async renew(requestId: string, leaseId: string): Promise<{ renewed: boolean }> {
    const now = Date.now();
    const live = this.#state?.touch(requestId, now) ?? false;
    if (live) this.#persist();
    const { renewed } = await coordinatorStub(this.env).renew(this.#leases.get(requestId) ?? leaseId);
    return { renewed: live && renewed };
  }

  describe(): WorkloadDescription | null {
    const state = this.#state;
    if (!state) return null;
    const now = Date.now();
    return { workloadId: state.workloadId, metrics: state.metrics(now), head: state.head(now) };
  }

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    try {
      await this.#onAlarm();
    } finally {
      // Whatever failed above, the next sweep (TTL, re-offer, retried releases) must still happen.
      if (this.#state) await this.#armAlarm();
    }
  }

  async #onAlarm(): Promise<void> {
    const state = this.#state;
    if (!state) return;
    const now = Date.now();
    const { evicted, lost } = state.sweep(now);
    for (const id of evicted) {
      this.#resolveWaiter(id, {
        kind: 'evicted',
        outcome: 'evicted_ttl',
        retryAfterSec: this.#state?.retryAfterSec(now) ?? 1,
      });
    }
    for (const id of lost) {
      const leaseId = this.#leases.get(id);
      this.#leases.delete(id);
      if (leaseId !== undefined) this.#pendingReleases.set(leaseId, null);
    }
    this.#persist();
    for (const [leaseId, health] of [...this.#pendingReleases]) await this.#release(leaseId, health);

    if (state.isEvictable(now) && this.#pendingReleases.size === 0) {
      this.#state = null;
      this.#writer.cancel();
      await this.ctx.storage.deleteAll();
      await coordinatorStub(this.env).forget(state.workloadId);
      return;
    }
    if (state.queueSize > 0 || evicted.length > 0) await this.#offerHead();
  }

  /** Hands a lease back; if the coordinator cannot be reached, keeps it for the alarm to retry. */
  async #release(leaseId: string, health: BackendHealth | null): Promise<void> {
    try {
      await coordinatorStub(this.env).release(leaseId, health ?? undefined);
      if (this.#pendingReleases.delete(leaseId)) this.#persist();
    } catch (err) {
      console.error(`[sluice] release of lease ${leaseId} failed, will retry: ${String(err)}`);
      this.#pendingReleases.set(leaseId, health);
      this.#persist();
    }
  }

  #ensure(workloadId: string): WorkloadState {
    if (!this.#state) this.#state = this.#newState(workloadId);
    return this.#state;
  }

  #newState(workloadId: string, snapshot?: RegistrySnapshot): WorkloadState {
    const c = this.#config;
    return new WorkloadState(
      workloadId,
      {
        policy: createPolicy(c.policy, c.policyParams),
        maxQueue: c.maxQueuePerWorkload,
        queueTtlMs: c.queueTtlMs,
        inFlightTtlMs: c.leaseTtlMs,
      },
      snapshot,
      Date.now(),
    );
  }

  /** Takes the current head for a granted slot; null (slot to be returned) when nothing is queued. */
  #applyGrant(lease: Lease): { requestId: string; waitMs: number } | null {
    const state = this.#state;
    if (!state) return null;
    const taken = state.dispatchHead(Date.now());
    if (!taken) return null;
    this.#leases.set(taken.requestId, lease.leaseId);
    this.#persist();
    this.#resolveWaiter(taken.requestId, {
      kind: 'granted',
      leaseId: lease.leaseId,
      backend: lease.backend,
      waitMs: taken.waitMs,
    });
    return taken;
  }

  /**
   * Offers the current head to the coordinator. Calls made while an offer is in flight coalesce into one
   * more round with the then-current head, so the coordinator's last word is always the latest head.
   */
  #offerHead(): Promise<void> {
    this.#offerDirty = true;
    if (this.#offering) return this.#offering;
    this.#offering = this.#offerLoop().finally(() => {
      this.#offering = null;
    });
    return this.#offering;
  }

  async #offerLoop(): Promise<void> {
    const coordinator = coordinatorStub(this.env);
    while (this.#offerDirty && this.#state) {
      this.#offerDirty = false;
      const now = Date.now();
      let grants: readonly Lease[];
      try {
        ({ grants } = await coordinator.offer(
          this.#state.workloadId,
          this.#state.head(now),
          this.#state.signals(now),
        ));
      } catch (err) {
        // The alarm re-offers within REOFFER_INTERVAL_MS; waiters stay queued until then.
        console.error(`[sluice] offer to coordinator failed: ${String(err)}`);
        return;
      }
      for (const lease of grants) {
        if (this.#applyGrant(lease)) this.#offerDirty = true;
        else await this.#release(lease.leaseId, null);
      }
    }
  }

  #resolveWaiter(requestId: string, reply: AdmitReply): void {
    const resolve = this.#waiters.get(requestId);
    if (!resolve) return;
    this.#waiters.delete(requestId);
    resolve(reply);
  }

  async #armAlarm(): Promise<void> {
    const state = this.#state;
    if (!state) return;
    const now = Date.now();
    let next = state.nextDeadline(now);
    if (state.queueSize > 0 || this.#pendingReleases.size > 0) {
      next = Math.min(next ?? Infinity, now + REOFFER_INTERVAL_MS);
    }
    if (next === null) return;
    // Only move the alarm earlier; a late-firing alarm just re-arms, so extra writes are not worth it.
    if (this.#alarmAt !== null && this.#alarmAt <= next && this.#alarmAt > now) return;
    this.#alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }

  #persist(): void {
    this.#writer.mark();
  }

  #write(): void {
    const state = this.#state;
    if (!state) return;
    const value: PersistedState = {
      workloadId: state.workloadId,
      registry: state.snapshot(),
      leases: [...this.#leases.entries()],
      pendingReleases: [...this.#pendingReleases.entries()],
    };
    this.ctx.storage.kv.put(STATE_KEY, value);
  }
}
