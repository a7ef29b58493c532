// Errors in a request's own input, found by the core's parsers before anything is queued. They are not
// outcomes (the request never entered the registry); src/worker/http-error.ts maps them to HTTP 400.

export const INPUT_ERROR_CODES = ['invalid_request', 'invalid_workload_context'] as const;
export type InputErrorCode = (typeof INPUT_ERROR_CODES)[number];

export interface InputError {
  readonly code: InputErrorCode;
  readonly message: string;
}
