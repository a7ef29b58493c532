// Coalesced, deferred storage writes for the Durable Objects. A storage write on the request path costs
// milliseconds (the runtime holds outgoing messages until it is durable), and every request changes a
// registry entry and a lease several times; so changes are marked dirty and written together at most
// once per PERSIST_DELAY_MS. The price: a crash may lose the last PERSIST_DELAY_MS of counter updates;
// leases lost that way are freed by their expiry, so no slot leaks for longer than the lease TTL.

export const PERSIST_DELAY_MS = 200;

export class WriteBehind {
  readonly #flush: () => void;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(flush: () => void) {
    this.#flush = flush;
  }

  /** Asks for a write soon; many asks before it happens make one write. */
  mark(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#flush();
    }, PERSIST_DELAY_MS);
  }

  /** Drops a pending write (the state it would write was deleted). */
  cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
