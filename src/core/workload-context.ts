// Parses the X-Workload-Context header into a usable context. Lenient where a fallback is safe
// (missing or malformed header → `default`/3, with the reason recorded so fallbacks can be counted);
// strict (an error value, HTTP 400) for an ID that is present but unusable, because silently
// re-labelling a tenant's traffic as `default` would hide a client bug and mix its accounting.

import {
  DEFAULT_CRITICALITY,
  DEFAULT_WORKLOAD_ID,
  MAX_CRITICALITY,
  MAX_WORKLOAD_HEADER_BYTES,
  MAX_WORKLOAD_ID_CHARS,
  MIN_CRITICALITY,
} from './defaults.ts';
import type { InputError } from './errors.ts';

export type Criticality = 1 | 2 | 3 | 4 | 5;

export interface WorkloadContext {
  readonly workloadId: string;
  readonly criticality: Criticality;
}

export type DefaultReason =
  | 'header_missing'
  | 'header_too_large'
  | 'header_not_json'
  | 'header_not_object'
  | 'workload_id_missing'
  | 'criticality_missing'
  | 'criticality_not_integer'
  | 'criticality_clamped'
  | 'criticality_capped';

export type ContextResult =
  | { readonly ok: true; readonly context: WorkloadContext; readonly defaulted: readonly DefaultReason[] }
  | { readonly ok: false; readonly error: InputError };

/**
 * Who an API key acts as (see key-record.ts): the workloads it may use (the first is its default) and
 * the criticality it may claim. In authenticated mode the header chooses within these bounds only.
 */
export interface WorkloadPrincipal {
  readonly workloads: readonly string[];
  readonly maxCriticality: Criticality;
  readonly defaultCriticality: Criticality;
}

/** Why a principal's request cannot proceed: it named a workload its key may not act as (HTTP 403). */
export interface PrincipalError {
  readonly code: 'workload_not_allowed';
  readonly message: string;
}

export type PrincipalContextResult =
  | {
      readonly ok: true;
      readonly context: WorkloadContext;
      readonly defaulted: readonly DefaultReason[];
      /** The criticality the client asked for, when the key's cap lowered it; null otherwise. */
      readonly cappedFrom: number | null;
    }
  | {
      readonly ok: false;
      readonly error: InputError | PrincipalError;
      /** What the request would have run at: refused responses still carry x-sluice-criticality. */
      readonly criticality: Criticality;
      readonly cappedFrom: number | null;
    };

// C0, DEL and C1 control characters: they break logs and metric labels.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * What is wrong with a workload ID, wherever one comes from (the header, an API key's grant), or null.
 * Control characters are refused (they would reach logs and metric labels); so is an ID longer than
 * MAX_WORKLOAD_ID_CHARS characters (code points, not UTF-16 units).
 */
export function workloadIdProblem(id: string): 'control_chars' | 'too_long' | null {
  if (CONTROL_CHARS.test(id)) return 'control_chars';
  if ([...id].length > MAX_WORKLOAD_ID_CHARS) return 'too_long';
  return null;
}

/** Header mode: no key, so the header is trusted for the workload and the criticality. */
export function parseWorkloadContext(header: string | null | undefined): ContextResult {
  const defaulted: DefaultReason[] = [];
  const raw = readHeaderObject(header, defaulted);
  const idResult = readWorkloadId(raw);
  if (idResult !== null && typeof idResult === 'object') return { ok: false, error: idResult };
  let workloadId: string;
  if (idResult === null) {
    if (raw !== null) defaulted.push('workload_id_missing');
    workloadId = DEFAULT_WORKLOAD_ID;
  } else {
    workloadId = idResult;
  }
  const criticality = readCriticality(raw, defaulted) ?? DEFAULT_CRITICALITY;
  return { ok: true, context: { workloadId, criticality }, defaulted };
}

/**
 * Authenticated mode: the header may pick one of the key's workloads (absent: the first) and lower the
 * criticality; it can never name another workload (an error) nor raise the criticality above the cap
 * (clamped, reported as `cappedFrom`). A criticality the header does not give usably is the key's default.
 */
export function resolvePrincipalContext(
  header: string | null | undefined,
  principal: WorkloadPrincipal,
): PrincipalContextResult {
  const defaulted: DefaultReason[] = [];
  const raw = readHeaderObject(header, defaulted);
  const first = principal.workloads[0];
  if (first === undefined) throw new TypeError('resolvePrincipalContext: a principal has ≥ 1 workload');
  // Resolved before the workload, so a refused request is told the criticality its key allows too.
  const asked = readCriticality(raw, defaulted);
  let criticality = asked ?? principal.defaultCriticality;
  let cappedFrom: number | null = null;
  if (criticality > principal.maxCriticality) {
    cappedFrom = criticality;
    criticality = principal.maxCriticality;
    defaulted.push('criticality_capped');
  }
  const idResult = readWorkloadId(raw);
  if (idResult !== null && typeof idResult === 'object') {
    return { ok: false, error: idResult, criticality, cappedFrom };
  }
  const workloadId = idResult ?? first;
  if (!principal.workloads.includes(workloadId)) {
    return {
      ok: false,
      error: {
        code: 'workload_not_allowed',
        message: `This API key may not act as workload '${workloadId}' (it may use: ${principal.workloads.join(', ')}).`,
      },
      criticality,
      cappedFrom,
    };
  }
  return { ok: true, context: { workloadId, criticality }, defaulted, cappedFrom };
}

function readHeaderObject(
  header: string | null | undefined,
  defaulted: DefaultReason[],
): Record<string, unknown> | null {
  if (header === null || header === undefined || header.trim() === '') {
    defaulted.push('header_missing');
    return null;
  }
  if (utf8Length(header) > MAX_WORKLOAD_HEADER_BYTES) {
    defaulted.push('header_too_large');
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    defaulted.push('header_not_json');
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    defaulted.push('header_not_object');
    return null;
  }
  return parsed as Record<string, unknown>;
}

/** The ID without surrounding spaces, null when absent or blank, or an error body when unusable. */
function readWorkloadId(raw: Record<string, unknown> | null): string | null | InputError {
  const value = raw?.['workload_id'];
  if (typeof value !== 'string' || value.trim() === '') return null;
  // Control characters are rejected before trimming, so "abc\t" is an error, not a silent "abc".
  if (CONTROL_CHARS.test(value)) {
    return {
      code: 'invalid_workload_context',
      message: 'X-Workload-Context: workload_id contains control characters',
    };
  }
  const id = value.trim();
  if (workloadIdProblem(id) === 'too_long') {
    return {
      code: 'invalid_workload_context',
      message: `X-Workload-Context: workload_id is longer than ${MAX_WORKLOAD_ID_CHARS} characters`,
    };
  }
  return id;
}

/** The criticality the header gives, clamped to 1..5; null when it gives none usable (the caller's default). */
function readCriticality(
  raw: Record<string, unknown> | null,
  defaulted: DefaultReason[],
): Criticality | null {
  if (raw === null) return null;
  const value = raw['criticality'];
  if (value === undefined || value === null) {
    defaulted.push('criticality_missing');
    return null;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    defaulted.push('criticality_not_integer');
    return null;
  }
  if (value < MIN_CRITICALITY || value > MAX_CRITICALITY) {
    defaulted.push('criticality_clamped');
    return clampCriticality(value);
  }
  return value as Criticality;
}

export function clampCriticality(value: number): Criticality {
  return Math.min(MAX_CRITICALITY, Math.max(MIN_CRITICALITY, Math.round(value))) as Criticality;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}
