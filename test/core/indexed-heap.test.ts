// IndexedHeap and SlotHeap against a reference sorted array: push, pop, remove (by key, by slot), update
// and replace (keys changing in place), slot reuse, peek, get and has agree under random operation sequences.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexedHeap, KeyedSlotHeap, SlotHeap, type HeapSlot } from '../../src/core/index.ts';

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
  | { readonly kind: 'remove'; readonly pick: number }
  | { readonly kind: 'update'; readonly pick: number; readonly priority: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('push' as const), priority: fc.integer({ min: -20, max: 20 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pop' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      pick: fc.nat(),
      priority: fc.integer({ min: -20, max: 20 }),
    }),
  },
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
          } else if (op.kind === 'update') {
            // replace() on a key that may be absent (then nothing changes); the key's order moves.
            const key =
              everPushed.length === 0 ? 'none' : (everPushed[op.pick % everPushed.length] ?? 'none');
            const old = reference.find((i) => i.key === key);
            const item = { key, priority: op.priority, seq: old?.seq ?? -1 };
            expect(heap.replace(item)).toBe(old !== undefined);
            if (old) {
              reference = reference.filter((i) => i.key !== key);
              reference.push(item);
              reference.sort(before);
            }
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

describe('SlotHeap', () => {
  it('matches a sorted reference array with updates in place and slots filed again', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), fc.integer({ min: 1, max: 12 }), (ops, records) => {
        // A fixed set of records, each with one slot kept across its stays in the heap (as the dispatcher
        // keeps one per workload): push files a record that is out, reusing its slot.
        const heap = new SlotHeap<Item>(before);
        const slots: Array<HeapSlot<Item> | null> = Array.from({ length: records }, () => null);
        const items: Array<Item | null> = Array.from({ length: records }, () => null);
        let reference: Item[] = [];
        let seq = 0;
        for (const op of ops) {
          const r = op.kind === 'pop' ? -1 : (op.kind === 'push' ? seq : op.pick) % records;
          if (op.kind === 'push') {
            const item = { key: `k${r}`, priority: op.priority, seq };
            if (items[r] !== null) {
              // Still in: the heap refuses to file a slot twice.
              expect(() => heap.push(item, slots[r])).toThrow(/still in the heap/);
              seq++;
              continue;
            }
            seq++;
            slots[r] = heap.push(item, slots[r]);
            items[r] = item;
            reference.push(item);
            reference.sort(before);
          } else if (op.kind === 'pop') {
            const top = heap.pop();
            expect(top).toEqual(reference.shift());
            if (top) items[Number(top.key.slice(1))] = null;
          } else if (op.kind === 'remove') {
            const slot = slots[r] ?? null;
            const inHeap = items[r] !== null;
            expect(heap.holds(slot)).toBe(inHeap);
            if (slot !== null) expect(heap.remove(slot)).toBe(inHeap);
            reference = reference.filter((i) => i !== items[r]);
            items[r] = null;
          } else {
            const slot = slots[r];
            const old = items[r];
            if (slot === null || slot === undefined || old === null || old === undefined) continue;
            const item = { ...old, priority: op.priority };
            heap.update(slot, item);
            items[r] = item;
            reference = reference.filter((i) => i !== old);
            reference.push(item);
            reference.sort(before);
          }
          expect(heap.size).toBe(reference.length);
          expect(heap.peek()).toEqual(reference[0]);
        }
        const drained: Item[] = [];
        for (let item = heap.pop(); item; item = heap.pop()) drained.push(item);
        expect(drained).toEqual(reference);
      }),
      { seed: 5, numRuns: 300 },
    );
  });

  it('updateSameOrder swaps the item without moving it; remove of a slot already out is a no-op', () => {
    const heap = new SlotHeap<Item>(before);
    const a = heap.push({ key: 'a', priority: 1, seq: 0 });
    heap.push({ key: 'b', priority: 2, seq: 1 });
    heap.updateSameOrder(a, { key: 'a2', priority: 1, seq: 0 });
    expect(heap.peek()?.key).toBe('a2');
    expect(heap.remove(a)).toBe(true);
    expect(heap.remove(a)).toBe(false);
    expect(heap.holds(a)).toBe(false);
    expect([...heap.values()].map((i) => i.key)).toEqual(['b']);
  });
});

describe('SlotHeap with ties (a partial order)', () => {
  // The swapping heap SlotHeap replaced, kept here as the reference: callers whose order has ties (the
  // registry's in-flight heap, by time alone) must see equal items come out in the same order as before.
  class SwapHeap<T> {
    readonly items: T[] = [];
    readonly before: (a: T, b: T) => number;
    constructor(before: (a: T, b: T) => number) {
      this.before = before;
    }
    push(item: T): void {
      this.items.push(item);
      this.up(this.items.length - 1);
    }
    removeAt(i: number): void {
      const last = this.items.pop() as T;
      if (i === this.items.length) return;
      this.items[i] = last;
      if (!this.up(i)) this.down(i);
    }
    up(start: number): boolean {
      let i = start;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (this.before(this.items[i] as T, this.items[p] as T) >= 0) break;
        this.swap(i, p);
        i = p;
      }
      return i !== start;
    }
    down(start: number): void {
      let i = start;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        const n = this.items.length;
        if (l < n && this.before(this.items[l] as T, this.items[best] as T) < 0) best = l;
        if (r < n && this.before(this.items[r] as T, this.items[best] as T) < 0) best = r;
        if (best === i) return;
        this.swap(i, best);
        i = best;
      }
    }
    swap(i: number, j: number): void {
      const a = this.items[i] as T;
      this.items[i] = this.items[j] as T;
      this.items[j] = a;
    }
  }

  it('pushes, removes and pops equal items in the same order as a swapping heap', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const byPriority = (a: Item, b: Item): number => a.priority - b.priority;
        const heap = new SlotHeap<Item>(byPriority);
        const swap = new SwapHeap<Item>(byPriority);
        const slots = new Map<Item, HeapSlot<Item>>();
        let seq = 0;
        for (const op of ops) {
          if (op.kind === 'push') {
            // Priorities in 0..2: most items tie.
            const item = { key: `k${seq}`, priority: Math.abs(op.priority) % 3, seq: seq++ };
            slots.set(item, heap.push(item));
            swap.push(item);
          } else if (op.kind === 'pop') {
            const top = swap.items[0];
            if (top !== undefined) swap.removeAt(0);
            expect(heap.pop()).toBe(top);
          } else if (swap.items.length > 0) {
            // remove (update is remove-and-push for this comparison: a partial order has no in-place rule)
            const victim = swap.items[op.pick % swap.items.length] as Item;
            swap.removeAt(swap.items.indexOf(victim));
            heap.remove(slots.get(victim) as HeapSlot<Item>);
          }
          expect([...heap.values()]).toEqual(swap.items);
        }
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});

describe('KeyedSlotHeap', () => {
  // It must be a SlotHeap with the comparator `key difference || tie` in every respect, layout included:
  // the dispatcher's orders moved to it, and which of two equal heads goes first must not change.
  it('keeps the same layout as a SlotHeap with the equivalent comparator, ascending and descending', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), fc.boolean(), (ops, descending) => {
        // Small priorities (many key ties) and a tie-break with ties of its own (a partial order).
        const tie = (a: Item, b: Item): number => (a.seq % 3) - (b.seq % 3);
        const byKey = (a: Item, b: Item): number =>
          (descending ? b.priority - a.priority : a.priority - b.priority) || tie(a, b);
        const keyed = new KeyedSlotHeap<Item>(
          (i) => i.priority,
          descending ? 'descending' : 'ascending',
          tie,
        );
        const plain = new SlotHeap<Item>(byKey);
        const live: Array<{ keyed: HeapSlot<Item>; plain: HeapSlot<Item> }> = [];
        const out: Array<{ keyed: HeapSlot<Item>; plain: HeapSlot<Item> }> = [];
        let seq = 0;
        for (const op of ops) {
          if (op.kind === 'push') {
            const item = { key: `k${seq}`, priority: op.priority % 4, seq: seq++ };
            // Now and then a slot that is out is filled again, as the dispatcher does.
            const reuse = seq % 2 === 0 ? out.pop() : undefined;
            live.push({ keyed: keyed.push(item, reuse?.keyed), plain: plain.push(item, reuse?.plain) });
          } else if (op.kind === 'pop') {
            const top = keyed.peek();
            expect(top).toBe(plain.peek());
            const at = live.findIndex((s) => s.keyed.item === top);
            if (at >= 0) {
              const [s] = live.splice(at, 1);
              if (s) {
                expect(keyed.remove(s.keyed)).toBe(true);
                expect(plain.remove(s.plain)).toBe(true);
                out.push(s);
              }
            }
          } else if (live.length > 0) {
            const s = live[op.pick % live.length] as { keyed: HeapSlot<Item>; plain: HeapSlot<Item> };
            if (op.kind === 'remove') {
              live.splice(live.indexOf(s), 1);
              expect(keyed.remove(s.keyed)).toBe(true);
              expect(plain.remove(s.plain)).toBe(true);
              expect(keyed.remove(s.keyed)).toBe(false);
              out.push(s);
            } else {
              const item = { ...s.keyed.item, priority: op.priority % 4 };
              keyed.update(s.keyed, item);
              plain.update(s.plain, item);
            }
          }
          expect(keyed.size).toBe(plain.size);
          expect([...keyed.values()]).toEqual([...plain.values()]);
          for (const s of live) expect(keyed.holds(s.keyed)).toBe(true);
          for (const s of out) expect(keyed.holds(s.keyed)).toBe(false);
        }
      }),
      { seed: 17, numRuns: 300 },
    );
  });
});
