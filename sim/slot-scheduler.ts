// vLLM-style admission: at most `maxRunning` requests hold a slot, the rest wait in FIFO order, and a
// request beyond `maxWaiting` is turned away. Pure bookkeeping: no timers, no I/O.

export interface SlotTicket {
  /** Resolves true when the slot is granted, false if the ticket was released while still waiting. */
  readonly granted: Promise<boolean>;
  /** Frees the slot, or leaves the queue if still waiting. Idempotent. */
  release(): void;
}

interface Waiter {
  state: 'waiting' | 'running' | 'released';
  grant: (granted: boolean) => void;
}

export class SlotScheduler {
  readonly #maxRunning: number;
  readonly #maxWaiting: number;
  /** A Set keeps insertion order and deletes in O(1), so a cancelled waiter leaves the FIFO cheaply. */
  readonly #waiting = new Set<Waiter>();
  #running = 0;
  #maxRunningSeen = 0;
  /** Index k: admitted requests that found k others waiting (k = 0 also when a slot was free). */
  readonly #waitingAheadCounts: number[] = [];

  constructor(maxRunning: number, maxWaiting: number) {
    this.#maxRunning = maxRunning;
    this.#maxWaiting = maxWaiting;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.size;
  }

  get maxRunningSeen(): number {
    return this.#maxRunningSeen;
  }

  /**
   * How deep the FIFO was as each admitted request joined it, as counts by depth (index k: requests that
   * found k waiting). Recorded at the event itself, so unlike sampling `waiting` it misses no peak.
   */
  get waitingAheadCounts(): readonly number[] {
    return [...this.#waitingAheadCounts];
  }

  /** A ticket, or null when the waiting queue is full. Invariant: running <= maxRunning. */
  enqueue(): SlotTicket | null {
    if (this.#running >= this.#maxRunning && this.#waiting.size >= this.#maxWaiting) return null;
    let grant: (granted: boolean) => void = () => {};
    const granted = new Promise<boolean>((resolve) => {
      grant = resolve;
    });
    const waiter: Waiter = { state: 'waiting', grant };
    const ahead = this.#waiting.size;
    for (let k = this.#waitingAheadCounts.length; k <= ahead; k++) this.#waitingAheadCounts[k] = 0;
    this.#waitingAheadCounts[ahead] = (this.#waitingAheadCounts[ahead] ?? 0) + 1;
    this.#waiting.add(waiter);
    this.#promote();
    return { granted, release: () => this.#release(waiter) };
  }

  #release(waiter: Waiter): void {
    if (waiter.state === 'waiting') {
      this.#waiting.delete(waiter);
      waiter.grant(false);
    } else if (waiter.state === 'running') {
      this.#running--;
      this.#promote();
    }
    waiter.state = 'released';
  }

  #promote(): void {
    for (const waiter of this.#waiting) {
      if (this.#running >= this.#maxRunning) return;
      this.#waiting.delete(waiter);
      waiter.state = 'running';
      this.#running++;
      this.#maxRunningSeen = Math.max(this.#maxRunningSeen, this.#running);
      waiter.grant(true);
    }
  }
}
