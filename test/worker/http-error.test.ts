// The outcome → HTTP mapping (src/worker/http-error.ts), as tables written out here rather than read back
// from the implementation: every (outcome, reason) pair of the taxonomy through endToHttp and endResponse,
// and every HTTP-only code through errorResponse. Pure, but it runs in the Workers runtime it serves.

import { describe, expect, it } from 'vitest';
import { ENDED, OUTCOMES, REASONS_BY_OUTCOME, ended, type Ended, type Reason } from '../../src/core/index.ts';
import {
  DEFAULT_QUEUE_RETRY_AFTER_SEC,
  HTTP_ONLY_ERRORS,
  QUEUE_LOST_RETRY_AFTER_SEC,
  UPSTREAM_RETRY_AFTER_SEC,
  endResponse,
  endToHttp,
  errorResponse,
  type HttpOnlyCode,
  type OpenAIErrorType,
} from '../../src/worker/http-error.ts';

/** Retry-After: none, a fixed constant, or the workload's own estimate (the default when it has none). */
type Retry =
  | { readonly kind: 'none' }
  | { readonly kind: 'fixed'; readonly sec: number }
  | { readonly kind: 'estimate' };

interface Expected {
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly code: string;
  readonly retry: Retry;
}

const NONE: Retry = { kind: 'none' };
const ESTIMATE: Retry = { kind: 'estimate' };
const fixed = (sec: number): Retry => ({ kind: 'fixed', sec });

/**
 * The contract, one row per reason. Retry-After is present exactly where retrying can help: a full or
 * slow queue (the workload's estimate), a restarting queue or a failing backend (a second). A closed
 * client has gone and will not read it. `completed` is a success: the backend's answer is sent, not ours.
 */
const EXPECTED: Record<Reason, Expected | null> = {
  completed: null,
  queue_full: { status: 429, type: 'rate_limit_error', code: 'queue_full', retry: ESTIMATE },
  rate_limited: { status: 429, type: 'rate_limit_error', code: 'rate_limited', retry: ESTIMATE },
  ttl_expired: { status: 503, type: 'overloaded_error', code: 'queue_timeout', retry: ESTIMATE },
  pool_down: { status: 503, type: 'overloaded_error', code: 'pool_unavailable', retry: ESTIMATE },
  client_closed: { status: 499, type: 'invalid_request_error', code: 'client_closed', retry: NONE },
  queue_lost: {
    status: 503,
    type: 'overloaded_error',
    code: 'unavailable',
    retry: fixed(QUEUE_LOST_RETRY_AFTER_SEC),
  },
  unreachable: {
    status: 502,
    type: 'upstream_error',
    code: 'upstream_unreachable',
    retry: fixed(UPSTREAM_RETRY_AFTER_SEC),
  },
  headers_timeout: {
    status: 504,
    type: 'upstream_error',
    code: 'upstream_timeout',
    retry: fixed(UPSTREAM_RETRY_AFTER_SEC),
  },
  upstream_5xx: {
    status: 502,
    type: 'upstream_error',
    code: 'upstream_error',
    retry: fixed(UPSTREAM_RETRY_AFTER_SEC),
  },
  stream_failed: {
    status: 502,
    type: 'upstream_error',
    code: 'upstream_error',
    retry: fixed(UPSTREAM_RETRY_AFTER_SEC),
  },
  idle_timeout: {
    status: 504,
    type: 'upstream_error',
    code: 'upstream_idle_timeout',
    retry: fixed(UPSTREAM_RETRY_AFTER_SEC),
  },
  backend_removed: {
    status: 503,
    type: 'overloaded_error',
    code: 'no_backend',
    retry: fixed(UPSTREAM_RETRY_AFTER_SEC),
  },
  lease_expired: {
    status: 504,
    type: 'upstream_error',
    code: 'lease_expired',
    retry: fixed(UPSTREAM_RETRY_AFTER_SEC),
  },
};

/** Every pair the taxonomy allows, built from REASONS_BY_OUTCOME itself so a new reason cannot be skipped. */
const PAIRS: Array<[string, Ended]> = OUTCOMES.flatMap((outcome) =>
  REASONS_BY_OUTCOME[outcome].map((reason): [string, Ended] => [`${outcome}/${reason}`, ended(reason)]),
);

/** An estimate unlike every constant, so a row that ignores it (or uses it wrongly) shows. */
const ESTIMATE_SEC = 7;

function retryAfterFor(retry: Retry, estimateSec: number | undefined): number | undefined {
  if (retry.kind === 'none') return undefined;
  if (retry.kind === 'fixed') return retry.sec;
  return estimateSec ?? DEFAULT_QUEUE_RETRY_AFTER_SEC;
}

describe('endToHttp', () => {
  it('has one expected row per reason, and each pair is the pairing outcome.ts declares', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(PAIRS.map(([, e]) => e.reason).sort());
    for (const [label, e] of PAIRS) expect(label).toBe(`${e.outcome}/${e.reason}`);
    expect(PAIRS.length).toBe(14);
  });

  it.each(PAIRS)('%s: status, type, code and Retry-After', (_label, end) => {
    const expected = EXPECTED[end.reason];
    if (expected === null) {
      expect(end.outcome).toBe('success');
      expect(endToHttp(end)).toBeNull();
      expect(endToHttp(end, ESTIMATE_SEC)).toBeNull();
      return;
    }
    for (const estimate of [undefined, ESTIMATE_SEC]) {
      const http = endToHttp(end, estimate);
      const retryAfterSec = retryAfterFor(expected.retry, estimate);
      expect(http).toEqual({
        status: expected.status,
        type: expected.type,
        code: expected.code,
        ...(retryAfterSec === undefined ? {} : { retryAfterSec }),
      });
      // Absent, not present-and-undefined: callers test `retryAfterSec !== undefined`.
      expect(http !== null && 'retryAfterSec' in http).toBe(retryAfterSec !== undefined);
    }
  });

  it('uses the estimate for queue ends only, and the named default when there is none', () => {
    expect(endToHttp(ENDED.queueFull, 12)?.retryAfterSec).toBe(12);
    expect(endToHttp(ENDED.ttlExpired, 12)?.retryAfterSec).toBe(12);
    expect(endToHttp(ENDED.queueFull)?.retryAfterSec).toBe(DEFAULT_QUEUE_RETRY_AFTER_SEC);
    expect(endToHttp(ended('unreachable'), 12)?.retryAfterSec).toBe(UPSTREAM_RETRY_AFTER_SEC);
    expect(endToHttp(ENDED.queueLost, 12)?.retryAfterSec).toBe(QUEUE_LOST_RETRY_AFTER_SEC);
    expect(endToHttp(ENDED.clientClosed, 12)?.retryAfterSec).toBeUndefined();
  });
});

describe('endResponse', () => {
  it.each(PAIRS.filter(([, e]) => e.outcome !== 'success'))(
    '%s: OpenAI error shape, status and Retry-After header',
    async (_label, end) => {
      const expected = EXPECTED[end.reason]!;
      const res = endResponse(end, 'why it ended', { 'x-request-id': 'r-1' }, ESTIMATE_SEC);
      expect(res.status).toBe(expected.status);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('x-request-id')).toBe('r-1');
      const retryAfterSec = retryAfterFor(expected.retry, ESTIMATE_SEC);
      expect(res.headers.get('retry-after')).toBe(
        retryAfterSec === undefined ? null : String(Math.ceil(retryAfterSec)),
      );
      expect(await res.json()).toEqual({
        error: { message: 'why it ended', type: expected.type, code: expected.code },
      });
    },
  );

  it('rounds a fractional estimate up to whole seconds, at least 1', () => {
    expect(endResponse(ENDED.queueFull, 'm', {}, 2.2).headers.get('retry-after')).toBe('3');
    expect(endResponse(ENDED.queueFull, 'm', {}, 0).headers.get('retry-after')).toBe('1');
  });

  it('refuses a success: it has no error response', () => {
    expect(() => endResponse(ENDED.completed, 'm')).toThrow(TypeError);
  });
});

/** Errors that exist only at the HTTP layer: written out, one row per code. */
const HTTP_ONLY_EXPECTED: Record<HttpOnlyCode, { status: number; type: OpenAIErrorType }> = {
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
};

describe('errorResponse (HTTP_ONLY_ERRORS)', () => {
  it('has exactly the expected codes', () => {
    expect(Object.keys(HTTP_ONLY_ERRORS).sort()).toEqual(Object.keys(HTTP_ONLY_EXPECTED).sort());
  });

  it.each(Object.entries(HTTP_ONLY_EXPECTED) as Array<[HttpOnlyCode, { status: number; type: string }]>)(
    '%s: status and OpenAI error shape',
    async (code, expected) => {
      const res = errorResponse({ code, message: `about ${code}` }, { 'x-request-id': 'r-2' });
      expect(res.status).toBe(expected.status);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('x-request-id')).toBe('r-2');
      expect(res.headers.get('retry-after')).toBeNull();
      // Exactly these keys: clients (the OpenAI SDK) parse this shape.
      expect(await res.json()).toEqual({ error: { message: `about ${code}`, type: expected.type, code } });
    },
  );

  it('sends Retry-After only when the caller gives one, in whole seconds', () => {
    const res = errorResponse({ code: 'no_backend', message: 'none', retryAfterSec: 30 });
    expect(res.headers.get('retry-after')).toBe('30');
    expect(
      errorResponse({ code: 'unavailable', message: 'x', retryAfterSec: 0.4 }).headers.get('retry-after'),
    ).toBe('1');
  });
});
