// The one error taxonomy, from core to HTTP. Core names the error; src/worker/http-error.ts maps a code to
// a status. Codes are stable strings clients can switch on (OpenAI's `error.code`).

export const ERROR_TYPES = {
  invalid_request: 'invalid_request_error',
  invalid_workload_context: 'invalid_request_error',
  body_too_large: 'invalid_request_error',
  not_found: 'invalid_request_error',
  method_not_allowed: 'invalid_request_error',
  queue_full: 'rate_limit_error',
  queue_timeout: 'overloaded_error',
  no_backend: 'overloaded_error',
  upstream_unreachable: 'upstream_error',
  upstream_timeout: 'upstream_error',
  unavailable: 'overloaded_error',
  unauthorized: 'authentication_error',
  client_closed: 'invalid_request_error',
  config_invalid: 'server_error',
  internal_error: 'server_error',
} as const;

export type ErrorCode = keyof typeof ERROR_TYPES;

export interface SluiceErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  /** Seconds a client should wait before retrying, when retrying can help. */
  readonly retryAfterSec?: number;
}
