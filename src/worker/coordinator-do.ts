// CoordinatorDO: one per backend pool, an adapter around the core CoordinatorHost. It owns storage (the
// known workloads and its incarnation counter; leases are in memory, see CoordinatorHost), the alarm, and
// the RPCs to workloads. Every decision (who gets a slot, stale replies, expiry, recovery) is the host's.

import { DurableObject } from 'cloudflare:workers';
import {
  backendHealthRecord,
  CoordinatorHost,
  DEFAULT_POOL,
  createPolicy,
  type BackendHealth,
  type BackendStatus,
  type CarriedRelease,
  type CoordinatorStats,
  type DeclaredLease,
  type HeadSeq,
  type HeadView,
  type Lease,
  type MetricsReport,
  type OfferReply,
  type PoolMetricsSnapshot,
  type ReleaseReply,
  type RenewReply,
  type WorkloadSignals,
} from '../core/index.ts';
import { loadConfig } from './config.ts';
import type { Env } from './env.ts';
import { probeHealth, readEngineMetrics } from './engine-metrics.ts';
import { poolOfCoordinator, workloadStub } from './stubs.ts';
import { logRecord } from './log.ts';
import { send } from './send.ts';

/** Leases as versions before in-memory leases wrote them: read once after the upgrade, then deleted. */
const LEASE_KEY = 'lease:';
const WORKLOAD_KEY = 'wl:';
const EPOCH_KEY = 'epoch';

export class CoordinatorDO extends DurableObject<Env> {
  readonly #host: CoordinatorHost;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.message);
    const { config } = loaded;
    const kv = ctx.storage.kv;
    // The object is named after its pool (stubs.ts); a pool no longer configured has no backends, so its
    // leases drain and nothing new is granted.
    const pool = poolOfCoordinator(ctx.id.name) ?? DEFAULT_POOL;
    const backendNamed = (name: string) => config.pools.pool(pool)?.backends.find((b) => b.name === name);
    // Each instance is a new incarnation: leases it grants carry it, so a workload can refuse the grants
    // of a predecessor that it has already told its successor about.
    const epoch = (kv.get<number>(EPOCH_KEY) ?? 0) + 1;
    kv.put(EPOCH_KEY, epoch);
    this.#host = new CoordinatorHost(
      {
        epoch,
        backends: config.pools.pool(pool)?.backends ?? [],
        policy: createPolicy(config.policy, config.policyParams),
        leaseTtlMs: config.leaseTtlMs,
        backendCooldown: config.backendCooldown,
        saturation: config.saturation,
        probing: true,
        metricsIntervalMs: config.metricsIntervalMs,
        newLeaseId: () => crypto.randomUUID(),
      },
      {
        grant: (lease) =>
          send(
            `grant to workload ${lease.workloadId}`,
            workloadStub(this.env, lease.workloadId).grant(pool, lease),
            (reply) => this.#host.onGrantReply(lease, reply, Date.now()),
            () => this.#host.onGrantFailed(lease, Date.now(), 'RPC failed'),
          ),
        askLeases: (workloadId, asking) =>
          send(
            `asking workload ${workloadId} for its leases`,
            workloadStub(this.env, workloadId).heldLeases(pool, asking),
            (leases) => this.#host.onLeasesHeld(workloadId, leases, Date.now()),
            () => this.#host.onAskFailed(workloadId, 'RPC failed'),
          ),
        addWorkload: (workloadId) => kv.put(WORKLOAD_KEY + workloadId, 1),
        deleteWorkload: (workloadId) => kv.delete(WORKLOAD_KEY + workloadId),
        setAlarm: (at) => send('setting the alarm', ctx.storage.setAlarm(at)),
        warn: (message) => console.warn(`[sluice] ${message}`),
        healthChanged: (change) => logRecord(config.logLevel, backendHealthRecord({ pool, ...change })),
        probe: (name) => {
          const backend = backendNamed(name);
          if (!backend) return;
          const sentAt = Date.now();
          send(
            `health probe of backend ${name}`,
            probeHealth(backend),
            (ok) => this.#host.onProbe(name, ok, sentAt, Date.now()),
            () => this.#host.onProbe(name, false, sentAt, Date.now()),
          );
        },
        scrape: (name) => {
          const backend = backendNamed(name);
          if (!backend) return;
          const startedAt = Date.now();
          // Not through send(): the host logs a failed scrape once, with its reason.
          readEngineMetrics(backend, config.metricsIntervalMs)
            .then(
              (load) => {
                if (load) this.#host.onScrape(name, load, startedAt, Date.now());
                else this.#host.onScrapeFailed(name, startedAt, 'no vLLM or SGLang load metrics in /metrics');
              },
              (err: unknown) =>
                this.#host.onScrapeFailed(name, startedAt, err instanceof Error ? err.message : String(err)),
            )
            .catch((err: unknown) =>
              console.error(`[sluice] handling metrics of ${name} failed: ${String(err)}`),
            );
        },
      },
    );
    const legacy = [...kv.list<Lease>({ prefix: LEASE_KEY })];
    for (const [key] of legacy) kv.delete(key);
    this.#host.restore(
      {
        leases: legacy.map(([, lease]) => lease),
        workloads: [...kv.list({ prefix: WORKLOAD_KEY })].map(([key]) => key.slice(WORKLOAD_KEY.length)),
      },
      Date.now(),
    );
  }

  offer(
    workloadId: string,
    head: HeadView | null,
    signals: WorkloadSignals,
    seq: HeadSeq,
    releases: readonly CarriedRelease[] = [],
    report?: MetricsReport,
  ): OfferReply {
    return this.#host.offer(workloadId, head, signals, seq, Date.now(), releases, report);
  }

  release(
    leaseId: string,
    health: BackendHealth | null,
    actualTokens?: number,
    report?: MetricsReport,
  ): ReleaseReply {
    return this.#host.release(leaseId, health, Date.now(), actualTokens, report);
  }

  renew(workloadId: string, leases: readonly DeclaredLease[], report?: MetricsReport): RenewReply {
    return this.#host.renew(workloadId, leases, Date.now(), report);
  }

  forget(workloadId: string, report?: MetricsReport): void {
    this.#host.forget(workloadId, report, Date.now());
  }

  /** One scrape's view of this pool (see core/metrics/pool-summary.ts): no call to any workload. */
  metricsSnapshot(topN: number, offset = 0): PoolMetricsSnapshot {
    return this.#host.metricsSnapshot(Date.now(), topN, offset);
  }

  listWorkloads(): string[] {
    return this.#host.listWorkloads();
  }

  backends(): BackendStatus[] {
    return this.#host.dispatcher.backends(Date.now());
  }

  scoresOf(workloadIds: readonly string[]): Array<number | null> {
    return this.#host.scoresOf(workloadIds, Date.now());
  }

  stats(): CoordinatorStats {
    return this.#host.stats(Date.now());
  }

  leases(): Lease[] {
    return this.#host.dispatcher.leases();
  }

  override alarm(): void {
    this.#host.alarm(Date.now());
  }
}
