// Test helper, not a test: the real workload and coordinator hosts wired by a simulated network whose
// messages the test delivers in any order, drops (before or after the receiver ran), or never delivers;
// hosts restart from what they persisted; Workers crash. It checks the over-booking invariant on every
// grant and exposes the rest for the properties in protocol-interleaving.test.ts.

import {
  CoordinatorHost,
  DEFAULT_POOL,
  ENDED,
  WorkloadHost,
  createPolicy,
  type AdmitReply,
  type Criticality,
  type Ended,
  type Lease,
  type PersistedWorkload,
  type PolicyName,
  type WorkloadLimits,
} from '../../src/core/index.ts';

export const LEASE_TTL_MS = 8_000;
export const REOFFER_MS = 2_000;
export const QUEUE_TTL_MS = 30_000;
export const MAX_QUEUE = 3;
/** One pool: the protocol is per pool, and pools share nothing but the workload's registry entry. */
const POOL = DEFAULT_POOL;

/** One message on the wire: what delivering it does, and what its sender sees if it is lost. */
export interface Message {
  readonly kind:
    | 'offer'
    | 'offer-reply'
    | 'release'
    | 'release-reply'
    | 'grant'
    | 'grant-reply'
    | 'renew'
    | 'forget'
    | 'ask-leases'
    | 'ask-leases-reply';
  /** Delivers it. Returns the reply message, if the call has one. */
  readonly deliver: () => Message | null;
  /** The sender's view of a lost call (or of a lost reply); null for one-way messages. */
  readonly fail: (() => void) | null;
  /** Host incarnation it must reach; a restarted host never sees messages addressed to its predecessor. */
  readonly to: { readonly host: 'coordinator' | string; readonly epoch: number };
}

export type RequestState = 'waiting' | 'running' | 'ended' | 'crashed';

export interface WorkerRequest {
  readonly id: string;
  readonly workloadId: string;
  state: RequestState;
  leaseId?: string;
  backend?: string;
  replies: number;
  /**
   * Failover: each failed attempt's backend, with the leases that existed when it failed (grants issued
   * before the coordinator could know), and how many attempts the request has had.
   */
  failures?: Array<{ readonly backend: string; readonly leasesAtFailure: ReadonlySet<string> }>;
  attempts?: number;
  enqueuedAt?: number;
  /** How many completions the workload accepted as recorded for this request. */
  recorded: number;
  end?: Ended;
}

interface WorkloadSlot {
  host: WorkloadHost;
  epoch: number;
  saved: PersistedWorkload | null;
  alarmAt: number | null;
}

export interface Mutations {
  /** Break the stale-reply rule: a grant reply's head always replaces the coordinator's view. */
  readonly ignoreStaleReplyRule?: boolean;
  /** Break release retries: a release whose call failed is forgotten. */
  readonly noReleaseRetry?: boolean;
  /** Break recovery: a restarted coordinator grants at once, before the workloads declared their leases. */
  readonly grantBeforeDeclared?: boolean;
  /** Break the fence: a workload takes a grant its coordinator sent before it restarted. */
  readonly ignoreGrantFence?: boolean;
  /** Break grant failure handling: release the lease when a grant's reply is lost. */
  readonly releaseOnGrantFailure?: boolean;
}

export class Cluster {
  now = 0;
  readonly pending: Message[] = [];
  readonly requests = new Map<string, WorkerRequest>();
  readonly violations: string[] = [];
  readonly backends: ReadonlyArray<{ name: string; maxConcurrency: number }>;
  coordinator!: CoordinatorHost;
  #coordinatorEpoch = 0;
  #coordinatorAlarm: number | null = null;
  readonly #workloadStore = new Set<string>();
  readonly #workloads = new Map<string, WorkloadSlot>();
  readonly #policy: PolicyName;
  readonly #mut: Mutations;
  #seq = 0;
  /** Sent with every admit, as an API key's limits are (workload-limits.ts); none when absent. */
  readonly limits: WorkloadLimits | undefined;
  readonly #recoveryAsksInFlight: number | undefined;

  constructor(
    policy: PolicyName,
    backends: readonly number[],
    mutations: Mutations = {},
    limits?: WorkloadLimits,
    /** A restarted coordinator's asks out at once (its default when absent). */
    recoveryAsksInFlight?: number,
  ) {
    this.limits = limits;
    this.#recoveryAsksInFlight = recoveryAsksInFlight;
    this.#policy = policy;
    this.#mut = mutations;
    this.backends = backends.map((m, i) => ({ name: `b${i}`, maxConcurrency: m }));
    this.#startCoordinator();
  }

  // ---- the Worker side -------------------------------------------------------------------------

  admit(workloadId: string, criticality: Criticality): string {
    const id = `r${this.#seq++}`;
    this.requests.set(id, { id, workloadId, state: 'waiting', replies: 0, recorded: 0 });
    this.#workload(workloadId).host.admit(
      {
        requestId: id,
        workloadId,
        pool: POOL,
        criticality,
        tokenEstimate: 10,
        ...(this.limits ? { limits: this.limits } : {}),
      },
      this.now,
    );
    return id;
  }

  /** The Worker ends a request: a running one with its outcome, a waiting one as the client leaving. */
  complete(id: string, end: Ended = ENDED.completed): void {
    const r = this.requests.get(id);
    if (!r || (r.state !== 'running' && r.state !== 'waiting')) return;
    // Ended before the call, so the waiter's answer to this very call is not counted as a reply.
    r.state = 'ended';
    r.end ??= end;
    const lease = r.leaseId === undefined ? undefined : { pool: POOL, leaseId: r.leaseId };
    const reply = this.#workload(r.workloadId).host.complete(id, end, null, lease, this.now);
    if (reply.recorded) r.recorded++;
    // The Worker retries a completion whose answer it did not see; the second must change nothing.
    if (this.#workload(r.workloadId).host.complete(id, end, null, lease, this.now).recorded) r.recorded++;
  }

  /**
   * The Worker's dispatch failed before the first byte (its backend refused): the request goes back to
   * its queue, in its old place, and must not be sent back to that backend.
   */
  failover(id: string): void {
    const r = this.requests.get(id);
    if (r?.state !== 'running' || r.leaseId === undefined || r.backend === undefined) return;
    r.state = 'waiting';
    r.replies = 0;
    const failedOn = r.backend;
    // Leases that existed when it failed: grants issued before the coordinator could know.
    const leasesAtFailure = new Set(this.coordinator.dispatcher.leases().map((l) => l.leaseId));
    (r.failures ??= []).push({ backend: failedOn, leasesAtFailure });
    r.attempts = (r.attempts ?? 1) + 1;
    const failedLeaseId = r.leaseId;
    r.leaseId = undefined;
    r.backend = undefined;
    this.#workload(r.workloadId).host.retry(
      {
        requestId: id,
        workloadId: r.workloadId,
        pool: POOL,
        criticality: 3,
        tokenEstimate: 10,
        enqueuedAt: r.enqueuedAt ?? this.now,
        failedLeaseId,
        failedBackend: failedOn,
        health: { reachable: false, observedAt: this.now },
      },
      this.now,
    );
  }

  /** The Worker running this request dies: no more heartbeats, no completion. */
  crashWorker(id: string): void {
    const r = this.requests.get(id);
    if (r?.state === 'running') r.state = 'crashed';
  }

  ofState(state: RequestState): WorkerRequest[] {
    return [...this.requests.values()].filter((r) => r.state === state);
  }

  // ---- the network -----------------------------------------------------------------------------

  deliver(index: number): void {
    const msg = this.#take(index);
    if (!msg) return;
    if (!this.#reachable(msg)) {
      // A call to an incarnation that is gone fails for its caller; a reply to one is simply lost.
      if (!msg.kind.endsWith('-reply')) msg.fail?.();
      return;
    }
    const reply = msg.deliver();
    if (reply) this.pending.push(reply);
  }

  /** Lost before the receiver saw it. */
  dropRequest(index: number): void {
    const msg = this.#take(index);
    if (msg?.kind === 'renew')
      this.pending.push(msg); // renewals are not dropped, see README of the test
    else msg?.fail?.();
  }

  /**
   * The receiver ran the call, but its answer is lost: the caller hears of a failure. Picked on a reply
   * (whose call has run already), the reply is not applied: a call is answered or fails, never both.
   */
  dropReply(index: number): void {
    const msg = this.#take(index);
    if (!msg) return;
    if (msg.kind === 'renew' || msg.fail === null) {
      this.pending.push(msg);
      return;
    }
    if (this.#reachable(msg) && !msg.kind.endsWith('-reply')) msg.deliver();
    msg.fail();
  }

  /** The index of the (i mod n)-th pending message among those of the given kinds, or -1. */
  indexAmong(i: number, kinds: ReadonlySet<Message['kind']>): number {
    const idx = this.pending.flatMap((m, at) => (kinds.has(m.kind) ? [at] : []));
    return idx.length === 0 ? -1 : (idx[i % idx.length] ?? -1);
  }

  /** Delivers everything in order until nothing is left (replies included). */
  settle(): void {
    for (let guard = 0; this.pending.length > 0; guard++) {
      if (guard > 100_000) throw new Error('settle: messages keep coming');
      this.deliver(0);
    }
  }

  // ---- time, alarms, restarts ------------------------------------------------------------------

  /** Advances time in small steps; at each, live Workers heartbeat and due alarms fire. */
  tick(dtMs: number): void {
    const end = this.now + dtMs;
    const step = LEASE_TTL_MS / 8;
    while (this.now < end) {
      this.now = Math.min(end, this.now + step);
      for (const r of this.requests.values()) {
        if (r.state === 'running') this.#workload(r.workloadId).host.touch(r.id, this.now);
      }
      for (const [, slot] of this.#workloads) {
        if (slot.alarmAt !== null && slot.alarmAt <= this.now) {
          slot.alarmAt = null;
          slot.host.alarm(this.now);
        }
      }
      if (this.#coordinatorAlarm !== null && this.#coordinatorAlarm <= this.now) {
        this.#coordinatorAlarm = null;
        this.coordinator.alarm(this.now);
      }
      // Renewals are delivered within the step: the test does not drop them (see dropRequest).
      for (let i = this.pending.length - 1; i >= 0; i--)
        if (this.pending[i]?.kind === 'renew') this.deliver(i);
    }
  }

  restartWorkload(workloadId: string): void {
    const slot = this.#workloads.get(workloadId);
    if (!slot) return;
    this.#workloads.delete(workloadId);
    // A restart takes time: the new host's epoch (its start time) is later than its predecessor's.
    this.now += 1;
    const fresh = this.#workload(workloadId, slot.saved ?? undefined, slot.epoch + 1);
    fresh.alarmAt = fresh.alarmAt ?? slot.alarmAt;
    // Waiters lived in the old instance: their admit calls fail, and the Worker records the end.
    for (const r of this.requests.values()) {
      if (r.workloadId === workloadId && r.state === 'waiting') this.complete(r.id, ENDED.queueLost);
    }
  }

  restartCoordinator(): void {
    this.#coordinatorEpoch++;
    this.#startCoordinator();
  }

  // ---- views for the properties ----------------------------------------------------------------

  workloadHost(workloadId: string): WorkloadHost | undefined {
    return this.#workloads.get(workloadId)?.host;
  }

  workloadIds(): string[] {
    return [...this.#workloads.keys()];
  }

  /** Requests the Workers are running on each backend right now. */
  runningOn(backend: string): number {
    let n = 0;
    for (const r of this.requests.values()) if (r.state === 'running' && r.backend === backend) n++;
    return n;
  }

  // ---- wiring ----------------------------------------------------------------------------------

  #take(index: number): Message | undefined {
    if (this.pending.length === 0) return undefined;
    return this.pending.splice(index % this.pending.length, 1)[0];
  }

  #reachable(msg: Message): boolean {
    if (msg.to.host === 'coordinator') return msg.to.epoch === this.#coordinatorEpoch;
    const slot = this.#workloads.get(msg.to.host);
    // A call to a workload reaches its current incarnation; a reply, only the instance that asked.
    return slot !== undefined && (msg.to.epoch < 0 || msg.to.epoch === slot.epoch);
  }

  #startCoordinator(): void {
    const epoch = this.#coordinatorEpoch;
    const toCoordinator = { host: 'coordinator', epoch } as const;
    const host = new CoordinatorHost(
      {
        backends: this.backends,
        policy: createPolicy(this.#policy),
        leaseTtlMs: LEASE_TTL_MS,
        epoch,
        ...(this.#recoveryAsksInFlight !== undefined
          ? { recoveryAsksInFlight: this.#recoveryAsksInFlight }
          : {}),
        newLeaseId: (() => {
          let n = 0;
          return () => `c${epoch}-l${n++}`;
        })(),
      },
      {
        grant: (lease) => {
          const to = { host: lease.workloadId, epoch: -1 };
          this.pending.push({
            kind: 'grant',
            to,
            deliver: () => {
              // The broken fence: the grant looks as if the current incarnation sent it.
              const delivered = this.#mut.ignoreGrantFence
                ? { ...lease, epoch: this.#coordinatorEpoch }
                : lease;
              const reply = this.#workload(lease.workloadId).host.grant(POOL, delivered, this.now);
              return {
                kind: 'grant-reply',
                to: toCoordinator,
                deliver: () => {
                  if (this.#mut.ignoreStaleReplyRule)
                    host.dispatcher.offer(lease.workloadId, reply.head, reply.signals);
                  host.onGrantReply(lease, reply, this.now);
                  return null;
                },
                fail: () => this.#grantFailed(host, lease),
              };
            },
            fail: () => this.#grantFailed(host, lease),
          });
        },
        askLeases: (workloadId, asking) => {
          this.pending.push({
            kind: 'ask-leases',
            to: { host: workloadId, epoch: -1 },
            deliver: () => {
              const held = this.#workload(workloadId).host.heldLeases(POOL, asking);
              return {
                kind: 'ask-leases-reply',
                to: toCoordinator,
                deliver: () => {
                  host.onLeasesHeld(workloadId, held, this.now);
                  return null;
                },
                fail: () => host.onAskFailed(workloadId, 'lost'),
              };
            },
            fail: () => host.onAskFailed(workloadId, 'lost'),
          });
        },
        addWorkload: (id) => this.#workloadStore.add(id),
        deleteWorkload: (id) => this.#workloadStore.delete(id),
        setAlarm: (at) => {
          if (epoch === this.#coordinatorEpoch) this.#coordinatorAlarm = at;
        },
        warn: () => undefined,
        // Slots only: no saturation policy, so nothing is ever scraped.
        scrape: () => undefined,
        probe: () => undefined,
        healthChanged: () => undefined,
      },
    );
    host.restore({ workloads: this.#mut.grantBeforeDeclared ? [] : [...this.#workloadStore] }, this.now);
    this.coordinator = host;
  }

  #grantFailed(host: CoordinatorHost, lease: Lease): void {
    if (host !== this.coordinator) return;
    host.onGrantFailed(lease, this.now, 'lost');
    if (this.#mut.releaseOnGrantFailure) host.release(lease.leaseId, null, this.now);
  }

  #workload(workloadId: string, saved?: PersistedWorkload, epoch = 0): WorkloadSlot {
    let slot = this.#workloads.get(workloadId);
    if (slot) return slot;
    const self = { epoch } as WorkloadSlot;
    const to = { host: workloadId, epoch };
    const toCoordinator = (): { host: 'coordinator'; epoch: number } => ({
      host: 'coordinator',
      epoch: this.#coordinatorEpoch,
    });
    const call = (kind: Message['kind'], run: () => Message | null, fail: (() => void) | null): void => {
      this.pending.push({ kind, to: toCoordinator(), deliver: run, fail });
    };
    const host = new WorkloadHost(
      {
        policy: createPolicy(this.#policy),
        maxQueue: MAX_QUEUE,
        queueTtlMs: QUEUE_TTL_MS,
        inFlightTtlMs: LEASE_TTL_MS,
        leaseTtlMs: LEASE_TTL_MS,
        reofferIntervalMs: REOFFER_MS,
      },
      {
        coordinator: {
          offer: (pool, id, head, signals, seq, releases, report) =>
            call(
              'offer',
              () => {
                const reply = this.coordinator.offer(id, head, signals, seq, this.now, releases, report);
                return {
                  kind: 'offer-reply',
                  to,
                  fail: () => host.onOfferFailed(pool, this.now),
                  deliver: () => {
                    host.onOfferReply(pool, reply, this.now);
                    return null;
                  },
                };
              },
              () => host.onOfferFailed(pool, this.now),
            ),
          release: (_pool, leaseId, health, actualTokens, report) =>
            call(
              'release',
              () => {
                const released = this.coordinator.release(leaseId, health, this.now, actualTokens, report);
                return {
                  kind: 'release-reply',
                  to,
                  fail: () => this.#releaseFailed(host, leaseId),
                  deliver: () => {
                    host.onReleased(leaseId, released.informed);
                    return null;
                  },
                };
              },
              () => this.#releaseFailed(host, leaseId),
            ),
          renew: (_pool, id, leases, report) =>
            call(
              'renew',
              () => {
                host.onRenewReply(this.coordinator.renew(id, leases, this.now, report));
                return null;
              },
              null,
            ),
          forget: (_pool, id, report) =>
            call(
              'forget',
              () => {
                this.coordinator.forget(id, report, this.now);
                return null;
              },
              null,
            ),
        },
        reply: (requestId, reply) => this.#onAdmitReply(requestId, reply),
        // Persisted at once: the coalescing of writes is the adapter's (write-behind.ts), not tested here.
        persist: () => {
          if (self.host) self.saved = self.host.persisted();
        },
        setAlarm: (at) => {
          self.alarmAt = at;
        },
        deleteState: () => {
          self.saved = null;
        },
      },
      saved,
      this.now,
    );
    self.host = host;
    self.saved = host.persisted();
    self.alarmAt ??= null;
    slot = self;
    this.#workloads.set(workloadId, slot);
    return slot;
  }

  #releaseFailed(host: WorkloadHost, leaseId: string): void {
    host.onReleaseFailed(leaseId, this.now);
    if (this.#mut.noReleaseRetry) host.onReleased(leaseId);
  }

  #onAdmitReply(requestId: string, reply: AdmitReply): void {
    const r = this.requests.get(requestId);
    if (!r) throw new Error(`reply for unknown request ${requestId}`);
    r.replies++;
    if (r.state !== 'waiting') return;
    if (reply.kind === 'ended') {
      r.state = 'ended';
      r.end = reply.end;
      return;
    }
    r.state = 'running';
    r.leaseId = reply.leaseId;
    r.backend = reply.backend;
    r.enqueuedAt = reply.enqueuedAt;
    // Back where one of its attempts failed, on a grant the coordinator issued before it knew of that
    // failure: the workload must refuse that one. (A later grant there is the coordinator's informed
    // choice: the cooldown ended, or the pool has no other backend.)
    if (r.failures?.some((f) => f.backend === reply.backend && f.leasesAtFailure.has(reply.leaseId))) {
      this.violations.push(
        `t=${this.now}: ${requestId} sent back to ${reply.backend} on a grant from before its failure`,
      );
    }
    const max = this.backends.find((b) => b.name === reply.backend)?.maxConcurrency ?? 0;
    const running = this.runningOn(reply.backend);
    if (running > max)
      this.violations.push(`t=${this.now}: ${running} requests run on ${reply.backend} (max ${max})`);
  }
}
