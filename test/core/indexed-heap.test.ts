// IndexedHeap against a reference sorted array: push, pop, remove-by-key, peek, get and has agree under
// random operation sequences.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexedHeap } from '../../src/core/index.ts';

interface Item {
  readonly key: string;
  readonly priority: number;
  readonly seq: number;
}

// A total order, so the reference's order is unique and comparable element by element.
const before = (a: Item, b: Item): number => a.priority - b.priority || a.seq - b.seq;

type Op =
  | { readonly kind: 'push'; readonly priority: number }
  | { readonly kind: 'pop' }
  | { readonly kind: 'remove'; readonly pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('push' as const), priority: fc.integer({ min: -20, max: 20 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pop' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
);

describe('IndexedHeap', () => {
  it('matches a sorted reference array under random push/pop/remove sequences', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const heap = new IndexedHeap<Item>((i) => i.key, before);
        let reference: Item[] = [];
        const everPushed: string[] = [];
        let seq = 0;
        for (const op of ops) {
          if (op.kind === 'push') {
            const item = { key: `k${seq}`, priority: op.priority, seq: seq++ };
            heap.push(item);
            everPushed.push(item.key);
            reference.push(item);
            reference.sort(before);
          } else if (op.kind === 'pop') {
            expect(heap.pop()).toEqual(reference.shift());
          } else {
            // Pick among every key ever pushed, so removing an absent key is exercised too.
            const key =
              everPushed.length === 0 ? 'none' : (everPushed[op.pick % everPushed.length] ?? 'none');
            const expected = reference.find((i) => i.key === key);
            expect(heap.remove(key)).toEqual(expected);
            reference = reference.filter((i) => i.key !== key);
          }
          expect(heap.size).toBe(reference.length);
          expect(heap.peek()).toEqual(reference[0]);
          for (const key of everPushed) {
            const inRef = reference.find((i) => i.key === key);
            expect(heap.has(key)).toBe(inRef !== undefined);
            expect(heap.get(key)).toEqual(inRef);
          }
        }
        const drained: Item[] = [];
        for (let item = heap.pop(); item; item = heap.pop()) drained.push(item);
        expect(drained).toEqual(reference);
        expect(heap.size).toBe(0);
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it('values() yields every item exactly once', () => {
    const heap = new IndexedHeap<Item>((i) => i.key, before);
    for (let i = 0; i < 20; i++) heap.push({ key: `k${i}`, priority: (i * 7) % 5, seq: i });
    heap.remove('k3');
    heap.pop();
    const keys = [...heap.values()].map((i) => i.key).sort();
    expect(keys).toHaveLength(18);
    expect(new Set(keys).size).toBe(18);
    expect(keys).not.toContain('k3');
  });

  it('rejects a duplicate key without changing the heap', () => {
    const heap = new IndexedHeap<Item>((i) => i.key, before);
    heap.push({ key: 'a', priority: 1, seq: 0 });
    expect(() => heap.push({ key: 'a', priority: 0, seq: 1 })).toThrow(/duplicate key/);
    expect(heap.size).toBe(1);
    expect(heap.peek()).toEqual({ key: 'a', priority: 1, seq: 0 });
  });

  it('pop and remove on an empty heap return undefined', () => {
    const heap = new IndexedHeap<Item>((i) => i.key, before);
    expect(heap.pop()).toBeUndefined();
    expect(heap.remove('x')).toBeUndefined();
    expect(heap.peek()).toBeUndefined();
  });
});
