// Auth failures are handed to a coordinator at most once per interval per isolate, and none is lost.

import { describe, expect, it } from 'vitest';
import { EventBatcher } from '../../src/core/index.ts';

describe('EventBatcher', () => {
  it('hands off the first event at once, then batches until the interval has passed', () => {
    const b = new EventBatcher(1_000);
    expect(b.note(0)).toBe(1);
    expect(b.note(10)).toBe(0);
    expect(b.note(500)).toBe(0);
    expect(b.note(1_000)).toBe(3);
  });

  it('loses nothing: a failed hand-off and a scrape collect the remainder', () => {
    const b = new EventBatcher(1_000);
    const first = b.note(0);
    b.putBack(first);
    expect(b.note(100)).toBe(0);
    expect(b.takeAll(200)).toBe(2);
    expect(b.takeAll(300)).toBe(0);
  });
});
