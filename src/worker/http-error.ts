// The one place HTTP statuses are chosen. A request's end (outcome + reason, from the core) maps to an
// HTTP status, OpenAI's error `type` and `code`, and Retry-After in one pure function, endToHttp; errors
// that exist only at the HTTP layer (no route, bad method, body too large, bad config) have their own table.

import type { Ended, InputErrorCode, Reason } from '../core/index.ts';

/** An unreachable or failing backend: the pool usually has another slot within a second. */
export const UPSTREAM_RETRY_AFTER_SEC = 1;
/** The workload's queue restarted (a deploy, an eviction): it is back at once. */
export const QUEUE_LOST_RETRY_AFTER_SEC = 1;
/** No backend configured: an operator has to act, so there is no point retrying soon. */
export const NO_BACKEND_RETRY_AFTER_SEC = 30;
/** Used when the workload has no estimate of its own yet. */
export const DEFAULT_QUEUE_RETRY_AFTER_SEC = 1;

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'overloaded_error'
  | 'upstream_error'
  | 'server_error';

export interface HttpError {
  readonly status: number;
  readonly type: OpenAIErrorType;
  /** Stable string clients can switch on (OpenAI's `error.code`). */
  readonly code: string;
  /** Seconds a client should wait before retrying, when retrying can help. */
  readonly retryAfterSec?: number;
}

/** Retry-After: a fixed number of seconds, or the workload's own estimate carried with the end. */
type RetryRule = number | 'estimate' | null;

const END_TO_HTTP: Record<Reason, Omit<HttpError, 'retryAfterSec'> & { readonly retry: RetryRule }> = {
  completed: { status: 200, type: 'server_error', code: 'completed', retry: null },
  queue_full: { status: 429, type: 'rate_limit_error', code: 'queue_full', retry: 'estimate' },
  // Retry-After: when the workload's token bucket has refilled enough (exact, from the limit).
  rate_limited: { status: 429, type: 'rate_limit_error', code: 'rate_limited', retry: 'estimate' },
  ttl_expired: { status: 503, type: 'overloaded_error', code: 'queue_timeout', retry: 'estimate' },
  // Retry-After: when the first backend may be back, which the coordinator knows.
  pool_down: { status: 503, type: 'overloaded_error', code: 'pool_unavailable', retry: 'estimate' },
  // nginx's convention for "client closed the request"; the client never sees it, logs do.
  client_closed: { status: 499, type: 'invalid_request_error', code: 'client_closed', retry: null },
  queue_lost: {
    status: 503,
    type: 'overloaded_error',
    code: 'unavailable',
    retry: QUEUE_LOST_RETRY_AFTER_SEC,
  },
  unreachable: {
    status: 502,
    type: 'upstream_error',
    code: 'upstream_unreachable',
    retry: UPSTREAM_RETRY_AFTER_SEC,
  },
  headers_timeout: {
    status: 504,
    type: 'upstream_error',
    code: 'upstream_timeout',
    retry: UPSTREAM_RETRY_AFTER_SEC,
  },
  upstream_5xx: {
    status: 502,
    type: 'upstream_error',
    code: 'upstream_error',
    retry: UPSTREAM_RETRY_AFTER_SEC,
  },
  stream_failed: {
    status: 502,
    type: 'upstream_error',
    code: 'upstream_error',
    retry: UPSTREAM_RETRY_AFTER_SEC,
  },
  idle_timeout: {
    status: 504,
    type: 'upstream_error',
    code: 'upstream_idle_timeout',
    retry: UPSTREAM_RETRY_AFTER_SEC,
  },
  backend_removed: {
    status: 503,
    type: 'overloaded_error',
    code: 'no_backend',
    retry: UPSTREAM_RETRY_AFTER_SEC,
  },
  lease_expired: {
    status: 504,
    type: 'upstream_error',
    code: 'lease_expired',
    retry: UPSTREAM_RETRY_AFTER_SEC,
  },
};

/**
 * How a request's end is told to its client: null for success (the backend's own answer is sent). The
 * status and code depend on the reason alone; Retry-After on the reason and, for queue ends, on the
 * workload's estimate.
 */
export function endToHttp(end: Ended, estimateSec?: number): HttpError | null {
  if (end.outcome === 'success') return null;
  const { retry, ...rest } = END_TO_HTTP[end.reason];
  const retryAfterSec =
    retry === 'estimate'
      ? (estimateSec ?? DEFAULT_QUEUE_RETRY_AFTER_SEC)
      : retry === null
        ? undefined
        : retry;
  return retryAfterSec === undefined ? rest : { ...rest, retryAfterSec };
}

/** Errors that exist only at the HTTP layer, plus the core's input errors. */
export const HTTP_ONLY_ERRORS = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_workload_context: { status: 400, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  workload_not_allowed: { status: 403, type: 'permission_error' },
  admin_disabled: { status: 403, type: 'permission_error' },
  keys_not_configured: { status: 500, type: 'server_error' },
  no_backend: { status: 503, type: 'overloaded_error' },
  upstream_unreachable: { status: 502, type: 'upstream_error' },
  unavailable: { status: 503, type: 'overloaded_error' },
  config_invalid: { status: 500, type: 'server_error' },
  internal_error: { status: 500, type: 'server_error' },
} as const satisfies Record<InputErrorCode | string, { status: number; type: OpenAIErrorType }>;

export type HttpOnlyCode = keyof typeof HTTP_ONLY_ERRORS;

export interface HttpOnlyError {
  readonly code: HttpOnlyCode;
  readonly message: string;
  readonly retryAfterSec?: number;
}

export function httpOnly(err: HttpOnlyError): HttpError {
  const { status, type } = HTTP_ONLY_ERRORS[err.code];
  return err.retryAfterSec === undefined
    ? { status, type, code: err.code }
    : { status, type, code: err.code, retryAfterSec: err.retryAfterSec };
}

/** An OpenAI-shaped error response for an HTTP-only error. */
export function errorResponse(err: HttpOnlyError, extraHeaders: Record<string, string> = {}): Response {
  return httpErrorResponse(httpOnly(err), err.message, extraHeaders);
}

/** An OpenAI-shaped error response for a request's end (which must not be a success). */
export function endResponse(
  end: Ended,
  message: string,
  extraHeaders: Record<string, string> = {},
  estimateSec?: number,
): Response {
  const http = endToHttp(end, estimateSec);
  if (http === null) throw new TypeError('endResponse: a success has no error response');
  return httpErrorResponse(http, message, extraHeaders);
}

export function httpErrorResponse(
  http: HttpError,
  message: string,
  extraHeaders: Record<string, string> = {},
): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extraHeaders };
  if (http.retryAfterSec !== undefined)
    headers['retry-after'] = String(Math.max(1, Math.ceil(http.retryAfterSec)));
  const body = { error: { message, type: http.type, code: http.code } };
  return new Response(JSON.stringify(body), { status: http.status, headers });
}
