// The operator endpoints' access table (README "Secure by default").

import { describe, expect, it } from 'vitest';
import { operatorAccess } from '../../src/core/index.ts';

const KEY = `sk-sluice-${'A'.repeat(43)}`;

describe('operatorAccess', () => {
  it.each([
    [true, null, undefined, { kind: 'closed' }],
    [false, null, undefined, { kind: 'open' }],
    [true, 's3cret', 'Bearer s3cret', { kind: 'open' }],
    [false, 's3cret', 'Bearer s3cret', { kind: 'open' }],
    [true, 's3cret', undefined, { kind: 'unauthorized', inferenceKey: false }],
    [false, 's3cret', 'Bearer s3cre', { kind: 'unauthorized', inferenceKey: false }],
    [true, 's3cret', `Bearer ${KEY}`, { kind: 'unauthorized', inferenceKey: true }],
  ] as const)('AUTH on=%s, token %s, header %s → %j', (authOn, token, header, expected) => {
    expect(operatorAccess(authOn, token, header)).toEqual(expected);
  });
});
