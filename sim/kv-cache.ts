// Tokens held in the simulated KV cache: each running request holds its prompt plus every token generated
// so far, until it ends. Pure bookkeeping, no timers; usage is what /metrics reports.

export interface KvLease {
  /** One more generated token held. */
  addToken(): void;
  /** Gives every token of this request back. Idempotent. */
  release(): void;
}

export class KvCache {
  readonly #capacityTokens: number;
  #heldTokens = 0;

  constructor(capacityTokens: number) {
    this.#capacityTokens = capacityTokens;
  }

  /** Tokens held by running requests; may exceed capacity (see `usage`). */
  get heldTokens(): number {
    return this.#heldTokens;
  }

  /**
   * Held tokens over capacity, clamped to 1: admission here is by slots only, so the sum can exceed the
   * capacity, where a real engine would preempt a request instead of growing.
   */
  get usage(): number {
    return Math.min(1, this.#heldTokens / this.#capacityTokens);
  }

  /** Held tokens, capped at capacity: what an engine with that much cache could report as used. */
  get usedTokens(): number {
    return Math.min(this.#heldTokens, this.#capacityTokens);
  }

  hold(promptTokens: number): KvLease {
    let held = promptTokens;
    let released = false;
    this.#heldTokens += promptTokens;
    return {
      addToken: () => {
        if (released) return;
        held++;
        this.#heldTokens++;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#heldTokens -= held;
      },
    };
  }
}
