// Error code (core taxonomy) → HTTP status and OpenAI's error shape. The only place statuses are chosen.

import { ERROR_TYPES, type ErrorCode, type SluiceErrorBody } from '../core/index.ts';

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_workload_context: 400,
  body_too_large: 413,
  not_found: 404,
  method_not_allowed: 405,
  queue_full: 429,
  queue_timeout: 503,
  no_backend: 503,
  upstream_unreachable: 502,
  upstream_timeout: 504,
  unavailable: 503,
  unauthorized: 401,
  // nginx's convention for "client closed the request"; the client never sees it, logs do.
  client_closed: 499,
  config_invalid: 500,
  internal_error: 500,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

export function errorResponse(err: SluiceErrorBody, extraHeaders: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extraHeaders };
  if (err.retryAfterSec !== undefined)
    headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterSec)));
  const body = { error: { message: err.message, type: ERROR_TYPES[err.code], code: err.code } };
  return new Response(JSON.stringify(body), { status: statusOf(err.code), headers });
}
