// The simulator's agenda: events in virtual-time order. Equal times come out by `rank` (completions
// before arrivals, see simulate.ts), then in insertion order, so a run never depends on heap layout.

export interface TimedEvent {
  readonly atMs: number;
  /** Breaks ties between events at the same instant; lower goes first. */
  readonly rank: number;
}

interface Entry<T> {
  readonly event: T;
  readonly seq: number;
}

export class EventQueue<T extends TimedEvent> {
  readonly #heap: Entry<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(event: T): void {
    this.#heap.push({ event, seq: this.#seq++ });
    this.#up(this.#heap.length - 1);
  }

  peekTime(): number | null {
    return this.#heap[0]?.event.atMs ?? null;
  }

  pop(): T | undefined {
    const top = this.#heap[0];
    const last = this.#heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.#heap.length > 0) {
      this.#heap[0] = last;
      this.#down(0);
    }
    return top.event;
  }

  #before(a: Entry<T>, b: Entry<T>): boolean {
    return (a.event.atMs - b.event.atMs || a.event.rank - b.event.rank || a.seq - b.seq) < 0;
  }

  #up(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(this.#at(i), this.#at(parent))) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(start: number): void {
    let i = start;
    const n = this.#heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.#before(this.#at(l), this.#at(best))) best = l;
      if (r < n && this.#before(this.#at(r), this.#at(best))) best = r;
      if (best === i) return;
      this.#swap(i, best);
      i = best;
    }
  }

  #at(i: number): Entry<T> {
    return this.#heap[i] as Entry<T>;
  }

  #swap(i: number, j: number): void {
    const a = this.#at(i);
    this.#heap[i] = this.#at(j);
    this.#heap[j] = a;
  }
}
