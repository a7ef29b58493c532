// Benchmark-only Worker (bench/coordinator.ts): the real CoordinatorDO, driven by workload objects that
// run the real core WorkloadHost without storage, and a closed load loop inside the Worker. No HTTP,
// proxy or backend per request, so what limits throughput is the DO protocol, mostly the coordinator.
// Pool "echo" goes to a coordinator that decides nothing and stores nothing: the same calls' floor in
// this runtime. Never deployed; not part of Sluice.

import { DurableObject } from 'cloudflare:workers';
import {
  createPolicy,
  ENDED,
  WorkloadHost,
  type AdmitReply,
  type BackendHealth,
  type CarriedRelease,
  type DeclaredLease,
  type Criticality,
  type GrantReply,
  type HeadSeq,
  type HeadView,
  type Lease,
  type MetricsReport,
  type OfferReply,
  type ReleaseReply,
  type RenewReply,
  type WorkloadSignals,
} from '../../src/core/index.ts';
import type { CoordinatorDO } from '../../src/worker/coordinator-do.ts';
import { loadConfig } from '../../src/worker/config.ts';
import type { Env } from '../../src/worker/env.ts';
import { send } from '../../src/worker/send.ts';
import { coordinatorStub } from '../../src/worker/stubs.ts';
import type { RunResult, RunSpec, WorkloadSamples } from '../coordinator-protocol.ts';

export { CoordinatorDO } from '../../src/worker/coordinator-do.ts';

/** The pool whose coordinator is EchoCoordinatorDO (bound as ECHO). */
const ECHO_POOL = 'echo';

/** The calls a workload makes to its pool's coordinator; both coordinators here answer them. */
type CoordinatorRpc = Pick<DurableObjectStub<CoordinatorDO>, 'offer' | 'release' | 'renew' | 'forget'>;

/**
 * The floor: grants every head at once with a fresh lease, acknowledges every release, keeps and writes
 * nothing. What the real coordinator costs on top of this is its own decisions.
 */
export class EchoCoordinatorDO extends DurableObject<Env> {
  #leases = 0;

  offer(
    workloadId: string,
    head: HeadView | null,
    _signals: WorkloadSignals,
    _seq: HeadSeq,
    _releases: readonly CarriedRelease[] = [],
  ): OfferReply {
    if (head === null) return { grants: [], freeSlots: 1, poolDownUntil: null };
    const now = Date.now();
    const lease: Lease = {
      leaseId: `echo-${++this.#leases}`,
      workloadId,
      requestId: head.requestId,
      backend: 'echo',
      grantedAt: now,
      expiresAt: now + 60_000,
    };
    return { grants: [lease], freeSlots: 1, poolDownUntil: null };
  }

  release(_leaseId: string, _health: BackendHealth | null, _actualTokens?: number): ReleaseReply {
    // Its leases carry no seq: any grant after this counts as made knowing (see grantedKnowing).
    return { released: true, informed: { epoch: 0, seq: 0 } };
  }

  renew(_workloadId: string, _leases: readonly DeclaredLease[], _report?: MetricsReport): RenewReply {
    return { missing: [] };
  }

  forget(_workloadId: string): void {}
}

/**
 * One workload: the core host with in-memory ports (no persistence, no alarms: nothing is lost locally
 * and every request ends at once), timing each call it makes to the coordinator.
 */
export class BenchWorkloadDO extends DurableObject<Env> {
  readonly #host: WorkloadHost;
  readonly #waiters = new Map<string, (reply: AdmitReply) => void>();
  #offerMs: number[] = [];
  #releaseMs: number[] = [];
  #inlineGrants = 0;
  #rpcGrants = 0;
  #releasesInFlight = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.message);
    const c = loaded.config;
    const echo = echoCoordinators(env);
    // The echo coordinator answers the same four calls with the same types as CoordinatorDO.
    const coordinator = (pool: string): CoordinatorRpc =>
      pool === ECHO_POOL
        ? (echo.get(echo.idFromName(pool)) as unknown as CoordinatorRpc)
        : coordinatorStub(env, pool, c);
    this.#host = new WorkloadHost(
      {
        policy: createPolicy(c.policy, c.policyParams),
        maxQueue: c.maxQueuePerWorkload,
        queueTtlMs: c.queueTtlMs,
        inFlightTtlMs: c.leaseTtlMs,
        leaseTtlMs: c.leaseTtlMs,
        reofferIntervalMs: Infinity,
        keepIdle: true,
      },
      {
        coordinator: {
          offer: (pool, workloadId, head, signals, seq, releases) => {
            const sentAt = performance.now();
            send(
              'bench offer',
              coordinator(pool).offer(workloadId, head, signals, seq, releases),
              (reply) => {
                this.#offerMs.push(performance.now() - sentAt);
                this.#inlineGrants += reply.grants.length;
                this.#host.onOfferReply(pool, reply, Date.now());
              },
              () => this.#host.onOfferFailed(pool, Date.now()),
            );
          },
          release: (pool, leaseId, health, actualTokens) => {
            const sentAt = performance.now();
            this.#releasesInFlight++;
            send(
              'bench release',
              coordinator(pool).release(leaseId, health, actualTokens),
              (reply) => {
                this.#releaseMs.push(performance.now() - sentAt);
                this.#releasesInFlight--;
                this.#host.onReleased(leaseId, reply.informed);
              },
              () => {
                this.#releasesInFlight--;
                this.#host.onReleaseFailed(leaseId, Date.now());
              },
            );
          },
          renew: (pool, workloadId, leases, report) =>
            send('bench renew', coordinator(pool).renew(workloadId, leases, report)),
          forget: (pool, workloadId) => send('bench forget', coordinator(pool).forget(workloadId)),
        },
        reply: (requestId, reply) => {
          const resolve = this.#waiters.get(requestId);
          this.#waiters.delete(requestId);
          resolve?.(reply);
        },
        persist: () => undefined,
        setAlarm: () => undefined,
        deleteState: () => undefined,
      },
      undefined,
      Date.now(),
    );
  }

  /** One request: admitted, granted a slot, and completed at once (which releases the slot). */
  async serve(
    workloadId: string,
    requestId: string,
    pool: string,
    criticality: Criticality,
  ): Promise<boolean> {
    const reply = new Promise<AdmitReply>((resolve) => this.#waiters.set(requestId, resolve));
    this.#host.admit({ requestId, workloadId, pool, criticality, tokenEstimate: 0 }, Date.now());
    const answer = await reply;
    if (answer.kind !== 'granted') return false;
    this.#host.complete(
      requestId,
      ENDED.completed,
      null,
      { pool, leaseId: answer.leaseId },
      Date.now(),
      null,
    );
    return true;
  }

  grant(pool: string, lease: Lease): GrantReply {
    this.#rpcGrants++;
    return this.#host.grant(pool, lease, Date.now());
  }

  takeSamples(): WorkloadSamples {
    const samples = {
      offerMs: this.#offerMs,
      releaseMs: this.#releaseMs,
      inlineGrants: this.#inlineGrants,
      rpcGrants: this.#rpcGrants,
      releasesInFlight: this.#releasesInFlight,
    };
    this.#offerMs = [];
    this.#releaseMs = [];
    this.#inlineGrants = 0;
    this.#rpcGrants = 0;
    return samples;
  }
}

/** The bench-only coordinator's binding (declared in coordinator.wrangler.toml, not in Sluice's Env). */
function echoCoordinators(env: Env): DurableObjectNamespace<EchoCoordinatorDO> {
  return (env as unknown as { ECHO: DurableObjectNamespace<EchoCoordinatorDO> }).ECHO;
}

/** The workload objects are this Worker's own class, bound as WORKLOAD so the coordinator's grant reaches them. */
function benchWorkloads(env: Env): DurableObjectNamespace<BenchWorkloadDO> {
  return env.WORKLOAD as unknown as DurableObjectNamespace<BenchWorkloadDO>;
}

async function run(env: Env, spec: RunSpec): Promise<RunResult> {
  const ns = benchWorkloads(env);
  const ids = Array.from({ length: spec.workloads }, (_, i) => `${spec.workloadPrefix}-w${i}`);
  const stubs = ids.map((id) => ns.get(ns.idFromName(id)));
  const cycleMs: number[] = [];
  let next = 0;
  let served = 0;
  let failed = 0;
  const start = performance.now();
  const stopAt = Date.now() + spec.maxSeconds * 1000;
  const client = async (): Promise<void> => {
    while (next < spec.requests && Date.now() < stopAt) {
      const i = next++;
      const w = i % spec.workloads;
      const stub = stubs[w];
      const workloadId = ids[w];
      if (stub === undefined || workloadId === undefined) throw new Error(`no workload ${w}`);
      // Criticality by workload, so the policy has real ordering work to do.
      const criticality = ((w % 5) + 1) as Criticality;
      const t0 = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ok = await Promise.race([
        stub.serve(workloadId, `${spec.requestPrefix}-${i}`, spec.pool, criticality).catch(() => false),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), spec.requestTimeoutSeconds * 1000);
        }),
      ]);
      if (timer !== undefined) clearTimeout(timer);
      cycleMs.push(performance.now() - t0);
      if (ok) served++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, client));
  const seconds = (performance.now() - start) / 1000;
  const samples = await Promise.all(stubs.map((s) => s.takeSamples()));
  // Releases are acknowledged after serve() returns; give the last ones a moment before counting leases.
  const countLeases = async (): Promise<number> =>
    spec.pool === ECHO_POOL ? 0 : (await coordinatorStub(env, spec.pool).stats()).leases;
  let leasesLeft = await countLeases();
  for (let i = 0; i < 50 && leasesLeft > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    leasesLeft = await countLeases();
  }
  return { served, failed, seconds, cycleMs, samples, leasesLeft };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/run' && request.method === 'POST') {
      return Response.json(await run(env, (await request.json()) as RunSpec));
    }
    return new Response('coordinator bench worker: POST /run\n');
  },
};
