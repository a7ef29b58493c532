// followCursor (npm run keys -- list): every page's rows in order until next_cursor is null; stops at
// the page bound with the cursor to resume from; never loops on a router that repeats a cursor.

import { describe, expect, it } from 'vitest';
import { MAX_LIST_PAGES, followCursor, type CursorPage } from '../../scripts/follow-cursor.ts';

/** A listing of `total` numbered rows, `size` a page, with cursors `c<offset>` like an opaque token. */
function pagedRows(total: number, size: number) {
  const asked: Array<string | null> = [];
  const fetchPage = (cursor: string | null): Promise<CursorPage<number>> => {
    asked.push(cursor);
    const offset = cursor === null ? 0 : Number(cursor.slice(1));
    const data = Array.from({ length: Math.max(0, Math.min(size, total - offset)) }, (_, i) => offset + i);
    const next = offset + size < total ? `c${offset + size}` : null;
    return Promise.resolve({ data, next_cursor: next });
  };
  return { fetchPage, asked };
}

describe('followCursor', () => {
  it('follows next_cursor to the end: every row once, in order', async () => {
    const { fetchPage, asked } = pagedRows(5, 2);
    const rows: number[] = [];
    const done = await followCursor(fetchPage, (r) => rows.push(...r));
    expect(rows).toEqual([0, 1, 2, 3, 4]);
    expect(asked).toEqual([null, 'c2', 'c4']);
    expect(done).toEqual({ pages: 3, rows: 5, stoppedAt: null });
  });

  it('a router without cursors (no next_cursor field) is one page', async () => {
    const rows: string[] = [];
    const done = await followCursor(
      () => Promise.resolve({ data: ['a', 'b'] }),
      (r) => rows.push(...r),
    );
    expect(rows).toEqual(['a', 'b']);
    expect(done).toEqual({ pages: 1, rows: 2, stoppedAt: null });
  });

  it(`stops after ${MAX_LIST_PAGES} pages with the cursor to resume from, and resumes there`, async () => {
    const { fetchPage } = pagedRows(MAX_LIST_PAGES + 5, 1);
    const rows: number[] = [];
    const first = await followCursor(fetchPage, (r) => rows.push(...r));
    expect(first).toEqual({ pages: MAX_LIST_PAGES, rows: MAX_LIST_PAGES, stoppedAt: `c${MAX_LIST_PAGES}` });
    const rest = await followCursor(fetchPage, (r) => rows.push(...r), { from: first.stoppedAt });
    expect(rest).toEqual({ pages: 5, rows: 5, stoppedAt: null });
    expect(rows).toEqual(Array.from({ length: MAX_LIST_PAGES + 5 }, (_, i) => i));
  });

  it('a router that returns the cursor it was given is an error, not a loop', async () => {
    let calls = 0;
    const stuck = (): Promise<CursorPage<number>> => {
      calls++;
      return Promise.resolve({ data: [calls], next_cursor: 'same' });
    };
    await expect(followCursor(stuck, () => undefined)).rejects.toThrow(/returned the cursor it was given/);
    expect(calls).toBe(2);
  });
});
