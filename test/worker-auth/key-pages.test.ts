// GET /admin/keys pages with KV's cursor: every key exactly once across pages, in ID order, the last
// page's next_cursor null; a client that ignores the cursor gets the first 1,000 as before; a bad limit
// or cursor is an OpenAI-shaped 400. Each test has its own empty KV namespace (vitest.config.ts), so a
// whole listing can be asserted exactly.

import { createExecutionContext, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { KEY_ID_HEX_CHARS, validateKeyGrant, type KeyRecord, type KeyView } from '../../src/core/index.ts';
import { createApp } from '../../src/worker/app.ts';
import type { Env } from '../../src/worker/env.ts';
import { encodeKeyCursor } from '../../src/core/key-page-query.ts';
import { KeyStore, sha256Hex } from '../../src/worker/key-store.ts';
import type { AdminKeyList, CreatedKey } from '../../src/worker/routes/keys.ts';
import { errorOf } from '../worker/support/client.ts';

const ADMIN = { authorization: `Bearer ${String(env.ADMIN_TOKEN)}`, 'content-type': 'application/json' };
const namespaces = env as unknown as Record<'KEYS_PAGED' | 'KEYS_FULL_PAGE', KVNamespace>;

function routerWith(keys: KVNamespace) {
  const e = { ...env, KEYS: keys } as Env;
  const ctx = createExecutionContext();
  return (path: string, init: RequestInit = {}) =>
    createApp().fetch(new Request(`http://sluice.test${path}`, { ...init, headers: ADMIN }), e, ctx);
}

type Router = ReturnType<typeof routerWith>;

async function page(router: Router, query: string): Promise<AdminKeyList> {
  const res = await router(`/admin/keys${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as AdminKeyList;
}

/** Follows next_cursor to the end; the bound only stops a broken cursor from looping the test. */
async function allPages(router: Router, limit: number): Promise<KeyView[][]> {
  const pages: KeyView[][] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const listed = await page(router, query);
    pages.push([...listed.data]);
    cursor = listed.next_cursor;
    if (cursor !== null) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  } while (cursor !== null && pages.length < 50);
  expect(cursor).toBeNull();
  return pages;
}

describe('GET /admin/keys pages with a cursor', () => {
  it('3 pages of 2: every key exactly once, in ID order, next_cursor null at the end', async () => {
    const router = routerWith(namespaces.KEYS_PAGED);
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await router('/admin/keys', {
        method: 'POST',
        body: JSON.stringify({ workload: `paged-${i}` }),
      });
      expect(res.status).toBe(201);
      created.push(((await res.json()) as CreatedKey).key.id);
    }
    const pages = await allPages(router, 2);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const ids = pages.flat().map((k) => k.id);
    expect(ids).toEqual([...created].sort());
    expect(new Set(ids).size).toBe(5);

    // Without parameters: the first (here the only) page, with every key, as before paging existed.
    const unpaged = await page(router, '');
    expect(unpaged.object).toBe('list');
    expect(unpaged.data.map((k) => k.id)).toEqual(ids);
    expect(unpaged.next_cursor).toBeNull();
  });

  it('a client that ignores the cursor gets the first 1,000 keys, as before; the cursor gives the rest', async () => {
    const store = new KeyStore(namespaces.KEYS_FULL_PAGE, 0);
    const ids: string[] = [];
    // Written straight to KV (a POST each would only make this slower): the listing reads records as stored.
    await Promise.all(
      Array.from({ length: 1001 }, async (_, i) => {
        const hash = await sha256Hex(`full-page-${i}`);
        const grant = validateKeyGrant({ workload: `full-page-${i}` });
        if (!grant.ok) throw new Error(grant.message);
        const id = hash.slice(0, KEY_ID_HEX_CHARS);
        const record: KeyRecord = { ...grant.grant, id, hash, createdAt: i, updatedAt: i, revokedAt: null };
        ids.push(record.id);
        await store.put(record);
      }),
    );
    const router = routerWith(namespaces.KEYS_FULL_PAGE);
    const first = await page(router, '');
    expect(first.data).toHaveLength(1000);
    expect(first.next_cursor).not.toBeNull();
    const rest = await page(router, `?cursor=${first.next_cursor ?? ''}`);
    expect(rest.data).toHaveLength(1);
    expect(rest.next_cursor).toBeNull();
    expect([...first.data, ...rest.data].map((k) => k.id)).toEqual([...ids].sort());
  });
});

describe('GET /admin/keys refuses a bad limit or cursor (OpenAI-shaped 400)', () => {
  const router = routerWith(namespaces.KEYS_PAGED);

  it.each(['0', '1001', '-1', '2.5', '1e3', 'abc', '', ' 5', '0x10'])('limit=%j → 400', async (limit) => {
    const res = await router(`/admin/keys?limit=${encodeURIComponent(limit)}`);
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });
    expect(err.message).toBe('limit must be an integer from 1 to 1000.');
  });

  const toB64Url = (text: string) => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  it.each([
    ['empty', ''],
    ['not base64url', '%%%'],
    ['base64url but not JSON', 'not-a-cursor'],
    ['JSON of another version', toB64Url('{"v":2,"kv":"abc"}')],
    ['JSON without a KV cursor', toB64Url('{"v":1}')],
    ['a cut-off cursor', encodeKeyCursor('some-kv-cursor').slice(0, -3)],
    ['absurdly long', 'A'.repeat(5000)],
  ])('cursor %s → 400', async (_label, cursor) => {
    const res = await router(`/admin/keys?cursor=${encodeURIComponent(cursor)}`);
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });
    expect(err.message).toMatch(/^cursor must be a next_cursor from GET \/admin\/keys/);
  });

  it('a well-formed cursor that KV refuses → 400; the same KV failure without a cursor stays a 500', async () => {
    // Miniflare's KV accepts any cursor, so take a real refusal from workerd (its message names the
    // status, `KV GET failed: 400 …`) and have the namespace answer every list with it.
    const refusal = await namespaces.KEYS_PAGED.list({ limit: 5000 }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(String(refusal)).toMatch(/failed: 400/);
    const refusing = new Proxy(namespaces.KEYS_PAGED, {
      get: (target, prop) =>
        prop === 'list' ? () => Promise.reject(refusal) : Reflect.get(target, prop, target),
    });
    const refusingRouter = routerWith(refusing);
    const withCursor = await refusingRouter(`/admin/keys?cursor=${encodeKeyCursor('edited')}`);
    expect(withCursor.status).toBe(400);
    expect((await errorOf(withCursor)).message).toMatch(/^cursor must be/);
    const without = await refusingRouter('/admin/keys');
    expect(without.status).toBe(500);
    await without.arrayBuffer();
  });
});
