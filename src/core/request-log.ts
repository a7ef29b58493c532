// Structured log records: one JSON line per finished request, per backend health change and per
// configuration error, shaped for Workers Logs / Logpush (flat fields, stable names). The shell only
// prints what these build; the level of each record is decided here.

import type { BackendState } from './backend-pool.ts';
import type { Ended, Outcome } from './outcome.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Successes are `info`, so the default (`warn`) keeps a busy router's log to what needs a look: at
 * Workers Logs' per-line pricing, a line per successful request is the operator's choice (LOG_LEVEL=info).
 */
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

const LEVEL_OF_OUTCOME: Record<Outcome, LogLevel> = {
  success: 'info',
  // The client's own doing.
  cancelled: 'info',
  rejected: 'warn',
  evicted: 'warn',
  upstream_error: 'error',
  lost: 'error',
};

export function shouldLog(level: LogLevel, threshold: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);
}

export interface RequestLogInput {
  readonly requestId: string;
  readonly workloadId: string;
  readonly criticality: number;
  readonly pool: string;
  /** The backend of the last attempt; null if it never got one. */
  readonly backend: string | null;
  readonly end: Ended;
  /** Time spent queued before the (last) grant; null if never granted. */
  readonly queueMs: number | null;
  /** From the (last) forward to the end; null if never forwarded. */
  readonly upstreamMs: number | null;
  readonly attempts: number;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
}

export interface RequestLogRecord extends Omit<RequestLogInput, 'end'> {
  readonly event: 'request';
  readonly level: LogLevel;
  readonly outcome: Outcome;
  readonly reason: Ended['reason'];
}

export function requestLogRecord(input: RequestLogInput): RequestLogRecord {
  const { end, ...rest } = input;
  return {
    event: 'request',
    level: LEVEL_OF_OUTCOME[end.outcome],
    ...rest,
    outcome: end.outcome,
    reason: end.reason,
  };
}

export interface BackendHealthRecord {
  readonly event: 'backend_health';
  readonly level: LogLevel;
  readonly pool: string;
  readonly backend: string;
  readonly from: BackendState;
  readonly to: BackendState;
  readonly consecutiveFailures: number;
}

/** Going out of service is a warning; coming back is news. */
export function backendHealthRecord(
  change: Omit<BackendHealthRecord, 'event' | 'level'>,
): BackendHealthRecord {
  const level: LogLevel = change.to === 'cooling' ? 'warn' : 'info';
  return { event: 'backend_health', level, ...change };
}
