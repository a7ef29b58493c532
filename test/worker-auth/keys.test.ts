// Tenants and keys under wrangler.toml's AUTH=on (this project: ADMIN_TOKEN set, key cache off so a
// revocation shows on the next request). The table: no key, wrong key, revoked key, a key for A
// naming B, a capped criticality, the admin API without a token / with an inference key, the client's
// Authorization never reaching the backend, and each per-workload limit.

import { env } from 'cloudflare:test';
import { createExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/worker/app.ts';
import type { Env } from '../../src/worker/env.ts';
import { KeyStore, sha256Hex } from '../../src/worker/key-store.ts';
import type { CreatedKey } from '../../src/worker/routes/keys.ts';
import type { AuthStatus } from '../../src/worker/routes/auth-status.ts';
import {
  backends,
  call,
  chat,
  chatRequest,
  errorOf,
  heldCount,
  releaseHeld,
  until,
  workload,
} from '../worker/support/client.ts';

const ADMIN = { authorization: `Bearer ${String(env.ADMIN_TOKEN)}` };
/** For the shared admin readers (workload, backends): this project guards /admin with ADMIN_TOKEN. */
const AS_ADMIN: RequestInit = { headers: ADMIN };

async function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return call(path, { ...init, headers: { ...ADMIN, 'content-type': 'application/json', ...init.headers } });
}

async function createKey(grant: Record<string, unknown>): Promise<CreatedKey> {
  const res = await admin('/admin/keys', { method: 'POST', body: JSON.stringify(grant) });
  expect(res.status).toBe(201);
  return (await res.json()) as CreatedKey;
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** Slots held at the coordinators: compared with the count before a test (0 unless an earlier test failed). */
async function slotsInUse(): Promise<number> {
  return (await backends(AS_ADMIN)).reduce((sum, b) => sum + b.inFlight, 0);
}

async function failures(): Promise<AuthStatus['failures']> {
  return ((await (await admin('/admin/auth')).json()) as AuthStatus).failures;
}

describe('inference needs a valid key (401 invalid_api_key before anything is queued or counted)', () => {
  it.each([
    ['no key', {}, 'missing'],
    ['a non-bearer header', { authorization: 'Basic dXNlcjpwYXNz' }, 'malformed'],
    ['a key of the wrong shape', { authorization: 'Bearer sk-openai-123' }, 'malformed'],
    ['a well-formed unknown key', bearer(`sk-sluice-${'x'.repeat(43)}`), 'unknown'],
  ] as const)('%s → 401, the workload untouched, the failure counted', async (_label, headers, reason) => {
    const before = (await failures())[reason];
    const id = `auth-none-${reason}-${Object.keys(headers).length}`;
    const res = await chat({ model: 'ok' }, { workload_id: id }, headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect(await errorOf(res)).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
    expect((await admin(`/admin/workloads/${id}`)).status).toBe(404);
    await until(failures, (f) => f[reason] > before);
  });

  it('a revoked key is refused once revoked (no cache in this project: the horizon is 0)', async () => {
    const { key, secret } = await createKey({ workload: 'auth-revoke' });
    expect((await chat({ model: 'ok' }, undefined, bearer(secret))).status).toBe(200);
    const revoked = await admin(`/admin/keys/${key.id}`, { method: 'DELETE' });
    expect(((await revoked.json()) as { revokedAt: number | null }).revokedAt).not.toBeNull();
    const res = await chat({ model: 'ok' }, undefined, bearer(secret));
    expect(res.status).toBe(401);
    expect((await errorOf(res)).message).toContain('revoked');
    // The one request before revocation is all the workload ever saw.
    expect((await workload('auth-revoke', AS_ADMIN)).totalRequests).toBe(1);
  });

  it('with a cache, a revocation takes effect at the cache horizon: real KV, injected time', async () => {
    const { key, secret } = await createKey({ workload: 'auth-horizon' });
    const store = new KeyStore(env.KEYS!, 10_000);
    expect((await store.lookup(secret, 1_000)).ok).toBe(true);
    await admin(`/admin/keys/${key.id}`, { method: 'DELETE' });
    // Within the TTL this isolate still trusts what it read: the documented revocation delay.
    expect((await store.lookup(secret, 10_999)).ok).toBe(true);
    expect(await store.lookup(secret, 11_000)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('KV holds the secret’s SHA-256, never the secret; the ID is the hash’s prefix', async () => {
    const { key, secret } = await createKey({ workload: 'auth-stored' });
    const raw = await env.KEYS!.get(`key:${key.id}`);
    expect(raw).not.toBeNull();
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(secret.slice('sk-sluice-'.length));
    const hash = await sha256Hex(secret);
    expect((JSON.parse(raw ?? '{}') as { hash: string }).hash).toBe(hash);
    expect(hash.startsWith(key.id)).toBe(true);
  });

  it('a record found by the ID prefix must match the whole hash: a different secret with that ID is refused', async () => {
    // A stored record under this secret's ID whose hash differs after the 16-digit prefix (an ID
    // collision, or a planted record): the lookup must compare the full hash, not trust the ID.
    const secret = `sk-sluice-${'c'.repeat(43)}`;
    const hash = await sha256Hex(secret);
    const id = hash.slice(0, 16);
    const other = id + [...hash.slice(16)].map((c) => (c === '0' ? '1' : '0')).join('');
    const now = Date.now();
    await env.KEYS!.put(
      `key:${id}`,
      JSON.stringify({
        id,
        hash: other,
        name: null,
        workloads: ['auth-collide'],
        maxCriticality: 5,
        defaultCriticality: 3,
        limits: {},
        weight: null,
        createdAt: now,
        updatedAt: now,
        revokedAt: null,
      }),
    );
    expect(await new KeyStore(env.KEYS!, 0).lookup(secret, now)).toEqual({ ok: false, reason: 'unknown' });
    const res = await chat({ model: 'ok' }, undefined, bearer(secret));
    expect(res.status).toBe(401);
    expect((await admin('/admin/workloads/auth-collide')).status).toBe(404);
  });

  it('/v1/models needs a key too (it may ask backends)', async () => {
    expect((await call('/v1/models')).status).toBe(401);
    const { secret } = await createKey({ workload: 'auth-models' });
    expect((await call('/v1/models', { headers: bearer(secret) })).status).toBe(200);
  });
});

describe('a key bounds its workload and criticality', () => {
  it('a key for A naming B → 403 workload_not_allowed, and B is never created', async () => {
    const { secret } = await createKey({ workloads: ['auth-a', 'auth-a2'] });
    const res = await chat({ model: 'ok' }, { workload_id: 'auth-b', criticality: 1 }, bearer(secret));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: 'workload_not_allowed', type: 'permission_error' });
    // The principal is known, so even the refusal carries the criticality its key allows.
    expect(res.headers.get('x-sluice-criticality')).toBe('1');
    expect((await admin('/admin/workloads/auth-b')).status).toBe(404);
    const capped = await chat({ model: 'ok' }, { workload_id: 'auth-b', criticality: 5 }, bearer(secret));
    expect(capped.status).toBe(403);
    expect(capped.headers.get('x-sluice-criticality')).toBe('3');
    expect(capped.headers.get('x-sluice-criticality-capped')).toBe('5');
    await capped.arrayBuffer();
    // It may pick among its own.
    const own = await chat({ model: 'ok' }, { workload_id: 'auth-a2' }, bearer(secret));
    expect(own.headers.get('x-sluice-workload')).toBe('auth-a2');
    await own.arrayBuffer();
  });

  it('a key capped at 3 asking for 5 runs at 3 and is told so; lower asks are kept; none → its default', async () => {
    const { secret } = await createKey({ workload: 'auth-cap', maxCriticality: 3, defaultCriticality: 2 });
    const capped = await chat({ model: 'ok' }, { criticality: 5 }, bearer(secret));
    expect(capped.status).toBe(200);
    expect(capped.headers.get('x-sluice-criticality')).toBe('3');
    expect(capped.headers.get('x-sluice-criticality-capped')).toBe('5');
    const lower = await chat({ model: 'ok' }, { criticality: 1 }, bearer(secret));
    expect(lower.headers.get('x-sluice-criticality')).toBe('1');
    expect(lower.headers.has('x-sluice-criticality-capped')).toBe(false);
    const none = await chat({ model: 'ok' }, undefined, bearer(secret));
    expect(none.headers.get('x-sluice-criticality')).toBe('2');
    await Promise.all([capped.arrayBuffer(), lower.arrayBuffer(), none.arrayBuffer()]);
  });

  it('the client’s Authorization (and Cookie) never reach the backend: it gets its own configured key', async () => {
    const { secret } = await createKey({ workload: 'auth-echo' });
    const res = await chat({ model: 'echo-headers' }, undefined, { ...bearer(secret), cookie: 'session=1' });
    expect(res.status).toBe(200);
    const seen = ((await res.json()) as { headers: Record<string, string> }).headers;
    expect(seen['authorization']).toBe('Bearer backend-key');
    expect(JSON.stringify(seen)).not.toContain(secret);
    expect(seen['cookie']).toBeUndefined();
    // A backend without its own apiKey gets no Authorization at all.
    const bare = await chat({ model: 'echo-headers-bare' }, undefined, bearer(secret));
    expect(bare.headers.get('x-sluice-backend')).toBe('bare');
    const bareSeen = ((await bare.json()) as { headers: Record<string, string> }).headers;
    expect(bareSeen['authorization']).toBeUndefined();
    expect(JSON.stringify(bareSeen)).not.toContain(secret);
  });
});

describe('the admin API', () => {
  const ctx = createExecutionContext();
  const adminCall = (e: Env, headers: Record<string, string> = {}) =>
    createApp().fetch(new Request('http://sluice.test/admin/keys', { headers }), e, ctx);

  it('with AUTH on and no ADMIN_TOKEN: 403 admin_disabled, saying how to set one', async () => {
    const res = await adminCall({ ...env, ADMIN_TOKEN: undefined } as Env);
    expect(res.status).toBe(403);
    const err = await errorOf(res);
    expect(err.code).toBe('admin_disabled');
    expect(err.message).toContain('wrangler secret put ADMIN_TOKEN');
  });

  it('with AUTH on and ADMIN_TOKEN: 401 without it, and with an inference key instead of it', async () => {
    expect((await call('/admin/keys')).status).toBe(401);
    const { secret } = await createKey({ workload: 'auth-not-admin' });
    const res = await call('/admin/keys', { headers: bearer(secret) });
    expect(res.status).toBe(401);
    expect((await errorOf(res)).message).toContain('inference API key');
    expect((await admin('/admin/keys')).status).toBe(200);
  });

  it('with AUTH=off and no ADMIN_TOKEN the network is trusted: admin open, no key needed', async () => {
    const off = { ...env, AUTH: 'off', ADMIN_TOKEN: undefined } as Env;
    expect((await adminCall(off)).status).toBe(200);
    const res = await createApp().fetch(
      chatRequest({ model: 'ok', messages: [] }, '{"workload_id":"auth-off"}'),
      off,
      ctx,
    );
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    // A request that presents a Sluice key is still held to it: an unknown one is refused, a capped one capped.
    const keyed = (secret: string, context: string) =>
      createApp().fetch(chatRequest({ model: 'ok', messages: [] }, context, bearer(secret)), off, ctx);
    expect((await keyed(`sk-sluice-${'y'.repeat(43)}`, '{}')).status).toBe(401);
    const { secret } = await createKey({ workload: 'auth-off-keyed', maxCriticality: 2 });
    const capped = await keyed(secret, '{"criticality":5}');
    expect(capped.headers.get('x-sluice-criticality')).toBe('2');
    await capped.arrayBuffer();
  });

  it('lists keys without secrets or hashes; updates a key’s workloads; names a bad field', async () => {
    const { key, secret } = await createKey({ workload: 'auth-upd', name: 'team fraud' });
    const listed = (await (await admin('/admin/keys')).json()) as { data: Array<Record<string, unknown>> };
    const row = listed.data.find((k) => k['id'] === key.id);
    expect(row).toMatchObject({ name: 'team fraud', workloads: ['auth-upd'] });
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(row && 'hash' in row).toBe(false);

    const patched = await admin(`/admin/keys/${key.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ workloads: ['auth-upd-2'], maxCriticality: 5 }),
    });
    expect(patched.status).toBe(200);
    const moved = await chat({ model: 'ok' }, { workload_id: 'auth-upd' }, bearer(secret));
    expect(moved.status).toBe(403);
    const ok = await chat({ model: 'ok' }, { criticality: 5 }, bearer(secret));
    expect(ok.headers.get('x-sluice-workload')).toBe('auth-upd-2');
    expect(ok.headers.get('x-sluice-criticality')).toBe('5');
    await ok.arrayBuffer();

    const bad = await admin('/admin/keys', {
      method: 'POST',
      body: JSON.stringify({ workload: 'x', weight: -1 }),
    });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toMatch(/^weight /);
  });
});

describe('the admin key API refuses bad input, naming the field (OpenAI-shaped 400), and unknown IDs (404)', () => {
  it.each([
    ['not JSON', '{"workload":', 'body'],
    ['a JSON array', '[]', 'body'],
    ['a JSON string', '"fraud"', 'body'],
    ['no workload', '{"maxCriticality":3}', 'workload'],
    ['an unknown setting', '{"workload":"w","secret":"x"}', 'secret'],
    ['an empty workload list', '{"workloads":[]}', 'workloads'],
    ['a workload ID with a control character', '{"workload":"a\\u0007b"}', 'workload'],
    ['weight 0', '{"workload":"w","weight":0}', 'weight'],
    ['a negative weight', '{"workload":"w","weight":-1}', 'weight'],
    ['weight "NaN"', '{"workload":"w","weight":"NaN"}', 'weight'],
    ['weight null (JSON for NaN)', '{"workload":"w","weight":null}', 'weight'],
    ['an absurd weight', '{"workload":"w","weight":1e12}', 'weight'],
    ['a vanishing weight', '{"workload":"w","weight":1e-300}', 'weight'],
    ['maxCriticality 9', '{"workload":"w","maxCriticality":9}', 'maxCriticality'],
    [
      'defaultCriticality above the cap',
      '{"workload":"w","maxCriticality":2,"defaultCriticality":3}',
      'defaultCriticality',
    ],
    ['limits not an object', '{"workload":"w","limits":5}', 'limits'],
    ['maxInFlight 0', '{"workload":"w","limits":{"maxInFlight":0}}', 'limits.maxInFlight'],
    [
      'a fractional requestsPerMinute',
      '{"workload":"w","limits":{"requestsPerMinute":1.5}}',
      'limits.requestsPerMinute',
    ],
    ['an unknown limit', '{"workload":"w","limits":{"burst":5}}', 'limits.burst'],
  ])('create with %s → 400 naming %s', async (_label, body, field) => {
    const before = ((await (await admin('/admin/keys')).json()) as { data: unknown[] }).data.length;
    const res = await admin('/admin/keys', { method: 'POST', body });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });
    expect(err.message.replace(/^The /, '').startsWith(`${field} `)).toBe(true);
    // Nothing was stored.
    expect(((await (await admin('/admin/keys')).json()) as { data: unknown[] }).data.length).toBe(before);
  });

  it('update with a bad field → 400 naming it, and the key is unchanged', async () => {
    const { key } = await createKey({
      workload: 'auth-bad-upd',
      maxCriticality: 2,
      limits: { maxInFlight: 3 },
    });
    for (const [body, field] of [
      ['{"maxCriticality":0}', 'maxCriticality'],
      ['{"weight":-5}', 'weight'],
      ['{"limits":{"tokensPerMinute":-1}}', 'limits.tokensPerMinute'],
      ['{"workload":"a","workloads":["b"]}', 'workloads'],
      ['nope', 'The body'],
    ] as const) {
      const res = await admin(`/admin/keys/${key.id}`, { method: 'PATCH', body });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message.startsWith(field)).toBe(true);
    }
    const after = (await (await admin(`/admin/keys/${key.id}`)).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ maxCriticality: 2, limits: { maxInFlight: 3 }, updatedAt: key.updatedAt });
  });

  it.each([
    ['an unknown ID', '0123456789abcdef'],
    ['an ID of the wrong shape', 'not-an-id'],
    ['a secret in place of an ID', `sk-sluice-${'z'.repeat(43)}`],
  ])('GET, PATCH and DELETE of %s → 404 not_found', async (_label, id) => {
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const res = await admin(`/admin/keys/${encodeURIComponent(id)}`, {
        method,
        ...(method === 'PATCH' ? { body: '{"maxCriticality":1}' } : {}),
      });
      expect(res.status).toBe(404);
      const err = await errorOf(res);
      expect(err).toMatchObject({ code: 'not_found', type: 'invalid_request_error' });
      // A secret pasted where an ID belongs is not echoed back.
      expect(err.message).not.toContain('sk-sluice-');
    }
  });

  it('no spelling of an admin path gets past the guard', async () => {
    for (const path of [
      '/admin/keys/',
      '/admin//keys',
      '/%61dmin/keys',
      '/admin/./keys',
      '/x/../admin/keys',
      '/ADMIN/keys',
    ]) {
      const res = await call(path);
      expect(res.status, path).not.toBe(200);
      expect([401, 404], path).toContain(res.status);
    }
  });
});

describe('per-workload limits (from the key), enforced by the workload', () => {
  it('WORKLOAD_LIMITS applies without a key (AUTH=off), and a key’s own limits override it', async () => {
    const ctx = createExecutionContext();
    const off = {
      ...env,
      AUTH: 'off',
      WORKLOAD_LIMITS: JSON.stringify({
        'auth-cfg': { requestsPerMinute: 1 },
        'auth-cfg-key': { requestsPerMinute: 1 },
      }),
    } as Env;
    const send = (workloadId: string, headers: Record<string, string> = {}) =>
      createApp().fetch(
        chatRequest({ model: 'ok', messages: [] }, { workload_id: workloadId }, headers),
        off,
        ctx,
      );
    const first = await send('auth-cfg');
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const second = await send('auth-cfg');
    expect(second.status).toBe(429);
    expect((await errorOf(second)).code).toBe('rate_limited');
    // A key for the other workload raises its limit: two requests pass.
    const { secret } = await createKey({ workload: 'auth-cfg-key', limits: { requestsPerMinute: 5 } });
    for (let i = 0; i < 2; i++) {
      const res = await send('auth-cfg-key', bearer(secret));
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  });

  it('requestsPerMinute: beyond it 429 rate_limited with Retry-After, counted as rejected/rate_limited', async () => {
    const { secret } = await createKey({ workload: 'auth-rpm', limits: { requestsPerMinute: 2 } });
    for (let i = 0; i < 2; i++) {
      const res = await chat({ model: 'ok' }, undefined, bearer(secret));
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const limited = await chat({ model: 'ok' }, undefined, bearer(secret));
    expect(limited.status).toBe(429);
    expect(await errorOf(limited)).toMatchObject({ code: 'rate_limited', type: 'rate_limit_error' });
    expect(limited.headers.get('x-sluice-criticality')).toBe('3');
    // One request every 30 s refills the bucket; a little of that has passed.
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(25);
    expect(retryAfter).toBeLessThanOrEqual(30);
    const w = await workload('auth-rpm', AS_ADMIN);
    expect(w.reasons['rate_limited']).toBe(1);
    expect(w.limits?.limits).toEqual({ requestsPerMinute: 2 });
    expect(w.limits?.requestsAvailable).toBe(0);
  });

  it('tokensPerMinute: the admission estimate counts; beyond it 429 rate_limited', async () => {
    const { secret } = await createKey({ workload: 'auth-tpm', limits: { tokensPerMinute: 100 } });
    const first = await chat({ model: 'ok', max_tokens: 80 }, undefined, bearer(secret));
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const second = await chat({ model: 'ok', max_tokens: 80 }, undefined, bearer(secret));
    expect(second.status).toBe(429);
    expect((await errorOf(second)).code).toBe('rate_limited');
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('maxInFlight: a request beyond it waits in the queue (not rejected) and runs when one ends', async () => {
    const { secret } = await createKey({ workload: 'auth-mif', limits: { maxInFlight: 1 } });
    const heldBefore = await heldCount();
    const slotsBefore = await slotsInUse();
    const first = chat({ model: 'hold' }, undefined, bearer(secret));
    await until(heldCount, (n) => n === heldBefore + 1);
    const second = chat({ model: 'hold' }, undefined, bearer(secret));
    // The backend has 4 free slots, yet the second waits in its workload's queue.
    const waiting = await until(
      () => workload('auth-mif', AS_ADMIN),
      (w) => w.queuedRequests === 1,
    );
    expect(waiting.inFlightRequests).toBe(1);
    expect(await heldCount()).toBe(heldBefore + 1);
    await releaseHeld(1);
    await until(heldCount, (n) => n === heldBefore + 1);
    await releaseHeld(1);
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
    const done = await until(
      () => workload('auth-mif', AS_ADMIN),
      (w) => w.activeRequests === 0,
    );
    expect(done.outcomes.rejected).toBe(0);
    // No capacity leaked: every slot the burst held is back at the coordinator.
    await until(slotsInUse, (n) => n === slotsBefore);
  });

  it('maxInFlight under a burst: never more running than the limit, every request served, no slot leaked', async () => {
    const { secret } = await createKey({ workload: 'auth-mif-burst', limits: { maxInFlight: 2 } });
    const heldBefore = await heldCount();
    const slotsBefore = await slotsInUse();
    const burst = Array.from({ length: 6 }, () => chat({ model: 'hold' }, undefined, bearer(secret)));
    await until(heldCount, (n) => n === heldBefore + 2);
    const w = await until(
      () => workload('auth-mif-burst', AS_ADMIN),
      (x) => x.queuedRequests === 4,
    );
    expect(w.inFlightRequests).toBe(2);
    for (let released = 0; released < 6;) {
      await until(heldCount, (n) => n > heldBefore);
      expect(await heldCount()).toBeLessThanOrEqual(heldBefore + 2);
      released += await releaseHeld(1);
    }
    const answers = await Promise.all(burst);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    const done = await until(
      () => workload('auth-mif-burst', AS_ADMIN),
      (x) => x.activeRequests === 0,
    );
    expect(done.outcomes).toMatchObject({ success: 6, rejected: 0 });
    await until(slotsInUse, (n) => n === slotsBefore);
  });
});
