// Read-only admin API: workloads with their metrics and head score, and backends with their slots.

import type { Env } from '../env.ts';
import { errorResponse } from '../http-error.ts';
import type { WorkloadDescription } from '../rpc-types.ts';
import { coordinatorStub, workloadStub } from '../stubs.ts';

/** Bounds the fan-out of one listing; larger deployments page with ?offset=. */
const MAX_WORKLOADS_PER_PAGE = 200;

export async function describeWorkload(
  env: Env,
  workloadId: string,
): Promise<Record<string, unknown> | null> {
  const [description, score] = await Promise.all([
    workloadStub(env, workloadId).describe() as Promise<WorkloadDescription | null>,
    coordinatorStub(env).scoreOf(workloadId),
  ]);
  if (!description) return null;
  return { workloadId, ...description.metrics, head: description.head, headScore: score };
}

export async function handleListWorkloads(env: Env, offsetParam: string | undefined): Promise<Response> {
  const offset = Number(offsetParam ?? 0);
  if (!Number.isInteger(offset) || offset < 0) {
    return errorResponse({ code: 'invalid_request', message: 'offset must be a non-negative integer.' });
  }
  const ids = await coordinatorStub(env).listWorkloads();
  const page = ids.slice(offset, offset + MAX_WORKLOADS_PER_PAGE);
  const workloads = (await Promise.all(page.map((id) => describeWorkload(env, id)))).filter(
    (w) => w !== null,
  );
  const next = offset + page.length < ids.length ? offset + page.length : null;
  return Response.json({ object: 'list', total: ids.length, next_offset: next, data: workloads });
}

export async function handleGetWorkload(env: Env, workloadId: string): Promise<Response> {
  const described = await describeWorkload(env, workloadId);
  if (!described)
    return errorResponse({ code: 'not_found', message: `Workload '${workloadId}' is not known.` });
  return Response.json(described);
}

export async function handleBackends(env: Env): Promise<Response> {
  const backends = await coordinatorStub(env).backends();
  return Response.json({ object: 'list', data: backends });
}
