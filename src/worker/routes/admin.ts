// Read-only admin API: workloads with their metrics and each pool queue's head and score, and every
// pool's backends with their slots. One call per pool coordinator plus one per workload on the page.

import type {
  BackendStatus,
  HeadView,
  LimitsView,
  WorkloadDescription,
  WorkloadMetrics,
} from '../../core/index.ts';
import type { SluiceConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { errorResponse } from '../http-error.ts';
import { coordinatorStub, workloadStub } from '../stubs.ts';

/** Bounds the fan-out of one listing; larger deployments page with ?offset=. */
const MAX_WORKLOADS_PER_PAGE = 200;

export interface AdminQueue {
  readonly pool: string;
  readonly queued: number;
  readonly head: HeadView | null;
  /** The head's current policy score at that pool's coordinator; null when it has no head there. */
  readonly headScore: number | null;
}

/** One workload as GET /admin/workloads[/:id] shows it. */
export interface AdminWorkload extends WorkloadMetrics {
  readonly workloadId: string;
  /** One queue per pool the workload has used (one tenant, one registry entry, several queues). */
  readonly queues: readonly AdminQueue[];
  /** The first queue with a head (by pool name), for a quick look; see `queues` for all. */
  readonly head: HeadView | null;
  readonly headScore: number | null;
  /** Its limits (set by the API key of its latest request) and what is left of its per-minute buckets. */
  readonly limits?: LimitsView;
}

export interface AdminList<T> {
  readonly object: 'list';
  readonly data: readonly T[];
}

export interface AdminWorkloadList extends AdminList<AdminWorkload> {
  readonly total: number;
  readonly next_offset: number | null;
}

export type AdminBackend = BackendStatus & { readonly pool: string };
export type AdminBackendList = AdminList<AdminBackend>;

type Scores = ReadonlyMap<string, ReadonlyMap<string, number | null>>;

function present(d: WorkloadDescription, scores: Scores): AdminWorkload {
  const queues = d.queues.map((q) => ({
    ...q,
    headScore: scores.get(q.pool)?.get(d.workloadId) ?? null,
  }));
  const first = queues.find((q) => q.head !== null);
  return {
    workloadId: d.workloadId,
    ...d.metrics,
    queues,
    head: first?.head ?? null,
    headScore: first?.headScore ?? null,
    ...(d.limits ? { limits: d.limits } : {}),
  };
}

/** Every pool's score for each of these workloads: one coordinator call per pool. */
async function scoresOf(env: Env, config: SluiceConfig, ids: readonly string[]): Promise<Scores> {
  const entries = await Promise.all(
    config.pools.pools.map(async (pool) => {
      const scores = await coordinatorStub(env, pool.name, config).scoresOf(ids);
      return [pool.name, new Map(ids.map((id, i) => [id, scores[i] ?? null]))] as const;
    }),
  );
  return new Map(entries);
}

export async function handleListWorkloads(
  env: Env,
  config: SluiceConfig,
  offsetParam: string | undefined,
): Promise<Response> {
  const offset = Number(offsetParam ?? 0);
  if (!Number.isInteger(offset) || offset < 0) {
    return errorResponse({ code: 'invalid_request', message: 'offset must be a non-negative integer.' });
  }
  const lists = await Promise.all(
    config.pools.pools.map((pool) => coordinatorStub(env, pool.name, config).listWorkloads()),
  );
  const ids = [...new Set(lists.flat())].sort();
  const page = ids.slice(offset, offset + MAX_WORKLOADS_PER_PAGE);
  const [scores, descriptions] = await Promise.all([
    scoresOf(env, config, page),
    Promise.all(page.map((id) => workloadStub(env, id).describe() as Promise<WorkloadDescription | null>)),
  ]);
  const workloads = descriptions.flatMap((d) => (d ? [present(d, scores)] : []));
  const next = offset + page.length < ids.length ? offset + page.length : null;
  const list: AdminWorkloadList = { object: 'list', total: ids.length, next_offset: next, data: workloads };
  return Response.json(list);
}

export async function handleGetWorkload(
  env: Env,
  config: SluiceConfig,
  workloadId: string,
): Promise<Response> {
  const [description, scores] = await Promise.all([
    workloadStub(env, workloadId).describe() as Promise<WorkloadDescription | null>,
    scoresOf(env, config, [workloadId]),
  ]);
  if (!description) {
    return errorResponse({ code: 'not_found', message: `Workload '${workloadId}' is not known.` });
  }
  return Response.json(present(description, scores));
}

export async function handleBackends(env: Env, config: SluiceConfig): Promise<Response> {
  const perPool = await Promise.all(
    config.pools.pools.map(async (pool) =>
      (await coordinatorStub(env, pool.name, config).backends()).map((b) => ({ ...b, pool: pool.name })),
    ),
  );
  const list: AdminBackendList = { object: 'list', data: perPool.flat() };
  return Response.json(list);
}
