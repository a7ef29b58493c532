// The query of GET /admin/keys, parsed without I/O: its page size, and its opaque `next_cursor`: KV's
// own list cursor in a small versioned envelope, base64url so it needs no escaping in a query string. The envelope lets a mistyped or foreign cursor be
// refused with a 400 before KV sees it; it is not a secret and grants nothing (the route is operator-only).

import { base64UrlToBytes, bytesToBase64Url } from './base64url.ts';

/** Longer is not a cursor we issued (KV's are well under this); bounds the work of decoding one. */
const MAX_CURSOR_CHARS = 2048;

interface Envelope {
  readonly v: 1;
  readonly kv: string;
}

function fromBase64Url(encoded: string): string | null {
  const bytes = base64UrlToBytes(encoded);
  if (bytes === null) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

export function encodeKeyCursor(kvCursor: string): string {
  const envelope: Envelope = { v: 1, kv: kvCursor };
  return bytesToBase64Url(new TextEncoder().encode(JSON.stringify(envelope)));
}

/** KV's cursor inside one of our cursors, or null when `cursor` is not one we issued. */
export function decodeKeyCursor(cursor: string): string | null {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    return null;
  }
  const json = fromBase64Url(cursor);
  if (json === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { v, kv } = parsed as Record<string, unknown>;
  return v === 1 && typeof kv === 'string' && kv.length > 0 ? kv : null;
}

/** A page size: digits only, 1 to `max` (no sign, exponent or spaces); null when it is not one. */
export function parseKeyPageLimit(raw: string | undefined, max: number): number | null {
  if (raw === undefined) return max;
  const limit = /^[1-9][0-9]{0,5}$/.test(raw) ? Number(raw) : NaN;
  return limit <= max ? limit : null;
}
