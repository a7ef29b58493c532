// API key rules (src/core/key-record.ts, key-cache.ts): grant validation names the bad field (weight,
// criticalities, workloads, limits), updates merge, stored records are read back strictly, comparison is
// by full hash, and the lookup cache expires exactly at its TTL (time injected).

import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  TtlCache,
  bearerToken,
  constantTimeEqual,
  parseKeyRecord,
  principalOf,
  validateKeyGrant,
  type KeyGrant,
} from '../../src/core/index.ts';

function grantOf(input: unknown, base?: KeyGrant): KeyGrant {
  const r = validateKeyGrant(input, base);
  if (!r.ok) throw new Error(r.message);
  return r.grant;
}

function fieldOf(input: unknown, base?: KeyGrant): { field: string; message: string } {
  const r = validateKeyGrant(input, base);
  if (r.ok) throw new Error('expected a validation error');
  return r;
}

describe('validateKeyGrant', () => {
  it('creates with defaults: cap 3, default min(3, cap), no limits, no weight', () => {
    expect(grantOf({ workload: 'fraud' })).toEqual({
      name: null,
      workloads: ['fraud'],
      maxCriticality: 3,
      defaultCriticality: 3,
      limits: {},
      weight: null,
    });
    expect(grantOf({ workload: 'fraud', maxCriticality: 2 }).defaultCriticality).toBe(2);
    expect(grantOf({ workload: 'fraud', maxCriticality: 5 }).defaultCriticality).toBe(3);
  });

  it.each([
    [{ weight: 0 }, 'weight'],
    [{ weight: -2 }, 'weight'],
    [{ weight: Number.MIN_VALUE }, 'weight'],
    [{ weight: 0.0009 }, 'weight'],
    // JSON has no NaN: a client that computed NaN sends null, which is not a weight either.
    [{ weight: Number.NaN }, 'weight'],
    [{ weight: null }, 'weight'],
    [{ weight: 1e9 }, 'weight'],
    [{ weight: Infinity }, 'weight'],
    [{ weight: '2' }, 'weight'],
    [{ maxCriticality: 6 }, 'maxCriticality'],
    [{ maxCriticality: 2.5 }, 'maxCriticality'],
    [{ maxCriticality: 2, defaultCriticality: 4 }, 'defaultCriticality'],
    [{ workloads: [] }, 'workloads'],
    [{ workloads: ['ok', ' padded'] }, 'workloads'],
    [{ workloads: ['tab\there'] }, 'workloads'],
    [{ limits: { maxInFlight: 0 } }, 'limits.maxInFlight'],
    [{ limits: { tokensPerMinute: Number.NaN } }, 'limits.tokensPerMinute'],
    [{ admin: true }, 'admin'],
  ])('rejects %j naming %s', (extra, field) => {
    const input = 'workloads' in extra ? extra : { workload: 'fraud', ...extra };
    const err = fieldOf(input);
    expect(err.field).toBe(field);
    expect(err.message.startsWith(field)).toBe(true);
  });

  it('requires a workload when creating', () => {
    expect(fieldOf({ maxCriticality: 3 }).field).toBe('workload');
  });

  it('accepts a weight from 0.001 to 1000', () => {
    expect(grantOf({ workload: 'w', weight: 0.001 }).weight).toBe(0.001);
    expect(grantOf({ workload: 'w', weight: 0.25 }).weight).toBe(0.25);
    expect(grantOf({ workload: 'w', weight: 1000 }).weight).toBe(1000);
  });

  it('updates: absent fields keep their value, limits merge, a lowered cap drags the default down', () => {
    const base = grantOf({
      workload: 'fraud',
      maxCriticality: 5,
      defaultCriticality: 4,
      limits: { maxInFlight: 2 },
      weight: 2,
    });
    const updated = grantOf({ maxCriticality: 3, limits: { requestsPerMinute: 60 } }, base);
    expect(updated).toMatchObject({
      workloads: ['fraud'],
      maxCriticality: 3,
      defaultCriticality: 3,
      limits: { maxInFlight: 2, requestsPerMinute: 60 },
      weight: 2,
    });
    expect(grantOf({ weight: null, limits: { maxInFlight: null } }, base)).toMatchObject({
      weight: null,
      limits: {},
    });
  });
});

describe('stored records and principals', () => {
  const hash = 'ab'.repeat(32);
  const stored = {
    id: hash.slice(0, 16),
    hash,
    createdAt: 1,
    updatedAt: 1,
    revokedAt: null,
    name: null,
    workloads: ['fraud'],
    maxCriticality: 3,
    defaultCriticality: 2,
    limits: { maxInFlight: 4 },
    weight: null,
  };

  it('reads a well-formed record back, and its principal', () => {
    const record = parseKeyRecord(stored);
    expect(record).not.toBeNull();
    expect(principalOf(record!)).toEqual({
      keyId: stored.id,
      workloads: ['fraud'],
      maxCriticality: 3,
      defaultCriticality: 2,
      limits: { maxInFlight: 4 },
      weight: null,
    });
  });

  it('a revoked record has no principal', () => {
    expect(principalOf(parseKeyRecord({ ...stored, revokedAt: 5 })!)).toBeNull();
  });

  it.each([
    ['an ID that is not the hash prefix', { ...stored, id: 'ff'.repeat(8) }],
    ['a hash that is not SHA-256 hex', { ...stored, hash: 'nope' }],
    ['a cap above 5', { ...stored, maxCriticality: 9 }],
    ['no workloads', { ...stored, workloads: [] }],
  ])('treats a record with %s as no key', (_label, raw) => {
    expect(parseKeyRecord(raw)).toBeNull();
  });
});

describe('bearer tokens and comparison', () => {
  it('reads Bearer <token> only', () => {
    expect(bearerToken('Bearer sk-sluice-abc')).toBe('sk-sluice-abc');
    expect(bearerToken('bearer  tok ')).toBe('tok');
    expect(bearerToken('Basic dXNlcg==')).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });

  it('key secrets have a fixed shape', () => {
    expect(API_KEY_PATTERN.test(`sk-sluice-${'A'.repeat(43)}`)).toBe(true);
    expect(API_KEY_PATTERN.test(`sk-sluice-${'A'.repeat(42)}`)).toBe(false);
    expect(API_KEY_PATTERN.test(`sk-other-${'A'.repeat(43)}`)).toBe(false);
  });

  it('constantTimeEqual is plain equality in its answers', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});

describe('TtlCache (the key lookup cache)', () => {
  it('serves an entry until exactly its TTL, then misses', () => {
    const cache = new TtlCache<string>(10_000);
    cache.set('k', 'v', 1_000);
    expect(cache.get('k', 10_999)).toBe('v');
    // A revocation written at 1 000 ms is seen by this isolate from 11 000 ms on.
    expect(cache.get('k', 11_000)).toBeUndefined();
  });

  it('does not let a clock that went backwards extend an entry', () => {
    const cache = new TtlCache<string>(10_000);
    cache.set('k', 'v', 5_000);
    expect(cache.get('k', 4_000)).toBeUndefined();
  });

  it('is bounded: the oldest entry goes first', () => {
    const cache = new TtlCache<number>(10_000, 2);
    cache.set('a', 1, 0);
    cache.set('b', 2, 1);
    cache.set('c', 3, 2);
    expect(cache.get('a', 3)).toBeUndefined();
    expect(cache.get('b', 3)).toBe(2);
    expect(cache.size).toBe(2);
  });

  it('a TTL of 0 caches nothing', () => {
    const cache = new TtlCache<number>(0);
    cache.set('a', 1, 0);
    expect(cache.get('a', 0)).toBeUndefined();
  });
});
