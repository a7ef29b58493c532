// X-Workload-Context parsing: every fallback yields `default`/3 with the reason recorded; an ID that is
// present but unusable is an `invalid_workload_context` error; an API key's principal bounds both.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_WORKLOAD_HEADER_BYTES,
  parseWorkloadContext,
  resolvePrincipalContext,
  type ContextResult,
  type PrincipalContextResult,
  type DefaultReason,
} from '../../src/core/index.ts';

function expectContext(
  result: ContextResult,
  workloadId: string,
  criticality: number,
  defaulted: DefaultReason[],
): void {
  expect(result).toEqual({ ok: true, context: { workloadId, criticality }, defaulted });
}

function expectInvalid(result: ContextResult, messagePart: string): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.code).toBe('invalid_workload_context');
  expect(result.error.message).toContain(messagePart);
}

const header = (value: unknown): string => JSON.stringify(value);

describe('parseWorkloadContext: header fallbacks', () => {
  it.each([
    ['missing (undefined)', undefined],
    ['missing (null)', null],
    ['empty', ''],
    ['whitespace only', ' \t  '],
  ])('%s header → default/3, header_missing', (_label, value) => {
    expectContext(parseWorkloadContext(value), 'default', 3, ['header_missing']);
  });

  it('a header over 4 KiB (in UTF-8 bytes) → default/3, header_too_large, even if it is valid JSON', () => {
    const base = header({ workload_id: 'team-a', criticality: 5, pad: '' });
    const fill = (bytes: number): string =>
      header({ workload_id: 'team-a', criticality: 5, pad: 'x'.repeat(bytes) });
    const exact = fill(MAX_WORKLOAD_HEADER_BYTES - base.length);
    expect(exact.length).toBe(MAX_WORKLOAD_HEADER_BYTES);
    expectContext(parseWorkloadContext(exact), 'team-a', 5, []);

    const over = fill(MAX_WORKLOAD_HEADER_BYTES - base.length + 1);
    expectContext(parseWorkloadContext(over), 'default', 3, ['header_too_large']);
  });

  it('counts bytes, not UTF-16 units: 2-byte characters push a short string over the limit', () => {
    const value = header({ workload_id: 'team-a', pad: 'é'.repeat(2100) });
    expect(value.length).toBeLessThan(MAX_WORKLOAD_HEADER_BYTES);
    expectContext(parseWorkloadContext(value), 'default', 3, ['header_too_large']);
  });

  it.each([['{workload_id: "a"}'], ['{"workload_id": "a"'], ['team-a'], ["{'workload_id':'a'}"]])(
    'not JSON %s → default/3, header_not_json',
    (value) => {
      expectContext(parseWorkloadContext(value), 'default', 3, ['header_not_json']);
    },
  );

  it.each([['[]'], ['[{"workload_id":"a"}]'], ['5'], ['null'], ['"team-a"'], ['true']])(
    'JSON that is not an object %s → default/3, header_not_object',
    (value) => {
      expectContext(parseWorkloadContext(value), 'default', 3, ['header_not_object']);
    },
  );
});

describe('parseWorkloadContext: workload_id', () => {
  it.each([
    ['missing', { criticality: 4 }],
    ['null', { workload_id: null, criticality: 4 }],
    ['a number', { workload_id: 42, criticality: 4 }],
    ['an object', { workload_id: { id: 'a' }, criticality: 4 }],
    ['empty', { workload_id: '', criticality: 4 }],
    ['whitespace', { workload_id: '  \t ', criticality: 4 }],
  ])('%s → default, workload_id_missing, criticality still read', (_label, value) => {
    expectContext(parseWorkloadContext(header(value)), 'default', 4, ['workload_id_missing']);
  });

  it('a valid ID is trimmed and kept, with no defaulted reasons', () => {
    expectContext(
      parseWorkloadContext(header({ workload_id: '  team-a ', criticality: 2 })),
      'team-a',
      2,
      [],
    );
  });

  it('128 characters is accepted; 129 is an invalid_workload_context error', () => {
    expectContext(
      parseWorkloadContext(header({ workload_id: 'a'.repeat(128), criticality: 3 })),
      'a'.repeat(128),
      3,
      [],
    );
    expectInvalid(parseWorkloadContext(header({ workload_id: 'a'.repeat(129) })), '128');
  });

  it('Unicode IDs are accepted and their length is counted in code points', () => {
    expectContext(
      parseWorkloadContext(header({ workload_id: '研究チーム', criticality: 5 })),
      '研究チーム',
      5,
      [],
    );
    const emoji = '🚀'.repeat(128); // 256 UTF-16 units, 128 code points
    expect(emoji.length).toBe(256);
    expectContext(parseWorkloadContext(header({ workload_id: emoji })), emoji, 3, ['criticality_missing']);
    expectInvalid(parseWorkloadContext(header({ workload_id: emoji + '🚀' })), '128');
    const cjk = '流'.repeat(128);
    expectContext(parseWorkloadContext(header({ workload_id: cjk, criticality: 1 })), cjk, 1, []);
    expectInvalid(parseWorkloadContext(header({ workload_id: cjk + '流' })), '128');
  });

  it.each([
    ['C0 (U+0001)', 'team\u0001a'],
    ['newline', 'team\na'],
    ['tab inside', 'team\ta'],
    ['DEL', 'team\u007fa'],
    ['C1 (U+0085)', 'team\u0085a'],
    ['C1 at the end (not trimmed)', 'team-a\u009f'],
  ])('a control character (%s) → invalid_workload_context', (_label, id) => {
    expectInvalid(parseWorkloadContext(header({ workload_id: id, criticality: 3 })), 'control');
  });
});

describe('parseWorkloadContext: criticality', () => {
  it.each([1, 2, 3, 4, 5])('%i is kept as is', (c) => {
    expectContext(parseWorkloadContext(header({ workload_id: 'w', criticality: c })), 'w', c, []);
  });

  it.each([
    ['missing', undefined, 'criticality_missing'],
    ['null', null, 'criticality_missing'],
    ['the string "5"', '5', 'criticality_not_integer'],
    ['4.5', 4.5, 'criticality_not_integer'],
    ['true', true, 'criticality_not_integer'],
    ['an array', [5], 'criticality_not_integer'],
  ] as const)('%s → 3 with reason %s', (_label, criticality, reason) => {
    expectContext(parseWorkloadContext(header({ workload_id: 'w', criticality })), 'w', 3, [reason]);
  });

  it.each([
    [0, 1],
    [-7, 1],
    [9, 5],
    [1e6, 5],
  ])('out-of-range integer %d is clamped to %d with criticality_clamped', (given, want) => {
    expectContext(parseWorkloadContext(header({ workload_id: 'w', criticality: given })), 'w', want, [
      'criticality_clamped',
    ]);
  });

  it('records every reason that applied, in order', () => {
    expectContext(parseWorkloadContext(header({ workload_id: ' ', criticality: 12 })), 'default', 5, [
      'workload_id_missing',
      'criticality_clamped',
    ]);
  });
});

describe('resolvePrincipalContext: authenticated mode (an API key)', () => {
  const key = { workloads: ['fraud', 'fraud-shadow'], maxCriticality: 3, defaultCriticality: 2 } as const;

  function expectResolved(
    result: PrincipalContextResult,
    workloadId: string,
    criticality: number,
    cappedFrom: number | null,
  ): void {
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.context).toEqual({ workloadId, criticality });
    expect(result.cappedFrom).toBe(cappedFrom);
  }

  it("without a header: the key's first workload at its default criticality", () => {
    expectResolved(resolvePrincipalContext(undefined, key), 'fraud', 2, null);
  });

  it('the header picks among the allowed workloads and may lower the criticality', () => {
    expectResolved(
      resolvePrincipalContext(header({ workload_id: 'fraud-shadow', criticality: 1 }), key),
      'fraud-shadow',
      1,
      null,
    );
  });

  it('a criticality above the cap is clamped to it, with what was asked', () => {
    const result = resolvePrincipalContext(header({ criticality: 5 }), key);
    expectResolved(result, 'fraud', 3, 5);
    expect(result.ok && result.defaulted).toContain('criticality_capped');
  });

  it('an out-of-range criticality is clamped to 1..5 first, then capped', () => {
    expectResolved(resolvePrincipalContext(header({ criticality: 99 }), key), 'fraud', 3, 5);
  });

  it("a workload outside the key's list is workload_not_allowed, naming it", () => {
    const result = resolvePrincipalContext(header({ workload_id: 'batch', criticality: 1 }), key);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('workload_not_allowed');
    expect(result.error.message).toContain("'batch'");
    // A refusal still says what the key allows (it becomes x-sluice-criticality).
    expect([result.criticality, result.cappedFrom]).toEqual([1, null]);
    const capped = resolvePrincipalContext(header({ workload_id: 'batch', criticality: 5 }), key);
    expect(!capped.ok && [capped.criticality, capped.cappedFrom]).toEqual([3, 5]);
  });

  it('an unusable header workload_id is still invalid_workload_context, with the criticality used', () => {
    const result = resolvePrincipalContext(header({ workload_id: 'x'.repeat(500) }), key);
    expect(!result.ok && result.error.code).toBe('invalid_workload_context');
    expect(!result.ok && result.criticality).toBe(2);
  });

  it('never yields a criticality above the cap nor a workload outside the list', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.json(), fc.record({ workload_id: fc.string(), criticality: fc.integer() })),
        (h) => {
          const result = resolvePrincipalContext(typeof h === 'string' ? h : JSON.stringify(h), key);
          if (!result.ok) return;
          expect(result.context.criticality).toBeLessThanOrEqual(key.maxCriticality);
          expect(key.workloads).toContain(result.context.workloadId);
        },
      ),
    );
  });
});

describe('parseWorkloadContext: control characters', () => {
  it('rejects a control character at either end of the ID instead of trimming it away', () => {
    const result = parseWorkloadContext(header({ workload_id: 'abc\t', criticality: 2 }));
    expect(result.ok).toBe(false);
  });
});

describe('parseWorkloadContext: totality', () => {
  it('never throws; always yields a usable context or an invalid_workload_context error', () => {
    const anyHeader = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.json(),
      fc
        .record({
          workload_id: fc.oneof(fc.string({ unit: 'binary' }), fc.anything()),
          criticality: fc.anything(),
        })
        .map((v) => JSON.stringify(v) ?? ''),
    );
    fc.assert(
      fc.property(fc.option(anyHeader, { nil: undefined }), (value) => {
        const result = parseWorkloadContext(value);
        if (!result.ok) {
          expect(result.error.code).toBe('invalid_workload_context');
          return;
        }
        const { workloadId, criticality } = result.context;
        expect([1, 2, 3, 4, 5]).toContain(criticality);
        expect(workloadId.trim()).toBe(workloadId);
        expect(workloadId.length).toBeGreaterThan(0);
        expect([...workloadId].length).toBeLessThanOrEqual(128);
        expect(/[\u0000-\u001f\u007f-\u009f]/.test(workloadId)).toBe(false);
        if (workloadId === 'default') return;
        expect(result.defaulted).not.toContain('header_missing');
      }),
      { seed: 20261122, numRuns: 500 },
    );
  });
});
