// Reads an inference request body under a size limit and pulls out what scheduling needs (the model
// and whether the client wants a stream). The body is forwarded byte for byte, except that a streaming
// completion is asked for its usage (see requestStreamUsage) when the client did not ask.

import { MAX_TOKEN_ESTIMATE, requestStreamUsage } from '../core/index.ts';
import type { HttpOnlyError } from './http-error.ts';

/** The routes whose streams can carry usage (`stream_options.include_usage`); embeddings do not stream. */
const STREAM_USAGE_PATHS = new Set(['/v1/chat/completions', '/v1/completions']);

export interface InferenceBody {
  /** The bytes to forward: the client's, or with `stream_options.include_usage` added. */
  readonly bytes: Uint8Array;
  /**
   * Sluice asked the backend for the stream's usage on the client's behalf: the usage-only chunk must be
   * removed from what the client receives.
   */
  readonly usageInjected: boolean;
  readonly model: string;
  readonly stream: boolean;
  /**
   * Prompt bytes / 4 (a common rule of thumb for English text; no tokenizer runs at the edge) plus the
   * completion tokens asked for (`max_completion_tokens`, else `max_tokens`, else 0).
   */
  readonly tokenEstimate: number;
}

export type BodyResult =
  | { readonly ok: true; readonly body: InferenceBody }
  | { readonly ok: false; readonly error: HttpOnlyError }
  /** The client stopped sending before the body was complete: its doing, answered as client closed. */
  | { readonly ok: false; readonly incomplete: true; readonly message: string };

/** `path` is the route (e.g. `/v1/chat/completions`); without it the body is never rewritten. */
export async function readInferenceBody(
  request: Request,
  maxBytes: number,
  path?: string,
): Promise<BodyResult> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(maxBytes);
  let bytes: Uint8Array | null;
  try {
    bytes = await readLimited(request.body, maxBytes);
  } catch (err) {
    // The runtime fails the read when the client's connection ends mid-body.
    return incomplete(
      `the connection ended while reading it (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (bytes === null) return tooLarge(maxBytes);
  if (Number.isFinite(declared) && bytes.byteLength < declared) {
    return incomplete(`got ${bytes.byteLength} of the ${declared} bytes its Content-Length declared`);
  }

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return invalid('Request body is not valid JSON.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return invalid('Request body must be a JSON object.');
  }
  const fields = json as Record<string, unknown>;
  if (typeof fields['model'] !== 'string' || fields['model'].trim() === '') {
    return invalid("'model' is required and must be a non-empty string.");
  }
  if (fields['stream'] !== undefined && typeof fields['stream'] !== 'boolean') {
    return invalid("'stream' must be a boolean.");
  }
  const maxOut = [fields['max_completion_tokens'], fields['max_tokens']].find(
    (v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0,
  );
  const forwarded =
    path !== undefined && STREAM_USAGE_PATHS.has(path)
      ? requestStreamUsage(fields, bytes)
      : { bytes, injected: false };
  return {
    ok: true,
    body: {
      bytes: forwarded.bytes,
      usageInjected: forwarded.injected,
      model: fields['model'],
      stream: fields['stream'] === true,
      // Capped: the backend validates max_tokens; here an absurd value must only cost its own sender.
      tokenEstimate: Math.min(MAX_TOKEN_ESTIMATE, Math.ceil(bytes.byteLength / 4) + (maxOut ?? 0)),
    },
  };
}

async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function incomplete(detail: string): BodyResult {
  return { ok: false, incomplete: true, message: `The request body is incomplete: ${detail}.` };
}

function invalid(message: string): BodyResult {
  return { ok: false, error: { code: 'invalid_request', message } };
}

function tooLarge(maxBytes: number): BodyResult {
  return { ok: false, error: { code: 'body_too_large', message: `Request body exceeds ${maxBytes} bytes.` } };
}
