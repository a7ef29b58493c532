// Read-only admin API: workloads with their metrics and head score, and backends with their slots.

import type { Env } from '../env.ts';
import { errorResponse } from '../http-error.ts';
import type { BackendStatus, HeadView, WorkloadDescription, WorkloadMetrics } from '../../core/index.ts';
import { coordinatorStub, workloadStub } from '../stubs.ts';

/** Bounds the fan-out of one listing; larger deployments page with ?offset=. */
const MAX_WORKLOADS_PER_PAGE = 200;

/** One workload as GET /admin/workloads[/:id] shows it. */
export interface AdminWorkload extends WorkloadMetrics {
  readonly workloadId: string;
  readonly head: HeadView | null;
  /** The head's current policy score at the coordinator; null when it has no head there. */
  readonly headScore: number | null;
}

export interface AdminList<T> {
  readonly object: 'list';
  readonly data: readonly T[];
}

export interface AdminWorkloadList extends AdminList<AdminWorkload> {
  readonly total: number;
  readonly next_offset: number | null;
}

export type AdminBackendList = AdminList<BackendStatus>;

function present(description: WorkloadDescription, score: number | null): AdminWorkload {
  return {
    workloadId: description.workloadId,
    ...description.metrics,
    head: description.head,
    headScore: score,
  };
}

export async function handleListWorkloads(env: Env, offsetParam: string | undefined): Promise<Response> {
  const offset = Number(offsetParam ?? 0);
  if (!Number.isInteger(offset) || offset < 0) {
    return errorResponse({ code: 'invalid_request', message: 'offset must be a non-negative integer.' });
  }
  const coordinator = coordinatorStub(env);
  const ids = await coordinator.listWorkloads();
  const page = ids.slice(offset, offset + MAX_WORKLOADS_PER_PAGE);
  // One coordinator call for every score on the page, then one call per workload object.
  const [scores, descriptions] = await Promise.all([
    coordinator.scoresOf(page),
    Promise.all(page.map((id) => workloadStub(env, id).describe() as Promise<WorkloadDescription | null>)),
  ]);
  const workloads = descriptions.flatMap((d, i) => (d ? [present(d, scores[i] ?? null)] : []));
  const next = offset + page.length < ids.length ? offset + page.length : null;
  const list: AdminWorkloadList = { object: 'list', total: ids.length, next_offset: next, data: workloads };
  return Response.json(list);
}

export async function handleGetWorkload(env: Env, workloadId: string): Promise<Response> {
  const [description, [score]] = await Promise.all([
    workloadStub(env, workloadId).describe() as Promise<WorkloadDescription | null>,
    coordinatorStub(env).scoresOf([workloadId]),
  ]);
  const described = description ? present(description, score ?? null) : null;
  if (!described)
    return errorResponse({ code: 'not_found', message: `Workload '${workloadId}' is not known.` });
  return Response.json(described);
}

export async function handleBackends(env: Env): Promise<Response> {
  const list: AdminBackendList = { object: 'list', data: await coordinatorStub(env).backends() };
  return Response.json(list);
}
