// Admin API for API keys (behind requireOperator): create (the secret is in that answer only), list and
// read (never a secret, nor its hash), update a key's workloads, caps, limits and weight, and revoke.
// Changes reach every isolate within the key cache TTL plus KV's propagation (about 60 s).

import { keyView, validateKeyGrant, type KeyRecord, type KeyView } from '../../core/index.ts';
import type { SluiceConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { errorResponse } from '../http-error.ts';
import { decodeKeyCursor, encodeKeyCursor, parseKeyPageLimit } from '../../core/key-page-query.ts';
import { KeyStore, MAX_KEYS_PER_PAGE } from '../key-store.ts';
import type { AdminList } from './admin.ts';

/** GET /admin/keys: one page in KV's key order (by ID); `next_cursor` is null on the last page. */
export interface AdminKeyList extends AdminList<KeyView> {
  readonly next_cursor: string | null;
}

/** workerd reports a KV operation that KV refused as `KV <METHOD> failed: <status> <message>`. */
const KV_REFUSED = /^KV [A-Z]+ failed: 400\b/;

export interface CreatedKey {
  readonly key: KeyView;
  /** The secret: shown once, here; only its SHA-256 is stored. */
  readonly secret: string;
}

function storeOf(env: Env, config: SluiceConfig): KeyStore | Response {
  if (env.KEYS === undefined) {
    return errorResponse({
      code: 'keys_not_configured',
      message: 'No KEYS KV binding: add [[kv_namespaces]] binding = "KEYS" to wrangler.toml.',
    });
  }
  return new KeyStore(env.KEYS, config.keyCacheTtlMs);
}

async function readJson(
  request: Request,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  try {
    return { ok: true, value: await request.json() };
  } catch {
    return {
      ok: false,
      response: errorResponse({ code: 'invalid_request', message: 'The body must be a JSON object.' }),
    };
  }
}

function notFound(id: string): Response {
  // Only an ID-shaped value is echoed: a secret pasted where the ID belongs must not come back in the answer.
  const shown = /^[0-9a-f]{1,64}$/.test(id) ? ` '${id}'` : '';
  return errorResponse({
    code: 'not_found',
    message: `No API key with ID${shown} (IDs are in GET /admin/keys).`,
  });
}

export async function handleCreateKey(request: Request, env: Env, config: SluiceConfig): Promise<Response> {
  const store = storeOf(env, config);
  if (store instanceof Response) return store;
  const body = await readJson(request);
  if (!body.ok) return body.response;
  const grant = validateKeyGrant(body.value);
  if (!grant.ok) return errorResponse({ code: 'invalid_request', message: grant.message });
  const { record, secret } = await store.create(grant.grant, Date.now());
  const created: CreatedKey = { key: keyView(record), secret };
  return Response.json(created, { status: 201, headers: { 'cache-control': 'no-store' } });
}

/**
 * One page of keys. Without `cursor` it is the first page, and without `limit` it holds up to
 * MAX_KEYS_PER_PAGE keys: what this route returned before it paged, so a client that ignores
 * `next_cursor` sees what it always saw (ordered by ID now, not by creation time).
 */
export async function handleListKeys(
  env: Env,
  config: SluiceConfig,
  query: { readonly cursor?: string | undefined; readonly limit?: string | undefined },
): Promise<Response> {
  const store = storeOf(env, config);
  if (store instanceof Response) return store;
  const limit = parseKeyPageLimit(query.limit, MAX_KEYS_PER_PAGE);
  if (limit === null) {
    return errorResponse({
      code: 'invalid_request',
      message: `limit must be an integer from 1 to ${MAX_KEYS_PER_PAGE}.`,
    });
  }
  const kvCursor = query.cursor === undefined ? null : decodeKeyCursor(query.cursor);
  const badCursor = () =>
    errorResponse({
      code: 'invalid_request',
      message:
        'cursor must be a next_cursor from GET /admin/keys, passed as given (omit it for the first page).',
    });
  if (query.cursor !== undefined && kvCursor === null) return badCursor();
  let page;
  try {
    page = await store.list(limit, kvCursor);
  } catch (err) {
    // Our envelope was intact but KV refused what is inside (edited, or from another namespace).
    if (kvCursor !== null && err instanceof Error && KV_REFUSED.test(err.message)) return badCursor();
    throw err;
  }
  const list: AdminKeyList = {
    object: 'list',
    data: page.records.map(keyView),
    next_cursor: page.cursor === null ? null : encodeKeyCursor(page.cursor),
  };
  return Response.json(list, { headers: { 'cache-control': 'no-store' } });
}

export async function handleGetKey(env: Env, config: SluiceConfig, id: string): Promise<Response> {
  const store = storeOf(env, config);
  if (store instanceof Response) return store;
  const record = await store.get(id);
  return record ? Response.json(keyView(record)) : notFound(id);
}

/** Partial update: fields absent keep their value; `limits` merges field by field (null removes one). */
export async function handleUpdateKey(
  request: Request,
  env: Env,
  config: SluiceConfig,
  id: string,
): Promise<Response> {
  const store = storeOf(env, config);
  if (store instanceof Response) return store;
  const record = await store.get(id);
  if (!record) return notFound(id);
  const body = await readJson(request);
  if (!body.ok) return body.response;
  const grant = validateKeyGrant(body.value, record);
  if (!grant.ok) return errorResponse({ code: 'invalid_request', message: grant.message });
  const updated: KeyRecord = { ...record, ...grant.grant, updatedAt: Date.now() };
  await store.put(updated);
  return Response.json(keyView(updated));
}

/** Revoked keys stay listed (with revokedAt) so the trail of who had access remains. Idempotent. */
export async function handleRevokeKey(env: Env, config: SluiceConfig, id: string): Promise<Response> {
  const store = storeOf(env, config);
  if (store instanceof Response) return store;
  const record = await store.get(id);
  if (!record) return notFound(id);
  if (record.revokedAt !== null) return Response.json(keyView(record));
  const now = Date.now();
  const revoked: KeyRecord = { ...record, revokedAt: now, updatedAt: now };
  await store.put(revoked);
  return Response.json(keyView(revoked));
}
