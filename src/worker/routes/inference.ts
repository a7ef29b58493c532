// POST /v1/chat/completions, /v1/completions, /v1/embeddings: parse the workload context, wait for a
// slot from the workload's Durable Object, forward, and record completion at the true end. Every end is
// an Ended value from where it was decided; it is recorded as it is and told to the client via endResponse.

import {
  admissionTerms,
  ENDED,
  ended,
  leaseRenewIntervalMs,
  parseWorkloadContext,
  resolvePrincipalContext,
  requestLogRecord,
  isBackendDownStatus,
  shouldFailover,
  type DispatchFailure,
  type AdmitReply,
  type AdmitRequest,
  type BackendHealth,
  type Ended,
  type HeldLease,
  type TokenUsage,
  type WorkloadContext,
} from '../../core/index.ts';
import type { SluiceConfig } from '../config.ts';
import { countAuthFailure } from '../auth-failures.ts';
import { authenticate } from '../authenticate.ts';
import type { Env } from '../env.ts';
import { endResponse, errorResponse, NO_BACKEND_RETRY_AFTER_SEC } from '../http-error.ts';
import { Heartbeat } from '../heartbeat.ts';
import { ServerTiming } from '../server-timing.ts';
import { logRecord } from '../log.ts';
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
  const timing = new ServerTiming(Date.now());
  const idHeaders = { 'x-request-id': requestId };

  // First of all: nothing is read, queued or counted for a request without a valid key.
  const auth = await authenticate(request, env, ctx, config, idHeaders);
  if (!auth.ok) return auth.response;
  const principal = auth.principal;
  const header = request.headers.get('x-workload-context');
  const keyed = principal ? resolvePrincipalContext(header, principal) : null;
  const parsed = keyed ?? parseWorkloadContext(header);
  if (!parsed.ok) {
    if (parsed.error.code === 'workload_not_allowed') countAuthFailure(env, ctx, 'workload_not_allowed');
    // With a key, even a refusal says which criticality the key allows (and what it capped).
    const refused = keyed && !keyed.ok ? criticalityHeaders(keyed.criticality, keyed.cappedFrom) : {};
    return errorResponse(parsed.error, { ...idHeaders, ...refused });
  }
  const workload: WorkloadContext = parsed.context;
  const cappedFrom = keyed?.ok ? keyed.cappedFrom : null;
  const contextHeaders: Record<string, string> = {
    ...idHeaders,
    'x-sluice-workload': workload.workloadId,
    ...criticalityHeaders(workload.criticality, cappedFrom),
  };
  if (parsed.defaulted.length > 0) contextHeaders['x-sluice-context-defaulted'] = parsed.defaulted.join(',');

  const body = await readInferenceBody(request, config.maxBodyBytes, call.path);
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
  timing.lap('parse', Date.now());
  // The body upload may already have been abandoned; an aborted signal never fires again.
  if (request.signal.aborted) {
    return endResponse(ENDED.clientClosed, 'Client disconnected.', contextHeaders);
  }

  const trackId = crypto.randomUUID();
  const stub = workloadStub(env, workload.workloadId);
  let lease: HeldLease | undefined = undefined; // set once granted; read by complete()
  // Completion is idempotent in the WorkloadDO, so one retry after a failed call is safe; the lease
  // travels with it so the slot is released even if the object lost track of the request (a restart).
  // What the request's log line reports (one line, at its first end; see core/request-log.ts).
  const trace = {
    backend: null as string | null,
    attempts: 0,
    queueMs: null as number | null,
    forwardedAt: 0,
  };
  let logged = false;
  const logEnd = (end: Ended, usage?: TokenUsage | null): void => {
    if (logged) return;
    logged = true;
    const record = requestLogRecord({
      requestId,
      workloadId: workload.workloadId,
      criticality: workload.criticality,
      pool: pool.name,
      backend: trace.backend,
      end,
      queueMs: trace.queueMs,
      upstreamMs: trace.forwardedAt > 0 ? Date.now() - trace.forwardedAt : null,
      attempts: trace.attempts,
      promptTokens: usage?.promptTokens ?? null,
      completionTokens: usage?.completionTokens ?? null,
    });
    logRecord(config.logLevel, record);
  };
  const complete = (end: Ended, health?: BackendHealth, usage?: TokenUsage | null): void => {
    logEnd(end, usage);
    const send = () => stub.complete(trackId, end, health, lease, usage);
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
  /**
   * Who the request is, as the workload sees it at admission and again at a failover. Its limits travel
   * with it (the workload enforces them), and so does its share weight (the key's, else configured).
   */
  const identity: AdmitRequest = {
    requestId: trackId,
    workloadId: workload.workloadId,
    pool: pool.name,
    criticality: workload.criticality,
    tokenEstimate: body.body.tokenEstimate,
    ...admissionTerms(config, workload.workloadId, principal),
  };
  request.signal.addEventListener('abort', onAbort);
  let admitted: AdmitReply;
  try {
    admitted = await stub.admit(identity);
  } catch (err) {
    // The workload's object failed or restarted under us (e.g. a deploy): retryable, not a server bug.
    console.error(`[sluice] admit for workload ${workload.workloadId} failed: ${String(err)}`);
    complete(ENDED.queueLost);
    return endResponse(ENDED.queueLost, 'The workload queue is restarting; retry shortly.', contextHeaders);
  } finally {
    request.signal.removeEventListener('abort', onAbort);
  }
  if (admitted.kind === 'ended') {
    logEnd(admitted.end);
    return endResponse(
      admitted.end,
      endMessage(admitted.end, workload, config),
      contextHeaders,
      admitted.retryAfterSec,
    );
  }
  timing.lap('admit', Date.now());
  let granted = admitted;
  const heartbeat = new Heartbeat(ctx, () => stub.renew(trackId), leaseRenewIntervalMs(config.leaseTtlMs));
  // A client that leaves before the backend's headers: once it is gone, workerd never resumes this
  // handler after `await forward(...)`, so the end is recorded from the abort event itself (completion is
  // idempotent, so the later call from the normal path, if any, changes nothing).
  const onGone = (): void => {
    heartbeat.stop();
    complete(ENDED.clientClosed);
  };
  request.signal.addEventListener('abort', onGone);
  try {
    for (let attempt = 1; ; attempt++) {
      lease = { pool: pool.name, leaseId: granted.leaseId };
      trace.attempts = attempt;
      trace.backend = granted.backend;
      trace.queueMs = Math.round(granted.waitMs);
      const backend = pool.backends.find((b) => b.name === granted.backend);
      if (!backend) {
        const end = ended('backend_removed');
        complete(end);
        return endResponse(end, `Backend '${granted.backend}' is no longer configured.`, contextHeaders);
      }
      if (request.signal.aborted) {
        complete(ENDED.clientClosed);
        return endResponse(ENDED.clientClosed, 'Client disconnected.', contextHeaders);
      }
      // Heartbeat from grant to the true end: long generations keep their slot, a crashed Worker does not.
      heartbeat.start();
      trace.forwardedAt = Date.now();
      let result: Awaited<ReturnType<typeof forward>>;
      try {
        result = await forward({
          backend,
          path: call.path,
          clientRequest: request,
          body: body.body.bytes,
          requestId,
          headersTimeoutMs: config.upstreamHeadersTimeoutMs,
          idleTimeoutMs: config.upstreamIdleTimeoutMs,
          dropUsageChunk: body.body.usageInjected,
        });
      } catch (err) {
        heartbeat.stop();
        throw err;
      }
      const headers = {
        ...contextHeaders,
        'x-sluice-backend': backend.name,
        'x-sluice-attempts': String(attempt),
      };
      const failure: DispatchFailure | null = !result.ok
        ? { kind: 'no_response', end: result.end }
        : result.response.status >= 500
          ? { kind: 'status', status: result.response.status }
          : null;
      if (failure && !request.signal.aborted && shouldFailover(failure, attempt, config.maxAttempts)) {
        // Nothing has reached the client: the request goes back to its queue, in its old place, for
        // another backend of the pool; this one cools down (its health goes with the lease).
        heartbeat.stop();
        if (result.ok) await result.response.body?.cancel().catch(() => undefined);
        let again: AdmitReply;
        try {
          again = await stub.retry({
            ...identity,
            enqueuedAt: granted.enqueuedAt,
            failedLeaseId: granted.leaseId,
            failedBackend: backend.name,
            health: { reachable: false, observedAt: Date.now() },
          });
        } catch (err) {
          console.error(`[sluice] failover for ${trackId} failed: ${String(err)}`);
          complete(ENDED.queueLost);
          return endResponse(ENDED.queueLost, 'The workload queue is restarting; retry shortly.', headers);
        }
        if (again.kind === 'granted') {
          timing.lap('failover', Date.now());
          granted = again;
          continue;
        }
        lease = undefined;
        logEnd(again.end);
        return endResponse(again.end, endMessage(again.end, workload, config), headers, again.retryAfterSec);
      }
      if (!result.ok) {
        heartbeat.stop();
        const unreachable = result.end.reason === 'unreachable';
        complete(result.end, unreachable ? { reachable: false, observedAt: Date.now() } : undefined);
        return endResponse(result.end, result.message, headers);
      }
      const answeredAt = Date.now();
      timing.lap('upstream', answeredAt);
      // A 502/503 passed through (attempts used up) says the server is not serving: it must not end a
      // cooldown that earlier failures started.
      const reachable = !isBackendDownStatus(result.response.status);
      const { done, usage } = result;
      ctx.waitUntil(
        done.then(async (end) => {
          heartbeat.stop();
          complete(end, { reachable, observedAt: answeredAt }, await usage);
        }),
      );
      const out = new Headers(result.response.headers);
      for (const [k, v] of Object.entries(headers)) out.set(k, v);
      out.set('x-sluice-queue-ms', String(Math.round(granted.waitMs)));
      out.set('server-timing', timing.header());
      return new Response(result.response.body, { status: result.response.status, headers: out });
    }
  } finally {
    request.signal.removeEventListener('abort', onGone);
  }
}

/** The criticality used, and the one asked for when an API key's cap lowered it. */
function criticalityHeaders(criticality: number, cappedFrom: number | null): Record<string, string> {
  const headers: Record<string, string> = { 'x-sluice-criticality': String(criticality) };
  if (cappedFrom !== null) headers['x-sluice-criticality-capped'] = String(cappedFrom);
  return headers;
}

function endMessage(end: Ended, workload: WorkloadContext, config: SluiceConfig): string {
  switch (end.reason) {
    case 'queue_full':
      return `Queue for workload '${workload.workloadId}' is full (${config.maxQueuePerWorkload} waiting).`;
    case 'rate_limited':
      return `Workload '${workload.workloadId}' is over its requests or tokens per minute; retry after the time in Retry-After.`;
    case 'ttl_expired':
      return `Request waited ${config.queueTtlMs} ms in the queue without a free backend slot.`;
    case 'pool_down':
      return `Every backend that serves this model is down; retry after the time in Retry-After.`;
    case 'client_closed':
      return 'Request was cancelled while queued.';
    default:
      return `Request ended while queued (${end.outcome}: ${end.reason}).`;
  }
}
