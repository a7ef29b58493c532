// The simulator's agenda: events in virtual-time order. Equal times come out by `rank` (completions
// before arrivals, see simulate.ts), then in insertion order, so a run never depends on heap layout.
// Built on the core's IndexedHeap; the insertion sequence is both the tie-breaker and the key.

import { IndexedHeap } from '../src/core/indexed-heap.ts';

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
  readonly #heap = new IndexedHeap<Entry<T>>(
    (e) => String(e.seq),
    (a, b) => a.event.atMs - b.event.atMs || a.event.rank - b.event.rank || a.seq - b.seq,
  );
  #seq = 0;

  get size(): number {
    return this.#heap.size;
  }

  push(event: T): void {
    this.#heap.push({ event, seq: this.#seq++ });
  }

  peekTime(): number | null {
    return this.#heap.peek()?.event.atMs ?? null;
  }

  pop(): T | undefined {
    return this.#heap.pop()?.event;
  }
}
