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
 * Seam for an authenticated mode: when a principal is known (e.g. from an API key), it decides the
 * workload and caps the criticality the client may claim. Header mode passes no principal.
 */
export interface WorkloadPrincipal {
  readonly workloadId: string;
  readonly maxCriticality: Criticality;
}

// C0, DEL and C1 control characters: they break logs and metric labels.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

export function parseWorkloadContext(
  header: string | null | undefined,
  principal?: WorkloadPrincipal,
): ContextResult {
  const defaulted: DefaultReason[] = [];
  const raw = readHeaderObject(header, defaulted);

  let workloadId: string;
  // With a principal the header's ID is ignored, so it cannot make the request fail either.
  const idResult = principal ? principal.workloadId : readWorkloadId(raw);
  if (idResult !== null && typeof idResult === 'object') return { ok: false, error: idResult };
  if (idResult === null) {
    if (raw !== null) defaulted.push('workload_id_missing');
    workloadId = DEFAULT_WORKLOAD_ID;
  } else {
    workloadId = idResult;
  }

  let criticality = readCriticality(raw, defaulted);
  if (principal) {
    workloadId = principal.workloadId;
    if (criticality > principal.maxCriticality) {
      criticality = principal.maxCriticality;
      defaulted.push('criticality_capped');
    }
  }
  return { ok: true, context: { workloadId, criticality }, defaulted };
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
  if ([...id].length > MAX_WORKLOAD_ID_CHARS) {
    return {
      code: 'invalid_workload_context',
      message: `X-Workload-Context: workload_id is longer than ${MAX_WORKLOAD_ID_CHARS} characters`,
    };
  }
  return id;
}

function readCriticality(raw: Record<string, unknown> | null, defaulted: DefaultReason[]): Criticality {
  if (raw === null) return DEFAULT_CRITICALITY;
  const value = raw['criticality'];
  if (value === undefined || value === null) {
    defaulted.push('criticality_missing');
    return DEFAULT_CRITICALITY;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    defaulted.push('criticality_not_integer');
    return DEFAULT_CRITICALITY;
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
