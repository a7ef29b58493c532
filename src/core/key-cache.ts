// A bounded time-to-live cache for key lookups, kept in one Worker isolate's memory. Its TTL is the part
// of a revocation's delay that Sluice controls (the rest is KV's own propagation). Time is a parameter.

/** Keys read in the last 10 s are not read again: a revocation takes effect ≤ 10 s + KV propagation. */
export const DEFAULT_KEY_CACHE_TTL_MS = 10_000;
/** Bounds the memory one isolate spends on keys (and on remembered misses, which a flood of guesses fills). */
export const DEFAULT_KEY_CACHE_MAX_ENTRIES = 10_000;

export class TtlCache<V> {
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** Insertion order is age order, so the first entry is the oldest (evicted first when full). */
  readonly #entries = new Map<string, { readonly value: V; readonly storedAt: number }>();

  constructor(ttlMs: number = DEFAULT_KEY_CACHE_TTL_MS, maxEntries: number = DEFAULT_KEY_CACHE_MAX_ENTRIES) {
    if (!(ttlMs >= 0) || !Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`TtlCache: need ttlMs ≥ 0 and maxEntries ≥ 1, got ${ttlMs}, ${maxEntries}`);
    }
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  /** The value stored less than ttlMs before `now`; undefined when absent or expired. */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    // A clock that went backwards must not extend an entry's life either.
    if (now - entry.storedAt >= this.ttlMs || now < entry.storedAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, now: number): void {
    if (this.ttlMs === 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, storedAt: now });
  }

  get size(): number {
    return this.#entries.size;
  }
}
