// The inference side of "Secure by default": what an Authorization header means under AUTH on and off,
// and what a stored record says of a presented key (core/inference-access.ts). The worker only reads KV.

import { describe, expect, it } from 'vitest';
import { inferenceCredential, keyVerdict, type KeyRecord } from '../../src/core/index.ts';

const KEY = `sk-sluice-${'A'.repeat(43)}`;

describe('inferenceCredential', () => {
  it.each([
    // AUTH off: anything that is not a Sluice key is trusted (an SDK's placeholder key, no header).
    [false, null, { kind: 'trusted' }],
    [false, 'Bearer unused-under-auth-off', { kind: 'trusted' }],
    [false, 'Basic abc', { kind: 'trusted' }],
    // A Sluice key is held to its grant under either mode; a broken one is refused.
    [false, `Bearer ${KEY}`, { kind: 'lookup', key: KEY }],
    [false, 'Bearer sk-sluice-short', { kind: 'refused', reason: 'malformed' }],
    [true, `Bearer ${KEY}`, { kind: 'lookup', key: KEY }],
    // AUTH on: no header is missing, a header that is not a Sluice bearer key is malformed.
    [true, null, { kind: 'refused', reason: 'missing' }],
    [true, 'Basic abc', { kind: 'refused', reason: 'malformed' }],
    [true, 'Bearer sk-openai-xyz', { kind: 'refused', reason: 'malformed' }],
  ] as const)('AUTH %s, Authorization %j → %j', (authOn, header, expected) => {
    expect(inferenceCredential(authOn, header)).toEqual(expected);
  });
});

describe('keyVerdict', () => {
  const record = (revokedAt: number | null): KeyRecord => ({
    id: 'abcd',
    hash: 'abcd'.repeat(16),
    name: null,
    workloads: ['w'],
    maxCriticality: 3,
    defaultCriticality: 3,
    limits: {},
    weight: null,
    createdAt: 0,
    updatedAt: 0,
    revokedAt,
  });

  it('needs the whole hash to match the record under its ID', () => {
    expect(keyVerdict(null, 'abcd'.repeat(16))).toEqual({ ok: false, reason: 'unknown' });
    expect(keyVerdict(record(null), `${'abcd'.repeat(15)}abce`)).toEqual({ ok: false, reason: 'unknown' });
    expect(keyVerdict(record(null), 'abcd'.repeat(16))).toMatchObject({ ok: true });
  });

  it('refuses a revoked key as revoked, not unknown', () => {
    expect(keyVerdict(record(5), 'abcd'.repeat(16))).toEqual({ ok: false, reason: 'revoked' });
  });
});
