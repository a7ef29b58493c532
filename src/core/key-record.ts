// API keys as data: what an operator grants a key (workloads, criticality caps, limits, weight), how that
// grant is validated (every bad field named), the stored record (the secret's SHA-256, never the secret),
// and the principal a valid key resolves to. Hashing and storage live in the shell (src/worker/key-store.ts).

import {
  MAX_CRITICALITY,
  MAX_WORKLOAD_ID_CHARS,
  MAX_WORKLOAD_WEIGHT,
  MIN_CRITICALITY,
  MIN_WORKLOAD_WEIGHT,
} from './defaults.ts';
import { isValidWeight } from './dispatcher.ts';
import { workloadIdProblem, type Criticality, type WorkloadPrincipal } from './workload-context.ts';
import { describeValue, validateLimits, type WorkloadLimits } from './workload-limits.ts';

/** A key's secret: this prefix then 43 base64url characters (32 random bytes). */
export const API_KEY_PREFIX = 'sk-sluice-';
export const API_KEY_PATTERN = /^sk-sluice-[A-Za-z0-9_-]{43}$/;
/** A key's public ID: this many leading hex digits of its hash (64 bits; collisions are checked at creation). */
export const KEY_ID_HEX_CHARS = 16;
/** A key may act as a short list of workloads, not a wildcard. */
export const MAX_KEY_WORKLOADS = 32;
const MAX_KEY_NAME_CHARS = 128;

/** What an operator grants a key. */
export interface KeyGrant {
  /** A label for people (who owns the key); never used in decisions. */
  readonly name: string | null;
  /** The workloads it may act as; the first is used when the request names none. */
  readonly workloads: readonly string[];
  readonly maxCriticality: Criticality;
  /** Used when the request gives no criticality; never above maxCriticality. */
  readonly defaultCriticality: Criticality;
  readonly limits: WorkloadLimits;
  /** Fairness weight for its workloads (carried to the scheduler by the fairness policy's branch). */
  readonly weight: number | null;
}

/** A stored key: the grant plus identity and lifecycle. The secret itself is never stored. */
export interface KeyRecord extends KeyGrant {
  readonly id: string;
  /** SHA-256 of the secret, lowercase hex. */
  readonly hash: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Set once revoked; a revoked key authenticates nothing (the record stays, for the audit trail). */
  readonly revokedAt: number | null;
}

/** Who a valid key is, for one request. */
export interface Principal extends WorkloadPrincipal {
  readonly keyId: string;
  readonly limits: WorkloadLimits;
  readonly weight: number | null;
}

export type GrantResult =
  | { readonly ok: true; readonly grant: KeyGrant }
  | { readonly ok: false; readonly field: string; readonly message: string };

/**
 * Validates a grant from the admin API. Creating (no `base`): `workload` or `workloads` is required;
 * `maxCriticality` defaults to 3 and `defaultCriticality` to min(3, max). Updating (`base` given): absent
 * fields keep their value, `limits` merges field by field (null removes one), `weight: null` removes it.
 */
export function validateKeyGrant(input: unknown, base?: KeyGrant): GrantResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return bad('body', `must be a JSON object, got ${describeValue(input)}`);
  }
  const o = input as Record<string, unknown>;
  const known = ['name', 'workload', 'workloads', 'maxCriticality', 'defaultCriticality', 'limits', 'weight'];
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) return bad(key, `is not a key setting (use ${known.join(', ')})`);
  }

  let workloads = base?.workloads;
  if (o['workload'] !== undefined && o['workloads'] !== undefined) {
    return bad('workloads', 'give workload or workloads, not both');
  }
  const rawWorkloads = o['workloads'] ?? (o['workload'] === undefined ? undefined : [o['workload']]);
  const field = o['workload'] !== undefined ? 'workload' : 'workloads';
  if (rawWorkloads !== undefined) {
    if (!Array.isArray(rawWorkloads) || rawWorkloads.length === 0) {
      return bad(field, `must be a non-empty list of workload IDs, got ${describeValue(rawWorkloads)}`);
    }
    if (rawWorkloads.length > MAX_KEY_WORKLOADS) {
      return bad(field, `lists ${rawWorkloads.length} workloads; at most ${MAX_KEY_WORKLOADS}`);
    }
    const ids: string[] = [];
    for (const w of rawWorkloads) {
      // The header's rules (workloadIdProblem), and no edge spaces: the header trims, a grant is exact.
      const problem = typeof w === 'string' ? workloadIdProblem(w) : null;
      if (typeof w !== 'string' || w.trim() !== w || w === '' || problem === 'control_chars') {
        return bad(
          field,
          `has an unusable workload ID ${describeValue(w)} (non-empty, no control characters or edge spaces)`,
        );
      }
      if (problem === 'too_long') {
        return bad(field, `has a workload ID longer than ${MAX_WORKLOAD_ID_CHARS} characters`);
      }
      if (!ids.includes(w)) ids.push(w);
    }
    workloads = ids;
  }
  if (workloads === undefined) return bad('workload', 'is required (the workload the key acts as)');

  const maxCriticality = readCriticality(o, 'maxCriticality', base?.maxCriticality ?? 3);
  if (typeof maxCriticality === 'string') return bad('maxCriticality', maxCriticality);
  // Lowering the cap drags an old default down with it unless a new default is given.
  const fallbackDefault = Math.min(base?.defaultCriticality ?? 3, maxCriticality) as Criticality;
  const defaultCriticality = readCriticality(o, 'defaultCriticality', fallbackDefault);
  if (typeof defaultCriticality === 'string') return bad('defaultCriticality', defaultCriticality);
  if (defaultCriticality > maxCriticality) {
    return bad(
      'defaultCriticality',
      `(${defaultCriticality}) must not exceed maxCriticality (${maxCriticality})`,
    );
  }

  const limits = validateLimits(o['limits'], base?.limits ?? {});
  if (!limits.ok) return { ok: false, field: limits.field, message: limits.message };

  let weight = base?.weight ?? null;
  if (o['weight'] !== undefined) {
    const w = o['weight'];
    if (w === null && base !== undefined) weight = null;
    // The same bounds as a configured weight (isValidWeight; defaults.ts says why).
    else if (typeof w !== 'number' || !isValidWeight(w)) {
      return bad(
        'weight',
        `must be a number from ${MIN_WORKLOAD_WEIGHT} to ${MAX_WORKLOAD_WEIGHT}, got ${describeValue(w)}`,
      );
    } else weight = w;
  }

  let name = base?.name ?? null;
  if (o['name'] !== undefined) {
    const n = o['name'];
    if (n !== null && (typeof n !== 'string' || n.length > MAX_KEY_NAME_CHARS)) {
      return bad(
        'name',
        `must be a string of at most ${MAX_KEY_NAME_CHARS} characters, got ${describeValue(n)}`,
      );
    }
    name = n;
  }

  return {
    ok: true,
    grant: Object.freeze({
      name,
      workloads: Object.freeze(workloads),
      maxCriticality,
      defaultCriticality,
      limits: limits.limits,
      weight,
    }),
  };
}

function readCriticality(
  o: Record<string, unknown>,
  key: string,
  fallback: Criticality,
): Criticality | string {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_CRITICALITY || v > MAX_CRITICALITY) {
    return `must be an integer from ${MIN_CRITICALITY} to ${MAX_CRITICALITY}, got ${describeValue(v)}`;
  }
  return v as Criticality;
}

function bad(field: string, problem: string): GrantResult {
  return { ok: false, field, message: `${field} ${problem}` };
}

/**
 * A stored record as read back from storage: anything that is not a well-formed record (a hand edit, a
 * format from the future) is treated as no key at all, never as a partial grant.
 */
export function parseKeyRecord(raw: unknown): KeyRecord | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const { id, hash, createdAt, updatedAt, revokedAt } = r;
  if (typeof id !== 'string' || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return null;
  if (!hash.startsWith(id) || id.length !== KEY_ID_HEX_CHARS) return null;
  if (typeof createdAt !== 'number' || typeof updatedAt !== 'number') return null;
  if (revokedAt !== null && typeof revokedAt !== 'number') return null;
  const grant = validateKeyGrant({
    name: r['name'],
    workloads: r['workloads'],
    maxCriticality: r['maxCriticality'],
    defaultCriticality: r['defaultCriticality'],
    limits: r['limits'],
    weight: r['weight'] ?? undefined,
  });
  if (!grant.ok) return null;
  return Object.freeze({ ...grant.grant, id, hash, createdAt, updatedAt, revokedAt });
}

/** The principal of a live key; null for a revoked one. */
export function principalOf(record: KeyRecord): Principal | null {
  if (record.revokedAt !== null) return null;
  return {
    keyId: record.id,
    workloads: record.workloads,
    maxCriticality: record.maxCriticality,
    defaultCriticality: record.defaultCriticality,
    limits: record.limits,
    weight: record.weight,
  };
}

/** A key as listed by the admin API: everything but the hash (which only matters to lookups). */
export type KeyView = Omit<KeyRecord, 'hash'>;

export function keyView(record: KeyRecord): KeyView {
  const { hash: _hash, ...view } = record;
  return view;
}

/** The ID of the key whose SHA-256 (hex) this is. */
export function keyIdOf(hashHex: string): string {
  return hashHex.slice(0, KEY_ID_HEX_CHARS);
}

/**
 * Compares two strings in time that depends on their lengths only, not on where they first differ, so a
 * response's timing does not reveal how much of a guess was right.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/** The bearer token of an Authorization header; null when absent or not `Bearer <token>`. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
