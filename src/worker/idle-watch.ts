// The backend's idle limit for one response body, with one timer per stream instead of one per chunk: a
// long generation sends hundreds of chunks, and a timer set and cleared (and a promise raced) for each
// was a fixed cost per token. The limit counts only while a read is pending (see proxy.ts relay), so when
// the timer fires it checks how long the current read has waited and, if less than the limit, sleeps for
// the rest.

export class IdleWatch {
  readonly #limitMs: number;
  readonly #onIdle: () => void;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #readingSince: number | null = null;
  #idle = false;

  /** `onIdle` runs once, from the timer, when a read has waited `limitMs`. */
  constructor(limitMs: number, onIdle: () => void) {
    this.#limitMs = limitMs;
    this.#onIdle = onIdle;
  }

  /** True once the limit was reached (the read in progress then ends because onIdle cancelled it). */
  get idle(): boolean {
    return this.#idle;
  }

  /** A read starts at `now`. */
  reading(now: number): void {
    this.#readingSince = now;
    if (this.#timer === null && !this.#idle) this.#arm(this.#limitMs);
  }

  /** The read is over: a chunk, the end, or an error. Time until the next read does not count. */
  settled(): void {
    this.#readingSince = null;
  }

  dispose(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    this.#timer = null;
    const since = this.#readingSince;
    if (since === null) return;
    const left = since + this.#limitMs - Date.now();
    if (left > 0) {
      this.#arm(left);
      return;
    }
    this.#idle = true;
    this.#onIdle();
  }
}
