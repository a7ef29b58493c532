// Read-only admin API: workloads with their metrics and head score, and backends with their slots.

import type { Env } from '../env.ts';
import { errorResponse } from '../http-error.ts';
import type { WorkloadDescription } from '../rpc-types.ts';
import { coordinatorStub, workloadStub } from '../stubs.ts';

/** Bounds the fan-out of one listing; larger deployments page with ?offset=. */
const MAX_WORKLOADS_PER_PAGE = 200;

function present(description: WorkloadDescription, score: number | null): Record<string, unknown> {
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
  return Response.json({ object: 'list', total: ids.length, next_offset: next, data: workloads });
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
  const backends = await coordinatorStub(env).backends();
  return Response.json({ object: 'list', data: backends });
}
