// Who may send inference requests: what an `Authorization` header means under AUTH on or off, and what a
// stored key record says of a presented key. The shell only reads the record (KV) and answers the 401.
//   AUTH=off, no Sluice key (none, or an SDK's placeholder) → trusted, no principal;
//   a Sluice key (under either mode) → looked up, and held to its grant;
//   AUTH=on, no bearer token → refused: missing (no header) or malformed (a header that is not Bearer).

import {
  API_KEY_PATTERN,
  API_KEY_PREFIX,
  bearerToken,
  constantTimeEqual,
  principalOf,
  type KeyRecord,
  type Principal,
} from './key-record.ts';

/** Why a presented credential was refused (each is counted in sluice_auth_failures_total). */
export type KeyRefusal = 'missing' | 'malformed' | 'unknown' | 'revoked';

export type InferenceCredential =
  | { readonly kind: 'trusted' }
  | { readonly kind: 'lookup'; readonly key: string }
  | { readonly kind: 'refused'; readonly reason: KeyRefusal };

const TRUSTED: InferenceCredential = { kind: 'trusted' };

export function inferenceCredential(authOn: boolean, authorization: string | null): InferenceCredential {
  const presented = bearerToken(authorization);
  // SDKs insist on some apiKey: on a trusted network anything that is not a Sluice key is ignored.
  if (!authOn && (presented === null || !presented.startsWith(API_KEY_PREFIX))) return TRUSTED;
  if (presented === null)
    return { kind: 'refused', reason: authorization === null ? 'missing' : 'malformed' };
  if (!API_KEY_PATTERN.test(presented)) return { kind: 'refused', reason: 'malformed' };
  return { kind: 'lookup', key: presented };
}

export type KeyVerdict =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: 'unknown' | 'revoked' };

/**
 * A presented key's SHA-256 (hex) against the record stored under its ID. The ID is only a prefix of the
 * hash, so the whole hash must match, compared in constant time.
 */
export function keyVerdict(record: KeyRecord | null, hash: string): KeyVerdict {
  if (record === null || !constantTimeEqual(record.hash, hash)) return { ok: false, reason: 'unknown' };
  const principal = principalOf(record);
  return principal ? { ok: true, principal } : { ok: false, reason: 'revoked' };
}
