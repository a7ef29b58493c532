// Binary heap with O(log n) push, pop and remove-by-key. Invariant: the comparator's order must not change
// while an item is inside the heap; callers keep keys time-invariant (see policy/types.ts).

export type Comparator<T> = (a: T, b: T) => number;

export class IndexedHeap<T> {
  readonly #items: T[] = [];
  readonly #index = new Map<string, number>();
  readonly #keyOf: (item: T) => string;
  readonly #before: Comparator<T>;

  /** `before(a, b) < 0` means `a` comes out first. */
  constructor(keyOf: (item: T) => string, before: Comparator<T>) {
    this.#keyOf = keyOf;
    this.#before = before;
  }

  get size(): number {
    return this.#items.length;
  }

  has(key: string): boolean {
    return this.#index.has(key);
  }

  get(key: string): T | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#items[i];
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const key = this.#keyOf(item);
    if (this.#index.has(key)) throw new Error(`IndexedHeap: duplicate key ${JSON.stringify(key)}`);
    this.#items.push(item);
    this.#index.set(key, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top === undefined) return undefined;
    this.#removeAt(0);
    return top;
  }

  remove(key: string): T | undefined {
    const i = this.#index.get(key);
    if (i === undefined) return undefined;
    const item = this.#items[i];
    this.#removeAt(i);
    return item;
  }

  values(): IterableIterator<T> {
    return this.#items.values();
  }

  #removeAt(i: number): void {
    this.#index.delete(this.#keyOf(this.#at(i)));
    const last = this.#items.pop() as T;
    if (i === this.#items.length) return;
    this.#items[i] = last;
    this.#index.set(this.#keyOf(last), i);
    if (!this.#up(i)) this.#down(i);
  }

  #up(start: number): boolean {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#before(this.#at(i), this.#at(parent)) >= 0) break;
      this.#swap(i, parent);
      i = parent;
    }
    return i !== start;
  }

  #down(start: number): void {
    let i = start;
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.#before(this.#at(l), this.#at(best)) < 0) best = l;
      if (r < n && this.#before(this.#at(r), this.#at(best)) < 0) best = r;
      if (best === i) return;
      this.#swap(i, best);
      i = best;
    }
  }

  #at(i: number): T {
    return this.#items[i] as T;
  }

  #swap(i: number, j: number): void {
    const a = this.#at(i);
    const b = this.#at(j);
    this.#items[i] = b;
    this.#items[j] = a;
    this.#index.set(this.#keyOf(b), i);
    this.#index.set(this.#keyOf(a), j);
  }
}
