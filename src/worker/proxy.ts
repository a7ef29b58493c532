// Forwards a granted request to its backend and streams the answer back without buffering. Reports the
// true end of the exchange (stream finished, client gone, or upstream failed) as an Outcome promise, so
// the caller can release the slot and record completion exactly once, off the response's critical path.

import type { Outcome } from '../core/index.ts';
import type { BackendConfig } from './config.ts';

// RFC 9110 §7.6.1 hop-by-hop headers, plus headers the runtime recomputes.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);
/** Sluice's own request headers: meaningful to the router only. */
const SLUICE_REQUEST_HEADERS = new Set(['x-workload-context']);

export interface ForwardInput {
  readonly backend: BackendConfig;
  readonly path: string;
  readonly clientRequest: Request;
  readonly body: Uint8Array;
  readonly requestId: string;
  /** Longest wait for the backend's response headers. */
  readonly headersTimeoutMs: number;
}

export type ForwardResult =
  | { readonly ok: true; readonly response: Response; readonly done: Promise<Outcome> }
  | {
      readonly ok: false;
      readonly outcome: Outcome;
      readonly message: string;
      /** True when the backend could not be reached at all (not when the client left first). */
      readonly unreachable: boolean;
      /** True when the backend accepted the request but sent no response headers in time. */
      readonly timedOut: boolean;
    };

export function upstreamRequestHeaders(client: Headers, backend: BackendConfig, requestId: string): Headers {
  const headers = new Headers();
  client.forEach((value, key) => {
    const k = key.toLowerCase();
    if (HOP_BY_HOP.has(k) || SLUICE_REQUEST_HEADERS.has(k) || k.startsWith('cf-')) return;
    headers.set(k, value);
  });
  headers.set('x-request-id', requestId);
  if (backend.apiKey !== undefined) headers.set('authorization', `Bearer ${backend.apiKey}`);
  return headers;
}

export function downstreamResponseHeaders(upstream: Headers): Headers {
  const headers = new Headers();
  upstream.forEach((value, key) => {
    if (!HOP_BY_HOP.has(key.toLowerCase())) headers.append(key, value);
  });
  return headers;
}

export async function forward(input: ForwardInput): Promise<ForwardResult> {
  const clientSignal = input.clientRequest.signal;
  const upstreamAbort = new AbortController();
  const onClientAbort = (): void => upstreamAbort.abort();
  clientSignal.addEventListener('abort', onClientAbort);
  let timedOut = false;
  const headersTimer = setTimeout(() => {
    timedOut = true;
    upstreamAbort.abort();
  }, input.headersTimeoutMs);
  const cleanup = (): void => clientSignal.removeEventListener('abort', onClientAbort);

  let upstream: Response;
  try {
    upstream = await fetch(`${input.backend.url}${input.path}`, {
      method: 'POST',
      headers: upstreamRequestHeaders(input.clientRequest.headers, input.backend, input.requestId),
      body: input.body,
      signal: upstreamAbort.signal,
    });
  } catch (err) {
    cleanup();
    clearTimeout(headersTimer);
    if (clientSignal.aborted) {
      return {
        ok: false,
        outcome: 'cancelled',
        message: 'client disconnected',
        unreachable: false,
        timedOut: false,
      };
    }
    if (timedOut) {
      return {
        ok: false,
        outcome: 'upstream_error',
        message: `Backend '${input.backend.name}' sent no response within ${input.headersTimeoutMs} ms.`,
        unreachable: false,
        timedOut: true,
      };
    }
    return {
      ok: false,
      outcome: 'upstream_error',
      message: `Backend '${input.backend.name}' is unreachable: ${err instanceof Error ? err.message : String(err)}`,
      unreachable: true,
      timedOut: false,
    };
  }
  clearTimeout(headersTimer);

  const statusOutcome: Outcome = upstream.status >= 500 ? 'upstream_error' : 'success';
  const headers = downstreamResponseHeaders(upstream.headers);
  if (upstream.body === null) {
    cleanup();
    return {
      ok: true,
      response: new Response(null, { status: upstream.status, headers }),
      done: Promise.resolve(statusOutcome),
    };
  }
  // An identity TransformStream passes each chunk on as it arrives (no buffering).
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const done = relay(upstream.body, writable, statusOutcome, clientSignal);
  void done.finally(cleanup);
  return { ok: true, response: new Response(readable, { status: upstream.status, headers }), done };
}

/**
 * Copies upstream → client chunk by chunk. Which side failed decides the outcome: a failed read is the
 * upstream's fault, a failed write means the client went away.
 */
async function relay(
  source: ReadableStream<Uint8Array>,
  sink: WritableStream<Uint8Array>,
  endOutcome: Outcome,
  clientSignal: AbortSignal,
): Promise<Outcome> {
  const reader = source.getReader();
  const writer = sink.getWriter();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (err) {
      await writer.abort(err).catch(() => undefined);
      return clientSignal.aborted ? 'cancelled' : 'upstream_error';
    }
    if (chunk.done) {
      await writer.close().catch(() => undefined);
      return endOutcome;
    }
    try {
      await writer.write(chunk.value);
    } catch {
      await reader.cancel().catch(() => undefined);
      return 'cancelled';
    }
  }
}
