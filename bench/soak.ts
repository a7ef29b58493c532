// Accounting soak: 40 closed-loop clients for SOAK_SECONDS (default 10) against the router under
// wrangler dev and two simulated backends (one failing 10% of requests), with streaming, aborts, a small
// queue (429s) and a short TTL (503s). Prints what the clients saw and what the admin API counted; every
// workload should end with activeRequests 0 and completed = total, every backend with inFlight 0.
// With SOAK_MEMORY_EVERY_S set, it also prints the router's resident memory (wrangler dev and its
// workerd) at that interval, during the load and for 30 s of idle after it, to see whether it levels off,
// next to the router isolate's JS heap after a full GC (read through the inspector): what Sluice's own
// objects hold, as against the runtime's memory.

import { freePort } from '../scripts/free-port.ts';
import { startStack } from '../test/e2e/support/stack.ts';
import { connectInspector, heapUsedMiB, type InspectorSession } from './inspector.ts';
import { treeRssByNameMiB } from './process-memory.ts';

const SOAK_MS = Number(process.env['SOAK_SECONDS'] ?? 10) * 1000;
const CLIENTS = 40;
const WORKLOADS = 5;
const MEMORY_EVERY_MS = Number(process.env['SOAK_MEMORY_EVERY_S'] ?? 0) * 1000;
/** Idle time after the load, while memory is still sampled: does the router give memory back? */
const IDLE_AFTER_MS = 30_000;

export async function runSoak(): Promise<string> {
  const inspectorPort = MEMORY_EVERY_MS > 0 ? await freePort() : undefined;
  const stack = await startStack(
    [
      { name: 'a', maxConcurrency: 4, sim: { ttftMs: 5, itlMs: 1, errorRate: 0.1, seed: 7 } },
      { name: 'b', maxConcurrency: 2, sim: { ttftMs: 5, itlMs: 1 } },
    ],
    { QUEUE_TTL_MS: '2000', MAX_QUEUE_PER_WORKLOAD: '20' },
    inspectorPort === undefined ? {} : { inspectorPort },
  );
  let inspector: InspectorSession | null = null;
  if (inspectorPort !== undefined) {
    inspector = await connectInspector(inspectorPort, (t) => t.title === 'Cloudflare Worker').catch(
      (err: unknown) => {
        console.error(`soak: no heap figures (${String(err)})`);
        return null;
      },
    );
  }
  const seen: Record<string, number> = {};
  let sent = 0;
  const one = async (): Promise<void> => {
    const n = sent++;
    const abort = new AbortController();
    // Abort only before the headers: aborting mid-body trips an undici client hang (nodejs/undici#4089).
    const early = n % 7 === 0 ? setTimeout(() => abort.abort(), 5 + (n % 30)) : undefined;
    let key: string;
    try {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        signal: abort.signal,
        headers: {
          'content-type': 'application/json',
          'x-workload-context': JSON.stringify({
            workload_id: `soak-${n % WORKLOADS}`,
            criticality: (n % 5) + 1,
          }),
        },
        body: JSON.stringify({
          model: 'm',
          messages: [{ role: 'user', content: 'x' }],
          max_tokens: 20,
          stream: n % 2 === 0,
        }),
      });
      clearTimeout(early);
      await res.text();
      key = String(res.status);
    } catch {
      key = 'client aborted';
    }
    seen[key] = (seen[key] ?? 0) + 1;
  };
  const start = Date.now();
  const memory: string[] = [];
  const rootPid = stack.router.child.pid;
  const sample = async (): Promise<void> => {
    const at = Math.round((Date.now() - start) / 1000);
    const rss = rootPid === undefined ? null : treeRssByNameMiB(rootPid);
    const heap = inspector ? await heapUsedMiB(inspector).catch(() => null) : null;
    const cell = (x: number | undefined | null, digits: number): string =>
      x === undefined || x === null ? 'n/a' : x.toFixed(digits);
    memory.push(`| ${at} | ${cell(rss?.['node'], 0)} | ${cell(rss?.['workerd'], 0)} | ${cell(heap, 1)} |`);
  };
  const sampler = MEMORY_EVERY_MS > 0 ? setInterval(() => void sample(), MEMORY_EVERY_MS) : undefined;
  if (sampler) await sample();
  try {
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() - start < SOAK_MS) await one();
      }),
    );
    // Completions are recorded off the response path; give them a moment (and the router an idle spell).
    await new Promise((r) => setTimeout(r, sampler ? IDLE_AFTER_MS : 2_000));
    if (sampler) {
      clearInterval(sampler);
      await sample();
    }
    const workloads = (await (await fetch(`${stack.url}/admin/workloads`)).json()) as {
      data: Array<{
        workloadId: string;
        totalRequests: number;
        activeRequests: number;
        completedCount: number;
      }>;
    };
    const backends = (await (await fetch(`${stack.url}/admin/backends`)).json()) as {
      data: Array<{ name: string; inFlight: number }>;
    };
    const lines = [
      `Accounting soak (wrangler dev): ${sent} requests from ${CLIENTS} clients in ${SOAK_MS / 1000} s; clients saw ${JSON.stringify(seen)}`,
      '',
      '| workload | total | active | completed |',
      '|---|---|---|---|',
      ...workloads.data.map(
        (w) => `| ${w.workloadId} | ${w.totalRequests} | ${w.activeRequests} | ${w.completedCount} |`,
      ),
      '',
      `backends in flight: ${backends.data.map((b) => `${b.name}=${b.inFlight}`).join(', ')}`,
      ...(memory.length > 0
        ? [
            '',
            "Router memory: RSS of wrangler dev (node) and of workerd, and the router isolate's JS heap after a",
            "GC (all of Sluice's own objects: the Worker and both Durable Object classes share the isolate):",
            '',
            '| s | wrangler (node) RSS MiB | workerd RSS MiB | JS heap MiB |',
            '|---|---|---|---|',
            ...memory,
          ]
        : []),
    ];
    return lines.join('\n');
  } finally {
    if (sampler) clearInterval(sampler);
    inspector?.close();
    await stack.close();
  }
}
