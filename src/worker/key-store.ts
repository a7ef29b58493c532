// API keys in Workers KV: one entry per key, `key:<id>` → its record (the secret's SHA-256, never the
// secret; the ID is the hash's first 16 hex digits, so a lookup is one read). Lookups go through a short
// per-isolate cache (core/key-cache.ts); KV itself serves reads from its edge cache for up to 60 s.

import {
  API_KEY_PREFIX,
  bytesToBase64Url,
  KEY_ID_HEX_CHARS,
  TtlCache,
  keyIdOf,
  keyVerdict,
  parseKeyRecord,
  type KeyGrant,
  type KeyRecord,
  type KeyVerdict,
} from '../core/index.ts';

const KEY_PREFIX = 'key:';
/** The most keys one listing page holds: KV's own list limit, and with BULK_GET_KEYS it keeps a page at
 *  11 KV operations (one list, ten bulk reads), far below the platform's 1,000 per invocation. */
export const MAX_KEYS_PER_PAGE = 1000;
/** Keys per bulk read: the most one KV get accepts. */
const BULK_GET_KEYS = 100;

/** One page of keys in KV's key order (by ID); `cursor` is KV's own, null when the listing is complete. */
export interface KeyPage {
  readonly records: readonly KeyRecord[];
  readonly cursor: string | null;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A new secret: 32 random bytes, base64url. */
function newSecret(): string {
  return API_KEY_PREFIX + bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** One per isolate, rebuilt when the configured TTL changes (tests run several configs in one isolate). */
let cache: TtlCache<KeyRecord | null> | null = null;

function lookupCache(ttlMs: number): TtlCache<KeyRecord | null> {
  if (cache?.ttlMs !== ttlMs) cache = new TtlCache<KeyRecord | null>(ttlMs);
  return cache;
}

export class KeyStore {
  readonly #kv: KVNamespace;
  readonly #cacheTtlMs: number;

  constructor(kv: KVNamespace, cacheTtlMs: number) {
    this.#kv = kv;
    this.#cacheTtlMs = cacheTtlMs;
  }

  /**
   * The principal of a presented secret, which is well-formed (core's inferenceCredential checked its
   * shape). Unknown IDs are cached as misses too, so a flood of guesses costs KV one read per guess per
   * TTL at most.
   */
  async lookup(secret: string, now: number): Promise<KeyVerdict> {
    const hash = await sha256Hex(secret);
    const id = keyIdOf(hash);
    const cached = lookupCache(this.#cacheTtlMs);
    let record = cached.get(id, now);
    if (record === undefined) {
      record = await this.get(id);
      cached.set(id, record, now);
    }
    return keyVerdict(record, hash);
  }

  async get(id: string): Promise<KeyRecord | null> {
    if (!/^[0-9a-f]+$/.test(id) || id.length !== KEY_ID_HEX_CHARS) return null;
    return parseKeyRecord(await this.#kv.get(KEY_PREFIX + id, 'json'));
  }

  /** Stores a new key; the secret is returned here and never again. */
  async create(grant: KeyGrant, now: number): Promise<{ record: KeyRecord; secret: string }> {
    for (;;) {
      const secret = newSecret();
      const hash = await sha256Hex(secret);
      const id = keyIdOf(hash);
      // 64-bit IDs collide about never; if one does, draw again rather than overwrite a key.
      if ((await this.#kv.get(KEY_PREFIX + id)) !== null) continue;
      const record: KeyRecord = { ...grant, id, hash, createdAt: now, updatedAt: now, revokedAt: null };
      await this.put(record);
      return { record, secret };
    }
  }

  async put(record: KeyRecord): Promise<void> {
    await this.#kv.put(KEY_PREFIX + record.id, JSON.stringify(record));
  }

  /**
   * One page of at most `limit` keys (1..MAX_KEYS_PER_PAGE) after `cursor` (from the previous page).
   * The page may hold fewer than `limit` even when more follow (KV drops expired keys after counting),
   * so only a null cursor means the end.
   */
  async list(limit: number, cursor: string | null): Promise<KeyPage> {
    const listed = await this.#kv.list({ prefix: KEY_PREFIX, limit, ...(cursor === null ? {} : { cursor }) });
    const names = listed.keys.map((k) => k.name);
    // Bulk reads, BULK_GET_KEYS at a time (each is one KV operation): a read per key would take a full
    // page past the platform's 1,000 KV operations per invocation.
    const records: KeyRecord[] = [];
    for (let i = 0; i < names.length; i += BULK_GET_KEYS) {
      const batch = names.slice(i, i + BULK_GET_KEYS);
      const values = await this.#kv.get<unknown>(batch, 'json');
      // In the listing's order (by ID), so pages concatenate into one ordered listing.
      for (const name of batch) {
        const record = parseKeyRecord(values.get(name));
        if (record !== null) records.push(record);
      }
    }
    return { records, cursor: listed.list_complete ? null : listed.cursor };
  }
}
