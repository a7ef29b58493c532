// Binary heaps with O(log n) push, pop and removal: SlotHeap hands out a slot per item (for a caller that
// already keeps a record per item), IndexedHeap finds items by key. Invariant: the comparator's order must
// not change while an item is inside; callers keep keys time-invariant (see policy/types.ts) and change an
// item's order only through update().

export type Comparator<T> = (a: T, b: T) => number;

/** Where an item sits in a SlotHeap; `at` is -1 once it is out. Opaque to callers. */
export interface HeapSlot<T> {
  readonly item: T;
}

interface Slot<T> extends HeapSlot<T> {
  item: T;
  at: number;
}

/** Every empty heap's array until its first item (it is never written: #grow replaces it first). */
const NO_SLOTS: never[] = [];

/** The slot `item` goes into at `at`: `reuse` (a slot of this heap that is out now) filled, or a new one. */
function slotFor<T>(item: T, at: number, reuse: HeapSlot<T> | null | undefined, heap: string): Slot<T> {
  const slot = reuse as Slot<T> | null | undefined;
  if (slot === undefined || slot === null) return { item, at };
  if (slot.at >= 0) throw new Error(`${heap}: the slot to reuse is still in the heap`);
  slot.item = item;
  slot.at = at;
  return slot;
}

/**
 * The heap's first `size` slots in an array twice as long (one slot when empty): grown by doubling from
 * one, not by Array.push, whose first growth reserves 17 slots.
 */
function grownSlots<T>(slots: ReadonlyArray<Slot<T> | undefined>, size: number): Array<Slot<T> | undefined> {
  const grown = new Array<Slot<T> | undefined>(Math.max(1, 2 * size));
  for (let i = 0; i < size; i++) grown[i] = slots[i];
  return grown;
}

/**
 * Slots move, not items: a sift writes each moved slot's `at` (one property store), where keeping
 * positions in a map cost a Map.set per swap.
 */
export class SlotHeap<T> {
  /**
   * The heap in [0, #size); the rest is spare room. Grown by doubling from one slot, not by Array.push:
   * push's first growth reserves 17 slots, and most of these heaps (a workload's queue, its requests in
   * flight) hold a few items in a process holding tens of thousands of them.
   */
  #slots: Array<Slot<T> | undefined> = NO_SLOTS;
  #size = 0;
  readonly #before: Comparator<T>;

  /** `before(a, b) < 0` means `a` comes out first. */
  constructor(before: Comparator<T>) {
    this.#before = before;
  }

  get size(): number {
    return this.#size;
  }

  peek(): T | undefined {
    return this.#size > 0 ? (this.#slots[0] as Slot<T>).item : undefined;
  }

  /**
   * Puts `item` in. `reuse`, a slot this heap handed out that is out now, is filled instead of a new one:
   * a caller that files the same record again and again allocates nothing.
   */
  push(item: T, reuse?: HeapSlot<T> | null): HeapSlot<T> {
    const slot = slotFor(item, this.#size, reuse, 'SlotHeap');
    if (this.#size === this.#slots.length) this.#grow();
    this.#slots[this.#size++] = slot;
    this.#up(slot);
    return slot;
  }

  /** Whether the slot's item is in the heap (a slot from this heap, or null). */
  holds(handle: HeapSlot<T> | null): boolean {
    return handle !== null && (handle as Slot<T>).at >= 0;
  }

  pop(): T | undefined {
    if (this.#size === 0) return undefined;
    const top = this.#slots[0] as Slot<T>;
    this.remove(top);
    return top.item;
  }

  /** Takes the slot's item out; false if it was already out. The slot must come from this heap. */
  remove(handle: HeapSlot<T>): boolean {
    const slot = handle as Slot<T>;
    if (slot.at < 0) return false;
    const last = this.#slots[--this.#size] as Slot<T>;
    this.#slots[this.#size] = undefined;
    if (last !== slot) {
      last.at = slot.at;
      this.#slots[slot.at] = last;
      if (!this.#up(last)) this.#down(last);
    }
    slot.at = -1;
    return true;
  }

  /**
   * Puts `item` in the slot and restores the order around it: for a total order, the same pop order as
   * remove() then push().
   */
  update(handle: HeapSlot<T>, item: T): void {
    const slot = handle as Slot<T>;
    slot.item = item;
    if (slot.at >= 0 && !this.#up(slot)) this.#down(slot);
  }

  /**
   * update() for an item the caller knows compares exactly as the one it replaces (against every other
   * item): no sift. Passing one that does not breaks the heap's order.
   */
  updateSameOrder(handle: HeapSlot<T>, item: T): void {
    (handle as Slot<T>).item = item;
  }

  *values(): IterableIterator<T> {
    const slots = this.#slots;
    for (let i = 0; i < this.#size; i++) yield (slots[i] as Slot<T>).item;
  }

  #grow(): void {
    this.#slots = grownSlots(this.#slots, this.#size);
  }

  /** Moves `slot` toward the root while it comes out before its parent; true if it moved. */
  #up(slot: Slot<T>): boolean {
    const slots = this.#slots;
    const start = slot.at;
    let i = start;
    while (i > 0) {
      const parentAt = (i - 1) >> 1;
      const parent = slots[parentAt] as Slot<T>;
      if (this.#before(slot.item, parent.item) >= 0) break;
      slots[i] = parent;
      parent.at = i;
      i = parentAt;
    }
    if (i === start) return false;
    slots[i] = slot;
    slot.at = i;
    return true;
  }

  /**
   * Moves `slot` toward the leaves while a child comes out before it. The same comparisons, in the same
   * order, as swapping down (left child first, ties stay), so the layout is the same as a swapping heap's
   * whatever the comparator, a partial order included.
   */
  #down(slot: Slot<T>): void {
    const slots = this.#slots;
    const n = this.#size;
    let i = slot.at;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let best = slots[l] as Slot<T>;
      let bestAt = l;
      if (this.#before(best.item, slot.item) >= 0) {
        best = slot;
        bestAt = i;
      }
      const r = l + 1;
      if (r < n) {
        const right = slots[r] as Slot<T>;
        if (this.#before(right.item, best.item) < 0) {
          best = right;
          bestAt = r;
        }
      }
      if (bestAt === i) break;
      slots[i] = best;
      best.at = i;
      i = bestAt;
    }
    slots[i] = slot;
    slot.at = i;
  }
}

/**
 * A SlotHeap ordered by a number per item, then a tie-break: `before(a, b)` is `key(a) - key(b) ||
 * tie(a, b)` (ascending) or `key(b) - key(a) || tie(a, b)` (descending), the same value a comparator
 * written that way returns, so the heap's layout and pop order are a SlotHeap's with that comparator.
 * The keys are copied into one array beside the slots, in heap order: a sift compares numbers in that
 * array and reads an item only on a tie, where a SlotHeap reads two slots and two items (and a boxed
 * number each) per level. In a heap of thousands of workloads those are mostly out of cache: the
 * dispatcher's orders are these. Invariant, as for SlotHeap: an item's key and order do not change while
 * it is inside, except through update().
 */
export class KeyedSlotHeap<T> {
  #slots: Array<Slot<T> | undefined> = NO_SLOTS;
  /** keys[i] = key(slots[i].item), for i in [0, #size). */
  #keys = new Float64Array(0);
  #size = 0;
  readonly #key: (item: T) => number;
  readonly #descending: boolean;
  readonly #tie: Comparator<T>;

  constructor(key: (item: T) => number, order: 'ascending' | 'descending', tie: Comparator<T>) {
    this.#key = key;
    this.#descending = order === 'descending';
    this.#tie = tie;
  }

  get size(): number {
    return this.#size;
  }

  peek(): T | undefined {
    return this.#size > 0 ? (this.#slots[0] as Slot<T>).item : undefined;
  }

  /** As SlotHeap.push. */
  push(item: T, reuse?: HeapSlot<T> | null): HeapSlot<T> {
    const slot = slotFor(item, this.#size, reuse, 'KeyedSlotHeap');
    if (this.#size === this.#slots.length) this.#grow();
    this.#slots[this.#size++] = slot;
    this.#up(slot, this.#key(item));
    return slot;
  }

  holds(handle: HeapSlot<T> | null): boolean {
    return handle !== null && (handle as Slot<T>).at >= 0;
  }

  /** As SlotHeap.remove. */
  remove(handle: HeapSlot<T>): boolean {
    const slot = handle as Slot<T>;
    if (slot.at < 0) return false;
    const lastAt = --this.#size;
    const last = this.#slots[lastAt] as Slot<T>;
    this.#slots[lastAt] = undefined;
    if (last !== slot) {
      const key = this.#keys[lastAt] as number;
      last.at = slot.at;
      this.#slots[slot.at] = last;
      if (!this.#up(last, key)) this.#down(last, key);
    }
    slot.at = -1;
    return true;
  }

  /** As SlotHeap.update: the item's key is read again. */
  update(handle: HeapSlot<T>, item: T): void {
    const slot = handle as Slot<T>;
    slot.item = item;
    if (slot.at < 0) return;
    const key = this.#key(item);
    if (!this.#up(slot, key)) this.#down(slot, key);
  }

  *values(): IterableIterator<T> {
    const slots = this.#slots;
    for (let i = 0; i < this.#size; i++) yield (slots[i] as Slot<T>).item;
  }

  #grow(): void {
    this.#slots = grownSlots(this.#slots, this.#size);
    const keys = new Float64Array(this.#slots.length);
    keys.set(this.#keys.subarray(0, this.#size));
    this.#keys = keys;
  }

  /**
   * Slot `a` (key ka) before slot `b` (key kb), as the comparator the class comment spells out. Takes
   * the slots, not their items: an item is read only on a tie.
   */
  #before(a: Slot<T>, ka: number, b: Slot<T>, kb: number): number {
    return (this.#descending ? kb - ka : ka - kb) || this.#tie(a.item, b.item);
  }

  /** As SlotHeap's: moves `slot` (its item's key `key`) toward the root; true if it moved. */
  #up(slot: Slot<T>, key: number): boolean {
    const slots = this.#slots;
    const keys = this.#keys;
    const start = slot.at;
    let i = start;
    while (i > 0) {
      const parentAt = (i - 1) >> 1;
      const parentKey = keys[parentAt] as number;
      const parent = slots[parentAt] as Slot<T>;
      if (this.#before(slot, key, parent, parentKey) >= 0) break;
      slots[i] = parent;
      keys[i] = parentKey;
      parent.at = i;
      i = parentAt;
    }
    slots[i] = slot;
    keys[i] = key;
    if (i === start) return false;
    slot.at = i;
    return true;
  }

  /** As SlotHeap's #down: the same comparisons in the same order. */
  #down(slot: Slot<T>, key: number): void {
    const slots = this.#slots;
    const keys = this.#keys;
    const n = this.#size;
    let i = slot.at;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let best = slots[l] as Slot<T>;
      let bestKey = keys[l] as number;
      let bestAt = l;
      if (this.#before(best, bestKey, slot, key) >= 0) {
        best = slot;
        bestKey = key;
        bestAt = i;
      }
      const r = l + 1;
      if (r < n) {
        const rightKey = keys[r] as number;
        const right = slots[r] as Slot<T>;
        if (this.#before(right, rightKey, best, bestKey) < 0) {
          best = right;
          bestKey = rightKey;
          bestAt = r;
        }
      }
      if (bestAt === i) break;
      slots[i] = best;
      keys[i] = bestKey;
      best.at = i;
      i = bestAt;
    }
    slots[i] = slot;
    keys[i] = key;
    slot.at = i;
  }
}

/** A SlotHeap whose items are found by a string key. */
export class IndexedHeap<T> {
  readonly #heap: SlotHeap<T>;
  readonly #index = new Map<string, HeapSlot<T>>();
  readonly #keyOf: (item: T) => string;

  /** `before(a, b) < 0` means `a` comes out first. */
  constructor(keyOf: (item: T) => string, before: Comparator<T>) {
    this.#keyOf = keyOf;
    this.#heap = new SlotHeap(before);
  }

  get size(): number {
    return this.#heap.size;
  }

  has(key: string): boolean {
    return this.#index.has(key);
  }

  get(key: string): T | undefined {
    return this.#index.get(key)?.item;
  }

  peek(): T | undefined {
    return this.#heap.peek();
  }

  push(item: T): void {
    const key = this.#keyOf(item);
    if (this.#index.has(key)) throw new Error(`IndexedHeap: duplicate key ${JSON.stringify(key)}`);
    this.#index.set(key, this.#heap.push(item));
  }

  pop(): T | undefined {
    const top = this.#heap.pop();
    if (top !== undefined) this.#index.delete(this.#keyOf(top));
    return top;
  }

  remove(key: string): T | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) return undefined;
    this.#index.delete(key);
    this.#heap.remove(slot);
    return slot.item;
  }

  /**
   * Puts `item` in place of the item with the same key and restores the order around it; false (and
   * nothing changes) if no item has that key. For a total order, the same pop order as remove() then push().
   */
  replace(item: T): boolean {
    const slot = this.#index.get(this.#keyOf(item));
    if (slot === undefined) return false;
    this.#heap.update(slot, item);
    return true;
  }

  /** replace() for an item that compares exactly as the one it replaces (see SlotHeap.updateSameOrder). */
  replaceSameOrder(item: T): boolean {
    const slot = this.#index.get(this.#keyOf(item));
    if (slot === undefined) return false;
    this.#heap.updateSameOrder(slot, item);
    return true;
  }

  values(): IterableIterator<T> {
    return this.#heap.values();
  }
}
