// Follows an admin listing's next_cursor page by page (GET /admin/keys), handing each page's rows on as
// they arrive. Bounded: a router that kept returning cursors (a bug) must not keep a CLI looping forever.

/** 100 pages of 1,000 keys: far more keys than one router is meant to hold. */
export const MAX_LIST_PAGES = 100;

export interface CursorPage<T> {
  readonly data: readonly T[];
  /** Absent from a router older than cursor paging: that is its only page. */
  readonly next_cursor?: string | null;
}

export interface Followed {
  readonly pages: number;
  readonly rows: number;
  /** The cursor of the first page not fetched when `maxPages` ran out; null when the listing ended. */
  readonly stoppedAt: string | null;
}

export async function followCursor<T>(
  fetchPage: (cursor: string | null) => Promise<CursorPage<T>>,
  onRows: (rows: readonly T[]) => void,
  options: { readonly from?: string | null; readonly maxPages?: number } = {},
): Promise<Followed> {
  const maxPages = options.maxPages ?? MAX_LIST_PAGES;
  let cursor = options.from ?? null;
  let pages = 0;
  let rows = 0;
  do {
    const page = await fetchPage(cursor);
    pages++;
    rows += page.data.length;
    onRows(page.data);
    const next = page.next_cursor ?? null;
    // The same cursor again would fetch the same page again, forever.
    if (next !== null && next === cursor) {
      throw new Error(`the router returned the cursor it was given (${next}); stopping`);
    }
    cursor = next;
  } while (cursor !== null && pages < maxPages);
  return { pages, rows, stoppedAt: cursor };
}
