// The token usage a backend reports (OpenAI's `usage` object), read once as the response passes: from a
// whole JSON body, or incrementally from an SSE stream, where it may also drop the usage-only chunk that
// Sluice asked for on the client's behalf. Pure byte and text work; never buffers a stream it passes on
// unchanged, and never throws on what a backend sends (malformed events are ignored).

/** What the backend says it processed for one request. */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** Reads usage from a response as its bytes pass; `push` returns the bytes to pass on. */
export interface UsageReader {
  push(chunk: Uint8Array): Uint8Array;
  /** The end of the body: the bytes still held back, if any. */
  finish(): Uint8Array;
  /** The last usage seen so far (null when none). */
  readonly usage: TokenUsage | null;
}

/**
 * A JSON body longer than this is passed on without being read (usage unknown). Chat answers are far
 * smaller; large embedding batches can exceed it, and holding a copy of those is not worth the memory.
 */
export const MAX_USAGE_JSON_BYTES = 8 * 1024 * 1024;
/**
 * An SSE event longer than this stops the reader: the rest of the stream passes on unread. Real chunks
 * are a few hundred bytes; this only bounds what a misbehaving backend can make the router hold.
 */
export const MAX_USAGE_EVENT_BYTES = 1024 * 1024;

const EMPTY = new Uint8Array(0);
const LF = 0x0a;
const CR = 0x0d;
const OPEN_BRACE = 0x7b;

/**
 * The usage of a parsed response object or stream chunk, or null. `prompt_tokens` must be a count;
 * `completion_tokens` may be absent (embeddings report none) and then counts 0. vLLM and OpenAI send
 * `usage: null` on every chunk but the last when usage is asked for.
 */
export function usageOf(value: unknown): TokenUsage | null {
  if (typeof value !== 'object' || value === null) return null;
  const usage = (value as Record<string, unknown>)['usage'];
  if (typeof usage !== 'object' || usage === null) return null;
  const u = usage as Record<string, unknown>;
  const prompt = u['prompt_tokens'];
  const completion = u['completion_tokens'] ?? 0;
  if (!isTokenCount(prompt) || !isTokenCount(completion)) return null;
  return { promptTokens: prompt, completionTokens: completion };
}

/** A token count as reported and as stored: a non-negative safe integer. */
export function isTokenCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** The usage of a whole JSON response body; null if it is not JSON or carries none. */
export function readJsonUsage(body: Uint8Array | string): TokenUsage | null {
  try {
    return usageOf(JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body)));
  } catch {
    return null;
  }
}

/** Collects a JSON body as it passes (unchanged) and reads its usage at the end. */
export class JsonUsageReader implements UsageReader {
  #chunks: Uint8Array[] | null = [];
  #bytes = 0;
  #usage: TokenUsage | null = null;

  push(chunk: Uint8Array): Uint8Array {
    if (this.#chunks !== null) {
      this.#bytes += chunk.byteLength;
      if (this.#bytes > MAX_USAGE_JSON_BYTES) this.#chunks = null;
      else this.#chunks.push(chunk.slice());
    }
    return chunk;
  }

  finish(): Uint8Array {
    if (this.#chunks !== null) this.#usage = readJsonUsage(concat(this.#chunks, this.#bytes));
    this.#chunks = null;
    return EMPTY;
  }

  get usage(): TokenUsage | null {
    return this.#usage;
  }
}

export interface SseUsageReaderOptions {
  /**
   * Sluice added `stream_options.include_usage` to the request: the client did not ask for the
   * usage-only chunk (`choices: []` with `usage`), so it is removed from what the client receives.
   */
  readonly dropUsageOnly: boolean;
}

/**
 * Reads `data:` events from an SSE byte stream split anywhere. Lines end in LF, CRLF or CR (a CRLF may be
 * split between chunks); an event ends at a blank line; comments and other fields are ignored. Line
 * ends are ASCII and never occur inside a UTF-8 sequence, so lines are cut on bytes and each whole line
 * is decoded: a character split between chunks is never mangled, and the bytes passed on are exactly the
 * bytes received. An unterminated event at the end is not an event (as the SSE spec says clients treat
 * it), so it is passed on but not read.
 *
 * Without dropping, every chunk is passed on as it came, at once. With dropping, an event is passed on
 * once it is complete and known to stay: the bytes of an unfinished event wait for its blank line.
 */
export class SseUsageReader implements UsageReader {
  readonly #drop: boolean;
  readonly #decoder = new TextDecoder();
  /** Bytes of the current line so far (from earlier chunks). */
  #line: Uint8Array[] = [];
  #lineBytes = 0;
  /**
   * The last chunk ended in CR, so an LF starting the next one completes that line end: of a line
   * inside the current event, or of an event that was kept or dropped (the LF goes the same way).
   */
  #afterCr: 'line' | 'keep' | 'drop' | null = null;
  /** `data:` values of the current event. */
  #data: string[] = [];
  /** Bytes of the current event so far; drop mode holds them until the event is complete. */
  #held: Uint8Array[] = [];
  #eventBytes = 0;
  /** An event outgrew MAX_USAGE_EVENT_BYTES: everything from there on passes unread. */
  #blind = false;
  #usage: TokenUsage | null = null;
  /** The event just read carried `"usage": null`, which only Sluice's include_usage put there. */
  #nullUsage = false;

  constructor(options: SseUsageReaderOptions) {
    this.#drop = options.dropUsageOnly;
  }

  get usage(): TokenUsage | null {
    return this.#usage;
  }

  push(chunk: Uint8Array): Uint8Array {
    if (this.#blind) return chunk;
    const out: Uint8Array[] = [];
    let outBytes = 0;
    const emit = (part: Uint8Array): void => {
      out.push(part);
      outBytes += part.byteLength;
    };
    let i = 0;
    let eventStart = 0; // of the current event within chunk
    if (this.#afterCr !== null && chunk[0] === LF) {
      if (this.#afterCr === 'keep') emit(chunk.subarray(0, 1));
      if (this.#afterCr !== 'line') eventStart = 1;
      i = 1;
    }
    this.#afterCr = null;
    let start = i; // of the current line within chunk
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (b !== LF && b !== CR) continue;
      let end = i + 1;
      const crAtEnd = b === CR && end === chunk.length;
      if (b === CR && chunk[end] === LF) end++;
      const blank = this.#lineBytes === 0 && i === start;
      if (!blank) this.#takeLine(chunk.subarray(start, i));
      this.#line = [];
      this.#lineBytes = 0;
      start = end;
      i = end - 1;
      if (!blank) {
        if (crAtEnd) this.#afterCr = 'line';
        continue;
      }
      const keep = this.#endEvent();
      if (crAtEnd) this.#afterCr = keep ? 'keep' : 'drop';
      if (this.#drop && keep) {
        if (this.#nullUsage) {
          emit(withoutNullUsage([...this.#held, chunk.subarray(eventStart, end)]));
        } else {
          for (const part of this.#held) emit(part);
          emit(chunk.subarray(eventStart, end));
        }
      }
      this.#nullUsage = false;
      this.#held = [];
      this.#eventBytes = 0;
      eventStart = end;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start).slice();
      this.#line.push(rest);
      this.#lineBytes += rest.byteLength;
    }
    if (eventStart < chunk.length) {
      if (this.#drop) this.#held.push(chunk.subarray(eventStart).slice());
      this.#eventBytes += chunk.length - eventStart;
    }
    if (this.#eventBytes > MAX_USAGE_EVENT_BYTES) {
      this.#blind = true;
      this.#line = [];
      this.#data = [];
      for (const part of this.#held) emit(part);
      this.#held = [];
      this.#eventBytes = 0;
    }
    return this.#drop ? concat(out, outBytes) : chunk;
  }

  finish(): Uint8Array {
    const held = concat(this.#held, this.#drop ? this.#eventBytes : 0);
    this.#held = [];
    this.#eventBytes = 0;
    this.#line = [];
    this.#lineBytes = 0;
    this.#data = [];
    return held;
  }

  #takeLine(lastPart: Uint8Array): void {
    let bytes = lastPart;
    if (this.#lineBytes > 0) {
      this.#line.push(lastPart);
      bytes = concat(this.#line, this.#lineBytes + lastPart.byteLength);
    }
    // Only `data` lines matter; a look at the first byte skips decoding every other line.
    if (bytes[0] !== 0x64 /* d */) return;
    const line = this.#decoder.decode(bytes);
    const colon = line.indexOf(':');
    if ((colon === -1 ? line : line.slice(0, colon)) !== 'data') return;
    const value = colon === -1 ? '' : line.slice(colon + 1);
    this.#data.push(value.startsWith(' ') ? value.slice(1) : value);
  }

  /** The event is complete: read it. Returns false when it must be dropped. */
  #endEvent(): boolean {
    if (this.#data.length === 0) return true;
    const data = this.#data.length === 1 ? (this.#data[0] ?? '') : this.#data.join('\n');
    this.#data = [];
    if (data.trimStart().charCodeAt(0) !== OPEN_BRACE) return true; // [DONE], or not an object
    // One event per token: most carry no usage at all, or (include_usage) a top-level `"usage": null` as
    // their last field. Neither needs parsing; only the rest (one or two per stream) are parsed.
    if (!data.includes('"usage"')) return true;
    if (TRAILING_NULL_USAGE_DATA.test(data)) {
      this.#nullUsage = this.#drop;
      return true;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return true;
    }
    const usage = usageOf(parsed);
    if (usage === null) {
      this.#nullUsage = this.#drop && (parsed as Record<string, unknown>)['usage'] === null;
      return true;
    }
    this.#usage = usage;
    return !(this.#drop && isUsageOnly(parsed));
  }
}

/**
 * With include_usage, OpenAI-style servers put `"usage": null` on every chunk before the last. A client
 * that did not ask for usage must not see it: the field is cut where servers put it, last in the object
 * (`…, "usage": null}` at the end of its data line). Written anywhere else, the event passes unchanged:
 * an extra null field, never a broken one.
 */
const TRAILING_NULL_USAGE = /,\s*"usage"\s*:\s*null\s*\}(?=\r\n|\r|\n)/;

/**
 * A data value (one whole JSON object) whose last field is `"usage": null`: the brace after it is the
 * object's own, so the field is top-level (a nested one would be followed by another brace).
 */
const TRAILING_NULL_USAGE_DATA = /,\s*"usage"\s*:\s*null\s*\}\s*$/;

function withoutNullUsage(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = concat(
    parts,
    parts.reduce((n, p) => n + p.byteLength, 0),
  );
  // A whole event: its bytes end with the blank line, so no character is split here.
  const text = new TextDecoder().decode(bytes);
  const cut = text.replace(TRAILING_NULL_USAGE, '}');
  return cut === text ? bytes : new TextEncoder().encode(cut);
}

/** A chunk that carries usage and no choices: the extra last chunk `include_usage` asks for. */
function isUsageOnly(chunk: unknown): boolean {
  const choices = (chunk as Record<string, unknown>)['choices'];
  return Array.isArray(choices) && choices.length === 0;
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1 && parts[0]?.byteLength === total) return parts[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** The body to forward: the client's, or one that asks the backend for usage in its stream. */
export interface UsageRequest {
  readonly bytes: Uint8Array;
  /** Sluice added `stream_options.include_usage`; the usage-only chunk must not reach the client. */
  readonly injected: boolean;
}

/**
 * Asks a streaming chat or text completion for its usage when the client did not: sets
 * `stream_options.include_usage: true`. `fields` is `bytes` parsed (a JSON object). With no
 * `stream_options` at all, the member is inserted after the opening brace, so the client's bytes are
 * otherwise forwarded as sent; an existing `stream_options` object is merged and the body re-serialized.
 * A `stream_options` that is not an object is left for the backend to reject.
 */
export function requestStreamUsage(
  fields: Readonly<Record<string, unknown>>,
  bytes: Uint8Array,
): UsageRequest {
  if (fields['stream'] !== true) return { bytes, injected: false };
  const options = fields['stream_options'];
  if (options === undefined) {
    const brace = bytes.indexOf(OPEN_BRACE);
    if (brace === -1) return { bytes, injected: false };
    // A body that parsed as an object with a `model` has at least one member after its brace.
    const member = new TextEncoder().encode('"stream_options":{"include_usage":true},');
    const out = new Uint8Array(bytes.byteLength + member.byteLength);
    out.set(bytes.subarray(0, brace + 1), 0);
    out.set(member, brace + 1);
    out.set(bytes.subarray(brace + 1), brace + 1 + member.byteLength);
    return { bytes: out, injected: true };
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return { bytes, injected: false };
  }
  if ((options as Record<string, unknown>)['include_usage'] === true) return { bytes, injected: false };
  const body = { ...fields, stream_options: { ...options, include_usage: true } };
  return { bytes: new TextEncoder().encode(JSON.stringify(body)), injected: true };
}
