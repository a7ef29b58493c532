// The leases a workload's running requests hold, by request ID. Most workloads of a busy pool hold none
// or one at any moment, and a process can host tens of thousands of workloads: the first entry lives in
// fields, and a Map (about 190 bytes empty) is made only while there are more. Iteration is in insertion
// order, as a Map's: what a workload persists and declares keeps the order it had.

export class RunningLeases<L> {
  #firstId: string | null = null;
  #first: L | null = null;
  /** Entries after the first, while there are any. */
  #more: Map<string, L> | null = null;

  get size(): number {
    return (this.#firstId === null ? 0 : 1) + (this.#more?.size ?? 0);
  }

  get(requestId: string): L | undefined {
    if (requestId === this.#firstId) return this.#first as L;
    return this.#more?.get(requestId);
  }

  set(requestId: string, lease: L): void {
    if (requestId === this.#firstId) {
      this.#first = lease;
    } else if (this.#more?.has(requestId)) {
      this.#more.set(requestId, lease);
    } else if (this.#firstId === null && this.#more === null) {
      // Empty: the field. (With entries in the map, a new one goes after them, to keep the order.)
      this.#firstId = requestId;
      this.#first = lease;
    } else {
      (this.#more ??= new Map()).set(requestId, lease);
    }
  }

  delete(requestId: string): boolean {
    if (requestId === this.#firstId) {
      this.#firstId = null;
      this.#first = null;
    } else if (!this.#more?.delete(requestId)) {
      return false;
    }
    if (this.#more !== null && this.#more.size === 0) this.#more = null;
    return true;
  }

  *entries(): IterableIterator<[string, L]> {
    if (this.#firstId !== null) yield [this.#firstId, this.#first as L];
    if (this.#more !== null) yield* this.#more;
  }

  *values(): IterableIterator<L> {
    for (const [, lease] of this.entries()) yield lease;
  }
}
