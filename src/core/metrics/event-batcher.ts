// Counts events seen by a Worker isolate (auth failures) and says when to hand them to a coordinator:
// at most one hand-off per interval, so a flood of refused requests cannot become a flood of Durable
// Object calls. What is not handed off yet goes with the next event after the interval, or with the
// isolate's next scrape (takeAll). No clock: `now` is a parameter.

/** One hand-off per second per isolate at most. */
export const EVENT_FLUSH_INTERVAL_MS = 1_000;

export class EventBatcher {
  #pending = 0;
  #lastFlushAt = -Infinity;
  readonly #intervalMs: number;

  constructor(intervalMs = EVENT_FLUSH_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /** Records one event; returns how many to hand off now (0: keep batching). */
  note(now: number): number {
    this.#pending++;
    if (now - this.#lastFlushAt < this.#intervalMs) return 0;
    return this.takeAll(now);
  }

  /** Everything pending, now (a scrape is about to read the coordinator's count). */
  takeAll(now: number): number {
    const n = this.#pending;
    this.#pending = 0;
    if (n > 0) this.#lastFlushAt = now;
    return n;
  }

  /** A hand-off failed: the events wait for the next one. */
  putBack(n: number): void {
    this.#pending += n;
  }
}
