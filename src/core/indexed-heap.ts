// Binary heap with O(log n) push, pop, remove-by-key and replace-by-key. Invariant: the comparator's order
// must not change while an item is inside the heap; callers keep keys time-invariant (see policy/types.ts)
// and change an item's order only through replace().

export type Comparator<T> = (a: T, b: T) => number;

/**
 * An item and where it sits. The key's map entry points at the slot, so a sift moves slots and writes
 * their `at`: one property store per move, where keeping positions in the map cost a Map.set per swap.
 */
interface Slot<T> {
  item: T;
  at: number;
}

export class IndexedHeap<T> {
  readonly #slots: Array<Slot<T>> = [];
  readonly #index = new Map<string, Slot<T>>();
  readonly #keyOf: (item: T) => string;
  readonly #before: Comparator<T>;

  /** `before(a, b) < 0` means `a` comes out first. */
  constructor(keyOf: (item: T) => string, before: Comparator<T>) {
    this.#keyOf = keyOf;
    this.#before = before;
  }

  get size(): number {
    return this.#slots.length;
  }

  has(key: string): boolean {
    return this.#index.has(key);
  }

  get(key: string): T | undefined {
    return this.#index.get(key)?.item;
  }

  peek(): T | undefined {
    return this.#slots[0]?.item;
  }

  push(item: T): void {
    const key = this.#keyOf(item);
    if (this.#index.has(key)) throw new Error(`IndexedHeap: duplicate key ${JSON.stringify(key)}`);
    const slot: Slot<T> = { item, at: this.#slots.length };
    this.#slots.push(slot);
    this.#index.set(key, slot);
    this.#up(slot);
  }

  pop(): T | undefined {
    const top = this.#slots[0];
    if (top === undefined) return undefined;
    this.#index.delete(this.#keyOf(top.item));
    this.#removeSlot(top);
    return top.item;
  }

  remove(key: string): T | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) return undefined;
    this.#index.delete(key);
    this.#removeSlot(slot);
    return slot.item;
  }

  /**
   * Puts `item` in place of the item with the same key and restores the order around it; false (and
   * nothing changes) if no item has that key. The same pop order as remove() then push(), for a total order.
   */
  replace(item: T): boolean {
    const slot = this.#index.get(this.#keyOf(item));
    if (slot === undefined) return false;
    slot.item = item;
    if (!this.#up(slot)) this.#down(slot);
    return true;
  }

  /**
   * replace() for an item the caller knows compares exactly as the one it replaces (against every other
   * item): no sift. Passing one that does not breaks the heap's order.
   */
  replaceSameOrder(item: T): boolean {
    const slot = this.#index.get(this.#keyOf(item));
    if (slot === undefined) return false;
    slot.item = item;
    return true;
  }

  *values(): IterableIterator<T> {
    for (const slot of this.#slots) yield slot.item;
  }

  /** Takes `slot` out (its key is already unmapped); the last slot fills the hole and is sifted. */
  #removeSlot(slot: Slot<T>): void {
    const last = this.#slots.pop() as Slot<T>;
    if (last === slot) return;
    last.at = slot.at;
    this.#slots[slot.at] = last;
    if (!this.#up(last)) this.#down(last);
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
   * order, as swapping down (left child first, ties stay), so the layout is the same whatever the
   * comparator, a partial order included.
   */
  #down(slot: Slot<T>): void {
    const slots = this.#slots;
    const n = slots.length;
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
