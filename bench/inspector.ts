// A minimal Chrome DevTools Protocol client for the benchmarks: workerd (under Miniflare or wrangler dev)
// exposes each Worker's V8 isolate on an inspector port, which lets the soak read the router's own heap
// (as opposed to the runtime's memory) and the profile bench sample where the router spends its CPU.

export interface InspectorSession {
  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  close(): void;
}

interface Target {
  readonly title: string;
  readonly webSocketDebuggerUrl: string;
}

/**
 * Connects to the isolate whose target matches `pick` (workerd lists one per Worker, plus its own
 * internal ones) on the inspector at `port`.
 */
export async function connectInspector(
  port: number,
  pick: (t: Target) => boolean,
): Promise<InspectorSession> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Target[];
  const target = targets.find(pick);
  if (!target) throw new Error(`no inspector target matched among ${targets.map((t) => t.title).join(', ')}`);
  // wrangler dev's inspector proxy refuses an upgrade without a local Origin (a web page must not attach).
  const init = { headers: { origin: `http://127.0.0.1:${port}` } };
  const ws = new WebSocket(target.webSocketDebuggerUrl.replace('localhost', '127.0.0.1'), init as never);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener(
      'error',
      () => reject(new Error(`inspector ${target.webSocketDebuggerUrl} refused`)),
      {
        once: true,
      },
    );
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(String(event.data)) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
    };
    if (msg.id === undefined) return;
    const waiter = pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(msg.error.message));
    else waiter.resolve(msg.result);
  });
  return {
    call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => ws.close(),
  };
}

/**
 * The isolate's JS heap in use after a full garbage collection, in MiB. workerd does not answer
 * HeapProfiler.collectGarbage; a heap snapshot collects garbage first, so one is taken (its chunks,
 * sent as events, are ignored).
 */
export async function heapUsedMiB(session: InspectorSession): Promise<number> {
  await session.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  const usage = await session.call<{ usedSize: number }>('Runtime.getHeapUsage');
  return usage.usedSize / 2 ** 20;
}
