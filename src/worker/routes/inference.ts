// POST /v1/chat/completions, /v1/completions, /v1/embeddings: parse the workload context, wait for a
// slot from the workload's Durable Object, forward, and record completion at the true end. Every end is
// an Ended value from where it was decided; it is recorded as it is and told to the client via endResponse.

import {
  ENDED,
  ended,
  leaseRenewIntervalMs,
  parseWorkloadContext,
  type AdmitReply,
  type BackendHealth,
  type Ended,
  type HeldLease,
  type WorkloadContext,
} from '../../core/index.ts';
import type { SluiceConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { endResponse, errorResponse, NO_BACKEND_RETRY_AFTER_SEC } from '../http-error.ts';
import { forward } from '../proxy.ts';
import { readInferenceBody } from '../request-body.ts';
import { workloadStub } from '../stubs.ts';

export interface InferenceCall {
  readonly request: Request;
  readonly env: Env;
  readonly ctx: { waitUntil(promise: Promise<unknown>): void };
  readonly config: SluiceConfig;
  readonly requestId: string;
  readonly path: string;
}

export async function handleInference(call: InferenceCall): Promise<Response> {
  const { request, env, ctx, config, requestId } = call;
  const idHeaders = { 'x-request-id': requestId };

  const parsed = parseWorkloadContext(request.headers.get('x-workload-context'));
  if (!parsed.ok) return errorResponse(parsed.error, idHeaders);
  const workload: WorkloadContext = parsed.context;
  const contextHeaders: Record<string, string> = {
    ...idHeaders,
    'x-sluice-workload': workload.workloadId,
    'x-sluice-criticality': String(workload.criticality),
  };
  if (parsed.defaulted.length > 0) contextHeaders['x-sluice-context-defaulted'] = parsed.defaulted.join(',');

  const body = await readInferenceBody(request, config.maxBodyBytes);
  if (!body.ok) {
    // Not admitted, so nothing to record: the request never reached a workload's counters.
    if ('incomplete' in body) return endResponse(ENDED.clientClosed, body.message, contextHeaders);
    return errorResponse(body.error, contextHeaders);
  }
  if (config.backends.length === 0) {
    return errorResponse(
      {
        code: 'no_backend',
        message: 'No backend is configured (set BACKENDS).',
        retryAfterSec: NO_BACKEND_RETRY_AFTER_SEC,
      },
      contextHeaders,
    );
  }
  // Routed before anything is queued or counted: a model nobody serves is the client's error.
  const pool = config.pools.poolFor(body.body.model);
  if (!pool) {
    return errorResponse(
      {
        code: 'model_not_found',
        message: `The model '${body.body.model}' does not exist or is not served here (GET /v1/models lists the models).`,
      },
      contextHeaders,
    );
  }
  contextHeaders['x-sluice-pool'] = pool.name;
  // The body upload may already have been abandoned; an aborted signal never fires again.
  if (request.signal.aborted) {
    return endResponse(ENDED.clientClosed, 'Client disconnected.', contextHeaders);
  }

  const trackId = crypto.randomUUID();
  const stub = workloadStub(env, workload.workloadId);
  let lease: HeldLease | undefined = undefined; // set once granted; read by complete()
  // Completion is idempotent in the WorkloadDO, so one retry after a failed call is safe; the lease
  // travels with it so the slot is released even if the object lost track of the request (a restart).
  const complete = (end: Ended, health?: BackendHealth): void => {
    const send = () => stub.complete(trackId, end, health, lease);
    ctx.waitUntil(
      send()
        .catch(() => send())
        .then(
          () => undefined,
          (err: unknown) => console.error(`[sluice] completion of ${trackId} failed twice: ${String(err)}`),
        ),
    );
  };

  // Where the runtime reports it (in production; not under workerd locally, see README), a client that
  // disconnects while queued is taken out of the queue at once.
  const onAbort = (): void => complete(ENDED.clientClosed);
  request.signal.addEventListener('abort', onAbort);
  let admitted: AdmitReply;
  try {
    admitted = await stub.admit({
      requestId: trackId,
      workloadId: workload.workloadId,
      pool: pool.name,
      criticality: workload.criticality,
      tokenEstimate: body.body.tokenEstimate,
    });
  } catch (err) {
    // The workload's object failed or restarted under us (e.g. a deploy): retryable, not a server bug.
    console.error(`[sluice] admit for workload ${workload.workloadId} failed: ${String(err)}`);
    complete(ENDED.queueLost);
    return endResponse(ENDED.queueLost, 'The workload queue is restarting; retry shortly.', contextHeaders);
  } finally {
    request.signal.removeEventListener('abort', onAbort);
  }
  if (admitted.kind === 'ended') {
    return endResponse(
      admitted.end,
      endMessage(admitted.end, workload, config),
      contextHeaders,
      admitted.retryAfterSec,
    );
  }
  lease = { pool: pool.name, leaseId: admitted.leaseId };

  const backend = pool.backends.find((b) => b.name === admitted.backend);
  if (!backend) {
    const end = ended('backend_removed');
    complete(end);
    return endResponse(end, `Backend '${admitted.backend}' is no longer configured.`, contextHeaders);
  }
  if (request.signal.aborted) {
    complete(ENDED.clientClosed);
    return endResponse(ENDED.clientClosed, 'Client disconnected.', contextHeaders);
  }

  // Heartbeat from grant to the true end: long generations keep their slot, a crashed Worker does not.
  const heartbeat = setInterval(() => {
    ctx.waitUntil(
      stub.renew(trackId).then(
        () => undefined,
        (err: unknown) => console.error(`[sluice] heartbeat for ${trackId} failed: ${String(err)}`),
      ),
    );
  }, leaseRenewIntervalMs(config.leaseTtlMs));

  // A client that leaves before the backend's headers: once it is gone, workerd never resumes this
  // handler after `await forward(...)`, so the end is recorded from the abort event itself (completion is
  // idempotent, so the later call from the normal path, if any, changes nothing).
  const onGone = (): void => {
    clearInterval(heartbeat);
    complete(ENDED.clientClosed);
  };
  request.signal.addEventListener('abort', onGone);
  let result: Awaited<ReturnType<typeof forward>>;
  try {
    result = await forward({
      backend,
      path: call.path,
      clientRequest: request,
      body: body.body.bytes,
      requestId,
      headersTimeoutMs: config.upstreamHeadersTimeoutMs,
    });
  } catch (err) {
    clearInterval(heartbeat);
    throw err;
  } finally {
    request.signal.removeEventListener('abort', onGone);
  }
  const backendHeaders = { ...contextHeaders, 'x-sluice-backend': backend.name };
  if (!result.ok) {
    clearInterval(heartbeat);
    const unreachable = result.end.reason === 'unreachable';
    complete(result.end, unreachable ? { reachable: false, observedAt: Date.now() } : undefined);
    return endResponse(result.end, result.message, backendHeaders);
  }
  const answeredAt = Date.now();
  ctx.waitUntil(
    result.done.then((end) => {
      clearInterval(heartbeat);
      complete(end, { reachable: true, observedAt: answeredAt });
    }),
  );
  const headers = new Headers(result.response.headers);
  for (const [k, v] of Object.entries(backendHeaders)) headers.set(k, v);
  headers.set('x-sluice-queue-ms', String(Math.round(admitted.waitMs)));
  return new Response(result.response.body, { status: result.response.status, headers });
}

function endMessage(end: Ended, workload: WorkloadContext, config: SluiceConfig): string {
  switch (end.reason) {
    case 'queue_full':
      return `Queue for workload '${workload.workloadId}' is full (${config.maxQueuePerWorkload} waiting).`;
    case 'ttl_expired':
      return `Request waited ${config.queueTtlMs} ms in the queue without a free backend slot.`;
    case 'client_closed':
      return 'Request was cancelled while queued.';
    default:
      return `Request ended while queued (${end.outcome}: ${end.reason}).`;
  }
}
