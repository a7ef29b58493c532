// POST /v1/chat/completions, /v1/completions, /v1/embeddings: parse the workload context, wait for a
// slot from the workload's Durable Object, forward, and record completion at the true end.

import {
  leaseRenewIntervalMs,
  parseWorkloadContext,
  type Outcome,
  type WorkloadContext,
} from '../../core/index.ts';
import type { SluiceConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { errorResponse } from '../http-error.ts';
import { forward } from '../proxy.ts';
import { readInferenceBody } from '../request-body.ts';
import type { AdmitReply, BackendHealth } from '../rpc-types.ts';
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
  const contextHeaders: Record<string, string> = { ...idHeaders, 'x-sluice-workload': workload.workloadId };
  if (parsed.defaulted.length > 0) contextHeaders['x-sluice-context-defaulted'] = parsed.defaulted.join(',');

  const body = await readInferenceBody(request, config.maxBodyBytes);
  if (!body.ok) return errorResponse(body.error, contextHeaders);
  if (config.backends.length === 0) {
    return errorResponse(
      { code: 'no_backend', message: 'No backend is configured (set BACKENDS).', retryAfterSec: 30 },
      contextHeaders,
    );
  }

  // The body upload may already have been abandoned; an aborted signal never fires again.
  if (request.signal.aborted) {
    return errorResponse({ code: 'client_closed', message: 'Client disconnected.' }, contextHeaders);
  }

  const trackId = crypto.randomUUID();
  const stub = workloadStub(env, workload.workloadId);
  let leaseId: string | undefined;
  // Completion is idempotent in the WorkloadDO, so one retry after a failed call is safe; the lease ID
  // travels with it so the slot is released even if the object lost track of the request (a restart).
  const complete = (outcome: Outcome, health?: BackendHealth): Promise<void> => {
    const send = () => stub.complete(trackId, outcome, health, leaseId);
    const done = send()
      .catch(() => send())
      .then(
        () => undefined,
        (err: unknown) => console.error(`[sluice] completion of ${trackId} failed twice: ${String(err)}`),
      );
    ctx.waitUntil(done);
    return done;
  };

  // A client that disconnects while queued is taken out of the queue at once.
  const onAbort = (): void => void complete('cancelled');
  request.signal.addEventListener('abort', onAbort);
  let admitted: AdmitReply;
  try {
    admitted = await stub.admit({
      requestId: trackId,
      workloadId: workload.workloadId,
      criticality: workload.criticality,
      tokenEstimate: body.body.tokenEstimate,
    });
  } catch (err) {
    // The workload's object failed or restarted under us (e.g. a deploy): retryable, not a server bug.
    console.error(`[sluice] admit for workload ${workload.workloadId} failed: ${String(err)}`);
    void complete('cancelled');
    return errorResponse(
      { code: 'unavailable', message: 'The workload queue is restarting; retry shortly.', retryAfterSec: 1 },
      contextHeaders,
    );
  } finally {
    request.signal.removeEventListener('abort', onAbort);
  }
  if (admitted.kind === 'granted') leaseId = admitted.leaseId;

  switch (admitted.kind) {
    case 'rejected':
      return errorResponse(
        {
          code: 'queue_full',
          message: `Queue for workload '${workload.workloadId}' is full (${config.maxQueuePerWorkload} waiting).`,
          retryAfterSec: admitted.retryAfterSec,
        },
        contextHeaders,
      );
    case 'evicted':
      return errorResponse(
        {
          code: 'queue_timeout',
          message: `Request waited ${config.queueTtlMs} ms in the queue without a free backend slot.`,
          retryAfterSec: admitted.retryAfterSec,
        },
        contextHeaders,
      );
    case 'cancelled':
      return errorResponse(
        { code: 'client_closed', message: 'Request was cancelled while queued.' },
        contextHeaders,
      );
    case 'granted':
      break;
  }

  const backend = config.backends.find((b) => b.name === admitted.backend);
  if (!backend) {
    void complete('upstream_error');
    return errorResponse(
      {
        code: 'no_backend',
        message: `Backend '${admitted.backend}' is no longer configured.`,
        retryAfterSec: 1,
      },
      contextHeaders,
    );
  }
  if (request.signal.aborted) {
    void complete('cancelled');
    return errorResponse({ code: 'client_closed', message: 'Client disconnected.' }, contextHeaders);
  }

  // Heartbeat from grant to the true end: long generations keep their slot, a crashed Worker does not.
  const heartbeat = setInterval(() => {
    ctx.waitUntil(
      stub.renew(trackId, admitted.leaseId).then(
        () => undefined,
        (err: unknown) => console.error(`[sluice] lease renewal for ${trackId} failed: ${String(err)}`),
      ),
    );
  }, leaseRenewIntervalMs(config.leaseTtlMs));
  const stopHeartbeat = (): void => clearInterval(heartbeat);

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
    stopHeartbeat();
    throw err;
  }
  if (!result.ok) {
    stopHeartbeat();
    void complete(
      result.outcome,
      result.unreachable ? { reachable: false, observedAt: Date.now() } : undefined,
    );
    return errorResponse(
      {
        code: result.timedOut ? 'upstream_timeout' : 'upstream_unreachable',
        message: result.message,
        retryAfterSec: 1,
      },
      { ...contextHeaders, 'x-sluice-backend': backend.name },
    );
  }
  const answeredAt = Date.now();
  ctx.waitUntil(
    result.done.then((outcome) => complete(outcome, { reachable: true, observedAt: answeredAt })),
  );
  const headers = new Headers(result.response.headers);
  for (const [k, v] of Object.entries(contextHeaders)) headers.set(k, v);
  headers.set('x-sluice-queue-ms', String(Math.round(admitted.waitMs)));
  headers.set('x-sluice-backend', backend.name);
  return new Response(result.response.body, { status: result.response.status, headers });
}
