// Who may use the operator endpoints (/admin/*, /metrics, /dashboard/data): the README's "Secure by
// default" table, decided once here for the guard and for /metrics under a broken configuration.
//   AUTH=on,  no ADMIN_TOKEN → closed: a deployment is never open by omission;
//   AUTH=on,  ADMIN_TOKEN    → `Authorization: Bearer <ADMIN_TOKEN>` required;
//   AUTH=off, no ADMIN_TOKEN → open: the network is trusted (local use, or behind Cloudflare Access);
//   AUTH=off, ADMIN_TOKEN    → required, as with AUTH=on.

import { API_KEY_PATTERN, bearerToken, constantTimeEqual } from './key-record.ts';

export type OperatorAccess =
  | { readonly kind: 'open' }
  | { readonly kind: 'closed' }
  /** A token is required and the header does not carry it; `inferenceKey`: it carried an API key instead. */
  | { readonly kind: 'unauthorized'; readonly inferenceKey: boolean };

const OPEN: OperatorAccess = { kind: 'open' };
const CLOSED: OperatorAccess = { kind: 'closed' };

export function operatorAccess(
  authOn: boolean,
  adminToken: string | null,
  authorization: string | null | undefined,
): OperatorAccess {
  if (adminToken === null) return authOn ? CLOSED : OPEN;
  // Constant time, so timing does not reveal how much of a guess was right.
  if (constantTimeEqual(authorization ?? '', `Bearer ${adminToken}`)) return OPEN;
  const presented = bearerToken(authorization);
  return { kind: 'unauthorized', inferenceKey: presented !== null && API_KEY_PATTERN.test(presented) };
}
