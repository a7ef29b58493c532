// Forwards a granted request to its backend and streams the answer back without buffering. Reports the
// true end of the exchange (stream finished, client gone, upstream failed or fell silent) as an Ended
// promise, so the caller can release the slot and record completion exactly once, off the response's
// critical path, and the token usage the backend reported on the way (read as the bytes pass, once).

import {
  ENDED,
  ended,
  JsonUsageReader,
  SseUsageReader,
  type Ended,
  type TokenUsage,
  type UsageReader,
} from '../core/index.ts';
import { backendAuthHeaders, type BackendConfig, DEFAULT_UPSTREAM_IDLE_TIMEOUT_MS } from './config.ts';
import { endToHttp } from './http-error.ts';
import { IdleWatch } from './idle-watch.ts';

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
/**
 * Headers meant for the router, never for a backend: Sluice's own, and the client's credentials (a key
 * for Sluice must not leak to a server that may log it; a backend gets its own configured `apiKey`, or
 * nothing). Cookies likewise.
 */
const SLUICE_REQUEST_HEADERS = new Set(['x-workload-context', 'authorization', 'cookie']);

export interface ForwardInput {
  readonly backend: BackendConfig;
  readonly path: string;
  readonly clientRequest: Request;
  readonly body: Uint8Array;
  readonly requestId: string;
  /** Longest wait for the backend's response headers. */
  readonly headersTimeoutMs: number;
  /**
   * Longest silence between body chunks once the headers are in (default
   * DEFAULT_UPSTREAM_IDLE_TIMEOUT_MS). The lease heartbeat keeps a stalled stream's slot alive, so
   * without this a backend that stops sending holds its slot for as long as it stays stuck.
   */
  readonly idleTimeoutMs?: number;
  /**
   * Sluice added `stream_options.include_usage` to the body: the usage-only chunk is read, then removed
   * from the stream the client receives (it did not ask for it).
   */
  readonly dropUsageChunk?: boolean;
}

export type ForwardResult =
  | {
      readonly ok: true;
      readonly response: Response;
      readonly done: Promise<Ended>;
      /** The usage the backend reported, settled with `done`; null when it sent none or was cut off. */
      readonly usage: Promise<TokenUsage | null>;
    }
  /** No response: the end says why (client_closed, unreachable or headers_timeout). */
  | { readonly ok: false; readonly end: Ended; readonly message: string };

export function upstreamRequestHeaders(client: Headers, backend: BackendConfig, requestId: string): Headers {
  const headers = new Headers();
  client.forEach((value, key) => {
    const k = key.toLowerCase();
    if (HOP_BY_HOP.has(k) || SLUICE_REQUEST_HEADERS.has(k) || k.startsWith('cf-')) return;
    headers.set(k, value);
  });
  headers.set('x-request-id', requestId);
  for (const [k, v] of Object.entries(backendAuthHeaders(backend))) headers.set(k, v);
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
        end: ENDED.clientClosed,
        message: 'Client disconnected before the backend answered.',
      };
    }
    if (timedOut) {
      return {
        ok: false,
        end: ended('headers_timeout'),
        message: `Backend '${input.backend.name}' sent no response within ${input.headersTimeoutMs} ms.`,
      };
    }
    return {
      ok: false,
      end: ended('unreachable'),
      message: `Backend '${input.backend.name}' is unreachable: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  clearTimeout(headersTimer);

  const statusEnd: Ended = upstream.status >= 500 ? ended('upstream_5xx') : ENDED.completed;
  const headers = downstreamResponseHeaders(upstream.headers);
  if (upstream.body === null) {
    cleanup();
    return {
      ok: true,
      response: new Response(null, { status: upstream.status, headers }),
      done: Promise.resolve(statusEnd),
      usage: Promise.resolve(null),
    };
  }
  // The runtime's own identity stream passes each chunk on as it arrives (no buffering); its readable side
  // is native, so the client is fed without a JavaScript turn per chunk (a standard TransformStream here
  // cost a streamed answer about a third more time, bench: BENCH_STREAM_TOKENS).
  const { readable, writable } = new IdentityTransformStream();
  const sse = (upstream.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream');
  const exchange = relay(upstream.body, writable, statusEnd, clientSignal, sse, {
    backendName: input.backend.name,
    idleTimeoutMs: input.idleTimeoutMs ?? DEFAULT_UPSTREAM_IDLE_TIMEOUT_MS,
    usage: usageReader(upstream.headers, sse, input.dropUsageChunk === true),
  });
  void exchange.finally(cleanup);
  return {
    ok: true,
    response: new Response(readable, { status: upstream.status, headers }),
    done: exchange.then((x) => x.end),
    usage: exchange.then((x) => x.usage),
  };
}

/** SSE and JSON bodies carry OpenAI's `usage`; anything else passes through unread. */
function usageReader(headers: Headers, sse: boolean, dropUsageChunk: boolean): UsageReader | null {
  if (sse) return new SseUsageReader({ dropUsageOnly: dropUsageChunk });
  return (headers.get('content-type') ?? '').toLowerCase().includes('json') ? new JsonUsageReader() : null;
}

interface RelayOptions {
  readonly backendName: string;
  readonly idleTimeoutMs: number;
  /** Reads usage from the chunks as they pass and decides what of them passes on. */
  readonly usage: UsageReader | null;
}

interface Exchange {
  readonly end: Ended;
  readonly usage: TokenUsage | null;
}

/**
 * Copies upstream → client chunk by chunk. Which side failed decides the outcome: a failed read is the
 * upstream's fault, a failed write means the client went away. The idle limit runs only while a read is
 * pending, so a client slow to take its chunks (backpressure on the write) is never blamed on the backend.
 */
async function relay(
  source: ReadableStream<Uint8Array>,
  sink: WritableStream<Uint8Array>,
  endAs: Ended,
  clientSignal: AbortSignal,
  sse: boolean,
  limit: RelayOptions,
): Promise<Exchange> {
  const reader = source.getReader();
  const writer = sink.getWriter();
  const usage = limit.usage;
  const exchange = (end: Ended): Exchange => ({ end, usage: usage?.usage ?? null });
  const idleMessage = `Backend '${limit.backendName}' sent nothing for ${limit.idleTimeoutMs} ms.`;
  // Cancelling settles the pending read (done, or an error); the loop then sees watch.idle.
  const watch = new IdleWatch(limit.idleTimeoutMs, () => {
    reader.cancel(new Error(idleMessage)).catch(() => undefined);
  });
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array> | null = null;
      let failure: unknown = null;
      watch.reading(Date.now());
      try {
        chunk = await reader.read();
      } catch (err) {
        failure = err;
      } finally {
        watch.settled();
      }
      if (watch.idle) {
        // A client that cancelled its body mid-stream errors the writable side (desiredSize null) but is
        // otherwise seen only on the next write, which a silent backend never gives it.
        if (clientSignal.aborted || writer.desiredSize === null) {
          await writer.abort(new Error(idleMessage)).catch(() => undefined);
          return exchange(ENDED.clientClosed);
        }
        // The in-band error is the first write since the stall: it fails if the client has gone.
        const told = await failStream(writer, ended('idle_timeout'), idleMessage, sse);
        return exchange(told ? ended('idle_timeout') : ENDED.clientClosed);
      }
      if (chunk === null) {
        if (clientSignal.aborted) {
          await writer.abort(failure).catch(() => undefined);
          return exchange(ENDED.clientClosed);
        }
        await failStream(writer, ended('stream_failed'), streamFailedMessage(failure), sse);
        return exchange(ended('stream_failed'));
      }
      const out = chunk.done ? usage?.finish() : usage === null ? chunk.value : usage.push(chunk.value);
      try {
        // Empty when the reader holds an unfinished event back (or dropped one): nothing to write yet.
        if (out !== undefined && out.byteLength > 0) await writer.write(out);
      } catch {
        await reader.cancel().catch(() => undefined);
        return exchange(ENDED.clientClosed);
      }
      if (chunk.done) {
        await writer.close().catch(() => undefined);
        return exchange(endAs);
      }
    }
  } finally {
    watch.dispose();
  }
}

function streamFailedMessage(err: unknown): string {
  return `The backend's stream failed: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Ends a response whose upstream failed (or fell silent) mid-body. An SSE client is told in-band, in
 * OpenAI's streaming error shape (as vLLM does) with the end's `type` and `code`, and the stream is closed
 * without [DONE]. Erroring the body instead makes workerd log "Uncaught Error: Network connection lost."
 * for every torn-down upstream; a non-SSE body has no in-band channel, so it is still aborted (the client
 * sees a truncated transfer, never a clean end). False when the in-band error could not be written: the
 * client had gone (a cancel on the runtime's identity stream shows only at the next write).
 */
async function failStream(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  end: Ended,
  message: string,
  sse: boolean,
): Promise<boolean> {
  if (!sse) {
    await writer.abort(new Error(message)).catch(() => undefined);
    return true;
  }
  const http = endToHttp(end);
  const event = {
    error: { message, type: http?.type ?? 'upstream_error', code: http?.code ?? 'upstream_error' },
  };
  try {
    await writer.write(new TextEncoder().encode(`data: ${JSON.stringify(event)}\n\n`));
  } catch {
    return false;
  }
  await writer.close().catch(() => undefined);
  return true;
}
