// `npm run bench -- profile`: where the router's CPU goes. Runs Sluice under Miniflare (the bundle
// `wrangler deploy` would upload) against a zero-delay simulated backend, samples the router isolate's
// V8 profiler through workerd's inspector while a closed-loop load runs, and prints the functions with
// the largest self and inclusive shares of the samples. The Worker and both Durable Object classes share
// the isolate, so this is all of Sluice's JavaScript; native time shows as (program), (garbage
// collector) and the runtime's own functions (fetch, put, …). Writes the raw profile (open it in Chrome
// DevTools) to a temporary file and prints its path.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimServer } from '../sim/server.ts';
import { freePort } from '../scripts/free-port.ts';
import { startMiniflareSluice } from '../scripts/miniflare-router.ts';
import { connectInspector } from './inspector.ts';
import { runLoad } from './load.ts';

const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 3000);
/** BENCH_STREAM_TOKENS=N profiles streamed answers of N tokens (N chunks) instead of one-token JSON. */
const STREAM_TOKENS = Number(process.env['BENCH_STREAM_TOKENS'] ?? 0);
const TOP = 25;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

/** Self and inclusive sample shares by function. */
function summarize(
  profile: Profile,
  source: readonly string[],
): { self: Map<string, number>; inclusive: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // An anonymous function is named by the start of its bundle line (`offer: (pool, …) =>`, …).
  const key = (n: ProfileNode): string => {
    const line = n.callFrame.lineNumber;
    if (n.callFrame.functionName !== '' || line < 0) return n.callFrame.functionName || '(anonymous)';
    const text = (source[line] ?? '').trim().replace(/\/\* @__PURE__ \*\/ __name\(/, '');
    return `(anonymous) ${text.slice(0, 60)}`;
  };
  const counts = new Map<number, number>();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const total = profile.samples.length;
  for (const [id, c] of counts) {
    const leaf = byId.get(id);
    if (!leaf) continue;
    self.set(key(leaf), (self.get(key(leaf)) ?? 0) + c / total);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (!node || node.callFrame.functionName === '(root)') continue;
      const k = key(node);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + c / total);
    }
  }
  return { self, inclusive };
}

function table(title: string, shares: Map<string, number>): string[] {
  const rows = [...shares].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  return [
    '',
    `${title}:`,
    '',
    '| share of samples | function |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${(100 * v).toFixed(1)} % | \`${k}\` |`),
  ];
}

export async function runProfile(): Promise<string> {
  const sim = await startSimServer({ name: 'sim', port: 0, maxNumSeqs: 256, ttftMs: 0, itlMs: 0 });
  const inspectorPort = await freePort();
  const router = await startMiniflareSluice(sim.url, { slots: 256, vars: { AUTH: 'off' }, inspectorPort });
  try {
    const url = `${router.url}/v1/chat/completions`;
    const body = JSON.stringify({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'bench' }],
      ...(STREAM_TOKENS > 0 ? { max_tokens: STREAM_TOKENS, stream: true } : { max_tokens: 1 }),
    });
    const headers = { 'x-workload-context': JSON.stringify({ workload_id: 'bench', criticality: 3 }) };
    await runLoad({ url, concurrency: CONCURRENCY, requests: 300, body, headers });
    // workerd names the user Worker's isolate `core:user:<name>`.
    const session = await connectInspector(inspectorPort, (t) =>
      t.webSocketDebuggerUrl.endsWith(':user:worker'),
    );
    try {
      await session.call('Profiler.enable');
      await session.call('Profiler.setSamplingInterval', { interval: 100 });
      await session.call('Profiler.start');
      const load = await runLoad({ url, concurrency: CONCURRENCY, requests: REQUESTS, body, headers });
      const { profile } = await session.call<{ profile: Profile }>('Profiler.stop');
      const file = join(mkdtempSync(join(tmpdir(), 'sluice-profile-')), 'router.cpuprofile');
      writeFileSync(file, JSON.stringify(profile));
      const { self, inclusive } = summarize(profile, router.entrySource.split('\n'));
      return [
        `Router CPU profile (Miniflare): ${load.requests} requests at concurrency ${CONCURRENCY}, ${load.rps.toFixed(0)} req/s while sampled every 100 µs;`,
        `${profile.samples.length} samples. Raw profile: ${file}`,
        ...table('Self time (where the isolate was when sampled; (idle) is time with nothing to run)', self),
        ...table("Inclusive time (Sluice's functions and what they call)", inclusive),
      ].join('\n');
    } finally {
      session.close();
    }
  } finally {
    await router.close();
    await sim.close();
  }
}
