// A fake OpenAI-compatible upstream for the Workers-runtime tests. It runs in the vitest (Node) process as
// Miniflare's outbound service, so every fetch the Worker makes lands here. Behaviour is chosen by the
// request's `model`, and tests steer held requests through http://control.test/.
//   model "ok"     → JSON completion with usage (stream: SSE chunks, then [DONE]; with
//                    stream_options.include_usage, a usage-only chunk before [DONE], as OpenAI and vLLM do)
//   model "error"  → 500 in OpenAI's error shape
//   model "echo-headers…" → the request headers it received, as JSON
//   model "hold"   → held until the test calls /release (then answers like "ok")
//   model "drip"   → SSE that sends one chunk, then holds until /release
//   model "stall-json" → JSON (not SSE) that sends part of its body, then holds until /release
//   model "trickle" → SSE that sends a chunk every TRICKLE_GAP_MS, TRICKLE_CHUNKS times, then [DONE]
//   host  "down.test" → 502 to everything (a gateway in front of a dead server)
//   host  "busy.test" → 503 to every inference request (an overloaded engine)

/** "trickle": slower in total than the worker-timeout project's idle limit, never silent for as long. */
export const TRICKLE_GAP_MS = 100;
export const TRICKLE_CHUNKS = 8;

interface Held {
  readonly release: () => void;
}

function sse(chunks: string[]): string {
  return chunks.map((c) => `data: ${c}\n\n`).join('') + 'data: [DONE]\n\n';
}

/** What the fake reports for every completion. */
export const FAKE_USAGE = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } as const;

interface FakeBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

function completion(body: FakeBody, backend: string): Response {
  const model = body.model ?? '';
  const stream = body.stream === true;
  const includeUsage = body.stream_options?.include_usage === true;
  const headers = { 'x-fake-backend': backend, connection: 'keep-alive', 'keep-alive': 'timeout=5' };
  if (stream) {
    const chunk = (content: string, finish: string | null): string =>
      JSON.stringify({
        id: 'c1',
        object: 'chat.completion.chunk',
        model,
        choices: [{ index: 0, delta: { content }, finish_reason: finish }],
        ...(includeUsage ? { usage: null } : {}),
      });
    const chunks = [chunk('hello', null), chunk(' world', 'stop')];
    if (includeUsage) {
      chunks.push(
        JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [], usage: FAKE_USAGE }),
      );
    }
    return new Response(sse(chunks), {
      headers: { ...headers, 'content-type': 'text/event-stream' },
    });
  }
  return Response.json(
    {
      id: 'c1',
      object: 'chat.completion',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello world' }, finish_reason: 'stop' }],
      usage: FAKE_USAGE,
    },
    { headers },
  );
}

/** One fake per test project: projects run side by side and must not release each other's requests. */
export function createFakeUpstream(): (request: Request) => Promise<Response> {
  const held: Held[] = [];
  const counters = { served: 0 };
  return (request) => fakeUpstream(request, held, counters);
}

async function fakeUpstream(request: Request, held: Held[], counters: { served: number }): Promise<Response> {
  const url = new URL(request.url);
  if (url.hostname === 'control.test') return control(url, held, counters.served);
  // Miniflare's outbound service cannot make the Worker's fetch reject (a thrown error or Response.error()
  // reaches it as a 500), so a dead server is what a gateway in front of one answers: 502. The e2e tests
  // kill a real server for the refused-connection case.
  if (url.hostname === 'down.test') {
    return Response.json(
      { error: { message: 'no upstream', type: 'server_error', code: 'bad_gateway' } },
      { status: 502, headers: { 'x-fake-backend': 'down' } },
    );
  }
  if (url.hostname === 'busy.test' && url.pathname !== '/v1/models') {
    return Response.json(
      { error: { message: 'overloaded', type: 'server_error', code: 'busy' } },
      { status: 503, headers: { 'x-fake-backend': 'busy' } },
    );
  }
  const backend = url.hostname.split('.')[0] ?? 'unknown';
  if (url.pathname === '/v1/models') {
    return Response.json({
      object: 'list',
      data: [
        { id: `model-${backend}`, object: 'model' },
        { id: 'shared', object: 'model' },
      ],
    });
  }
  const body = (await request.json()) as FakeBody;
  counters.served++;
  const model = body.model ?? '';
  if (model.startsWith('echo-headers')) {
    return Response.json(
      { headers: Object.fromEntries(request.headers) },
      { headers: { 'x-fake-backend': backend } },
    );
  }
  if (model === 'error') {
    return Response.json({ error: { message: 'boom', type: 'server_error', code: 'fake' } }, { status: 500 });
  }
  if (model === 'hold') {
    await new Promise<void>((resolve) => held.push({ release: resolve }));
    return completion(body, backend);
  }
  if (model === 'drip') {
    return stalled(held, 'text/event-stream', 'data: {"first":true}\n\n', 'data: [DONE]\n\n');
  }
  if (model === 'stall-json') {
    return stalled(held, 'application/json', '{"id":"c1","object":"chat.completion",', '"choices":[]}');
  }
  if (model === 'trickle') {
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let i = 0; i < TRICKLE_CHUNKS; i++) {
          controller.enqueue(encoder.encode(`data: {"n":${i}}\n\n`));
          await new Promise((resolve) => setTimeout(resolve, TRICKLE_GAP_MS));
        }
        controller.enqueue(encoder.encode('data: [DONE]\n\n'));
        controller.close();
      },
    });
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
  }
  return completion(body, backend);
}

/**
 * Sends `head` at once and `tail` only when released. The router may have cancelled the body by then;
 * enqueueing into a cancelled stream throws, which is the release arriving too late, not a fault.
 */
function stalled(held: Held[], contentType: string, head: string, tail: string): Response {
  const encoder = new TextEncoder();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  held.push({ release });
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(head));
      await gate;
      try {
        controller.enqueue(encoder.encode(tail));
        controller.close();
      } catch {
        // Cancelled by the router already.
      }
    },
  });
  return new Response(stream, { headers: { 'content-type': contentType } });
}

function control(url: URL, held: Held[], served: number): Response {
  if (url.pathname === '/release') {
    const n = Number(url.searchParams.get('n') ?? held.length);
    const released = held.splice(0, n);
    for (const h of released) h.release();
    return Response.json({ released: released.length });
  }
  if (url.pathname === '/held') return Response.json({ held: held.length, served });
  return new Response('unknown control path', { status: 404 });
}
