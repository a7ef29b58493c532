// Which failed dispatches fail over: a table over every failure kind and attempt count.

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_ATTEMPTS,
  ENDED,
  REASONS,
  ended,
  shouldFailover,
  type DispatchFailure,
} from '../../src/core/index.ts';

describe('shouldFailover', () => {
  it.each([
    [{ kind: 'no_response', end: ended('unreachable') }, true],
    [{ kind: 'no_response', end: ended('headers_timeout') }, false],
    [{ kind: 'no_response', end: ENDED.clientClosed }, false],
    [{ kind: 'status', status: 502 }, true],
    [{ kind: 'status', status: 503 }, true],
    [{ kind: 'status', status: 500 }, false],
    [{ kind: 'status', status: 504 }, false],
    [{ kind: 'status', status: 429 }, false],
    [{ kind: 'status', status: 400 }, false],
    [{ kind: 'status', status: 200 }, false],
  ] as Array<[DispatchFailure, boolean]>)('%j on the first attempt → %s', (failure, want) => {
    expect(shouldFailover(failure, 1, DEFAULT_MAX_ATTEMPTS)).toBe(want);
  });

  it('stops once the attempts are used up, whatever the failure', () => {
    for (const reason of REASONS) {
      expect(shouldFailover({ kind: 'no_response', end: ended(reason) }, 2, 2)).toBe(false);
    }
    expect(shouldFailover({ kind: 'status', status: 503 }, 3, 3)).toBe(false);
    expect(shouldFailover({ kind: 'status', status: 503 }, 2, 3)).toBe(true);
    expect(shouldFailover({ kind: 'status', status: 503 }, 1, 1)).toBe(false);
  });
});
