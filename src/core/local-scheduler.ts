// The whole scheduling core in one process: per-workload states plus the dispatcher, wired with the same
// messages the Durable Objects exchange (offer head → grant → dispatch head → re-offer → release). Used
// by the policy lab and the property tests, so they exercise exactly the code the router runs. Unlike a
// WorkloadDO it never deletes idle workloads, so their numbers stay readable after a run.

import type { BackendSpec } from './backend-pool.ts';
import { Dispatcher, type Grant } from './dispatcher.ts';
import type { Outcome } from './outcome.ts';
import type { Policy } from './policy/types.ts';
import { WorkloadState, type AdmitResult, type WorkloadStateOptions } from './workload-state.ts';

export interface LocalSchedulerOptions {
  readonly policy: Policy;
  readonly backends: readonly BackendSpec[];
  readonly workload?: Omit<WorkloadStateOptions, 'policy'>;
  readonly leaseTtlMs?: number;
}

export interface Dispatched {
  readonly leaseId: string;
  readonly workloadId: string;
  readonly requestId: string;
  readonly backend: string;
  readonly waitMs: number;
  readonly score: number;
}

export class LocalScheduler {
  readonly dispatcher: Dispatcher;
  readonly #workloads = new Map<string, WorkloadState>();
  readonly #opts: LocalSchedulerOptions;
  readonly #leaseOf = new Map<string, { leaseId: string; workloadId: string }>();
  /**
   * Each workload's own next deadline as computed at its last change: the in-process stand-in for a
   * WorkloadDO's alarm. Kept rather than recomputed at sweep time, because a deadline that has just
   * passed (a head change by aging) is no longer reported by the queue once it is in the past.
   */
  readonly #dueAt = new Map<string, number>();

  constructor(opts: LocalSchedulerOptions) {
    this.#opts = opts;
    this.dispatcher = new Dispatcher({
      backends: opts.backends,
      policy: opts.policy,
      ...(opts.leaseTtlMs !== undefined ? { leaseTtlMs: opts.leaseTtlMs } : {}),
    });
  }

  workload(workloadId: string): WorkloadState {
    let ws = this.#workloads.get(workloadId);
    if (!ws) {
      ws = new WorkloadState(workloadId, { ...this.#opts.workload, policy: this.#opts.policy });
      this.#workloads.set(workloadId, ws);
    }
    return ws;
  }

  workloads(): IterableIterator<WorkloadState> {
    return this.#workloads.values();
  }

  admit(
    workloadId: string,
    requestId: string,
    criticality: number,
    now: number,
    tokenEstimate = 0,
  ): AdmitResult {
    const ws = this.workload(workloadId);
    const result = ws.admit({ requestId, criticality, tokenEstimate }, now);
    this.#offer(ws, now);
    return result;
  }

  /** Hands out every free slot to the best heads at `now`. */
  dispatch(now: number): Dispatched[] {
    const out: Dispatched[] = [];
    for (let grant = this.dispatcher.next(now); grant; grant = this.dispatcher.next(now)) {
      const taken = this.#take(grant, now);
      if (taken) out.push(taken);
    }
    return out;
  }

  /** Completion by request: releases its lease if it holds one. Exactly once; false on repeats. */
  complete(workloadId: string, requestId: string, outcome: Outcome, now: number): boolean {
    const ws = this.#workloads.get(workloadId);
    if (!ws) return false;
    const wasQueued = ws.isQueued(requestId);
    const recorded = ws.complete(requestId, outcome, now);
    const lease = this.#leaseOf.get(requestId);
    if (lease) {
      this.#leaseOf.delete(requestId);
      this.dispatcher.release(lease.leaseId);
    }
    if (wasQueued) this.#offer(ws, now);
    return recorded;
  }

  cancel(workloadId: string, requestId: string, now: number): boolean {
    const ws = this.#workloads.get(workloadId);
    if (!ws || !ws.cancel(requestId, now)) return false;
    this.#offer(ws, now);
    return true;
  }

  /** TTL evictions, lost in-flight requests and lease expiries, as the hosts' alarms would run them. */
  sweep(now: number): { evicted: string[]; lost: string[] } {
    const evicted: string[] = [];
    const lost: string[] = [];
    for (const lease of this.dispatcher.expireLeases(now)) this.#leaseOf.delete(lease.requestId);
    for (const ws of this.#workloads.values()) {
      // Like each WorkloadDO's alarm: only a workload whose own deadline has come does anything.
      if ((this.#dueAt.get(ws.workloadId) ?? Infinity) > now) continue;
      const r = ws.sweep(now);
      evicted.push(...r.evicted);
      lost.push(...r.lost);
      for (const id of r.lost) {
        const lease = this.#leaseOf.get(id);
        if (lease) this.dispatcher.release(lease.leaseId);
        this.#leaseOf.delete(id);
      }
      // A due deadline may also be a head change by aging alone, so re-offer.
      this.#offer(ws, now);
    }
    return { evicted, lost };
  }

  /** The earliest time any host would wake up on its own. */
  nextDeadline(now: number): number | null {
    let next = this.dispatcher.nextDeadline(now) ?? Infinity;
    for (const due of this.#dueAt.values()) next = Math.min(next, due);
    return Number.isFinite(next) ? next : null;
  }

  #take(grant: Grant, now: number): Dispatched | null {
    const ws = this.#workloads.get(grant.workloadId);
    const taken = ws?.dispatchHead(now) ?? null;
    if (!ws || !taken) {
      this.dispatcher.release(grant.leaseId);
      return null;
    }
    this.dispatcher.assign(grant.leaseId, taken.requestId);
    this.#leaseOf.set(taken.requestId, { leaseId: grant.leaseId, workloadId: grant.workloadId });
    this.#offer(ws, now);
    return {
      leaseId: grant.leaseId,
      workloadId: grant.workloadId,
      requestId: taken.requestId,
      backend: grant.backend,
      waitMs: taken.waitMs,
      score: grant.score,
    };
  }

  #offer(ws: WorkloadState, now: number): void {
    this.dispatcher.offer(ws.workloadId, ws.head(now), ws.signals(now));
    const due = ws.nextDeadline(now, false);
    if (due === null) this.#dueAt.delete(ws.workloadId);
    else this.#dueAt.set(ws.workloadId, due);
  }
}
