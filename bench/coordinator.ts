// Coordinator benchmark: one pool's CoordinatorDO driven as hard as it goes by many workloads, swept over
// concurrency, under Miniflare's API and wrangler dev. Prints grants per second and the offer and release
// round trips the workload objects saw. The load runs inside the Worker (bench/workers/), so a request
// costs the coordinator its offer and release (and, when slots are short, the grant it sends) and no
// HTTP, proxy or backend work. Never asserts on time.

import { loadavg } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/free-port.ts';
import { startMiniflareWorker } from '../scripts/miniflare-router.ts';
import { REPO_ROOT, startRouterProcess } from '../scripts/router-process.ts';
import type { RunResult, RunSpec } from './coordinator-protocol.ts';
import { percentile } from './load.ts';

const CONFIG_PATH = join(REPO_ROOT, 'bench', 'workers', 'coordinator.wrangler.toml');
const REQUESTS = Number(process.env['COORD_BENCH_REQUESTS'] ?? 2000);
const WORKLOADS = listFromEnv('COORD_BENCH_WORKLOADS', [10, 1000]);
const CONCURRENCY = listFromEnv('COORD_BENCH_CONCURRENCY', [1, 4, 16, 64, 256]);
const RUNTIMES = (process.env['COORD_BENCH_RUNTIMES'] ?? 'miniflare,wrangler').split(',');
const WARMUP_REQUESTS = 500;
/** A bound on each point's loop, so a stuck run cannot hang the bench. */
const MAX_SECONDS_PER_POINT = 60;
/** A request not granted by then counts as failed (the Worker stops waiting for it). */
const REQUEST_TIMEOUT_S = 30;
/** "tight" has this many slots: with more requests in flight than that, heads wait for a release. */
const TIGHT_SLOTS = 8;

/**
 * Pools in one Worker: "ample" grants every offer inline; "tight" makes slots move by grant RPC; "echo" is
 * a coordinator that decides and stores nothing (the runtime's floor for the same calls).
 */
const POOL_NAMES = ['echo', 'ample', 'tight'];
const POOLS = (process.env['COORD_BENCH_POOLS'] ?? POOL_NAMES.join(',')).split(',');
for (const pool of POOLS) {
  if (!POOL_NAMES.includes(pool)) {
    throw new TypeError(`COORD_BENCH_POOLS: unknown pool ${JSON.stringify(pool)} (${POOL_NAMES.join(', ')})`);
  }
}
const VARS = {
  BACKENDS: JSON.stringify([
    { name: 'a', url: 'http://127.0.0.1:1', maxConcurrency: 100_000, pool: 'ample', models: ['ample'] },
    { name: 't', url: 'http://127.0.0.1:1', maxConcurrency: TIGHT_SLOTS, pool: 'tight', models: ['tight'] },
  ]),
  METRICS_INTERVAL_MS: '0',
  POLICY: 'workload-aware',
  // The bench drives the objects from inside the Worker: no inference route, no keys to look up.
  AUTH: 'off',
};

function listFromEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const values = raw.split(',').map(Number);
  if (values.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new TypeError(
      `${name} must be a comma-separated list of positive integers, got ${JSON.stringify(raw)}`,
    );
  }
  return values;
}

interface Endpoint {
  readonly url: string;
  close(): Promise<void>;
}

async function startMiniflare(): Promise<Endpoint> {
  return startMiniflareWorker({
    configPath: CONFIG_PATH,
    bindings: VARS,
    durableObjects: {
      WORKLOAD: { className: 'BenchWorkloadDO', useSQLite: true },
      COORDINATOR: { className: 'CoordinatorDO', useSQLite: true },
      ECHO: { className: 'EchoCoordinatorDO', useSQLite: true },
    },
  });
}

async function startWranglerDev(): Promise<Endpoint> {
  return startRouterProcess({ port: await freePort(), configPath: CONFIG_PATH, vars: VARS });
}

let points = 0;

async function runPoint(
  base: string,
  spec: Omit<RunSpec, 'workloadPrefix' | 'requestPrefix' | 'maxSeconds' | 'requestTimeoutSeconds'>,
): Promise<RunResult> {
  // The same workload objects serve every point of a pool: a fresh set per point would leave thousands
  // of idle objects in the runtime's memory by the end of the sweep.
  const body: RunSpec = {
    ...spec,
    workloadPrefix: spec.pool,
    requestPrefix: `p${points++}`,
    maxSeconds: MAX_SECONDS_PER_POINT,
    requestTimeoutSeconds: REQUEST_TIMEOUT_S,
  };
  // A runtime that restarts mid-point loses the requests in flight; give up on the point, not the sweep.
  const res = await fetch(`${base}/run`, {
    method: 'POST',
    body: JSON.stringify(body),
    signal: AbortSignal.timeout((MAX_SECONDS_PER_POINT + REQUEST_TIMEOUT_S + 30) * 1000),
  });
  if (res.status !== 200) throw new Error(`bench worker answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as RunResult;
}

function ms(sorted: number[], p: number): string {
  return sorted.length === 0 ? '—' : percentile(sorted, p).toFixed(0);
}

function mean(values: number[]): string {
  return values.length === 0 ? '—' : (values.reduce((a, b) => a + b, 0) / values.length).toFixed(2);
}

function row(runtime: string, pool: string, workloads: number, concurrency: number, r: RunResult): string {
  const offers = r.samples.flatMap((s) => s.offerMs).sort((a, b) => a - b);
  const releases = r.samples.flatMap((s) => s.releaseMs).sort((a, b) => a - b);
  const cycles = [...r.cycleMs].sort((a, b) => a - b);
  const rpcGrants = r.samples.reduce((n, s) => n + s.rpcGrants, 0);
  const inlineGrants = r.samples.reduce((n, s) => n + s.inlineGrants, 0);
  const byRpc = rpcGrants + inlineGrants === 0 ? 0 : (100 * rpcGrants) / (rpcGrants + inlineGrants);
  return [
    runtime,
    pool,
    workloads,
    concurrency,
    (r.served / r.seconds).toFixed(0),
    `${ms(offers, 50)} / ${ms(offers, 99)} (${mean(offers)})`,
    `${ms(releases, 50)} / ${ms(releases, 99)} (${mean(releases)})`,
    `${ms(cycles, 50)} / ${ms(cycles, 99)}`,
    `${byRpc.toFixed(0)} %`,
    r.failed,
    r.leasesLeft,
  ].join(' | ');
}

export async function runCoordinatorBench(): Promise<string> {
  const lines = [
    `Coordinator benchmark: one CoordinatorDO per pool, ${REQUESTS} requests per point (after a ${WARMUP_REQUESTS}-request`,
    'warm-up per pool), each admitted to a workload object, granted a slot and completed at once. Offer and',
    'release: round trip as the workload object saw it, p50 / p99 (mean), in ms; the Workers clock ticks in',
    `whole milliseconds, so p50 and p99 are integers and the mean carries the fraction. Pool "tight" has ${TIGHT_SLOTS}`,
    'slots, so with more requests in flight heads wait and the coordinator grants by RPC on each release. Pool',
    '"echo" is a stand-in coordinator that grants at once and stores nothing: the runtime\'s cost of the same calls.',
    '',
    '| runtime | pool | workloads | concurrency | grants/s | offer ms | release ms | request ms p50 / p99 | grants by RPC | failed | leases left |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const runtime of RUNTIMES) {
    if (runtime !== 'miniflare' && runtime !== 'wrangler') {
      throw new TypeError(
        `COORD_BENCH_RUNTIMES: unknown runtime ${JSON.stringify(runtime)} (miniflare, wrangler)`,
      );
    }
    const label = runtime === 'miniflare' ? 'Miniflare (API)' : 'wrangler dev';
    const endpoint = runtime === 'miniflare' ? await startMiniflare() : await startWranglerDev();
    try {
      for (const pool of POOLS) {
        await runPoint(endpoint.url, { pool, workloads: 10, concurrency: 16, requests: WARMUP_REQUESTS });
        for (const workloads of WORKLOADS) {
          for (const concurrency of CONCURRENCY) {
            // Below the slot count the tight pool is the ample one.
            if (pool === 'tight' && concurrency <= TIGHT_SLOTS) continue;
            let line: string;
            try {
              const r = await runPoint(endpoint.url, { pool, workloads, concurrency, requests: REQUESTS });
              line = `| ${row(label, pool, workloads, concurrency, r)} |`;
            } catch (err) {
              line = `| ${label} | ${pool} | ${workloads} | ${concurrency} | failed: ${err instanceof Error ? err.message : String(err)} |||||||`;
            }
            lines.push(line);
            // Progress on stderr: a long sweep shows its rows as they come.
            console.error(line);
          }
        }
      }
    } finally {
      await endpoint.close();
    }
  }
  // Other work on the machine moves these figures; say how busy it was.
  lines.push(
    '',
    `Load average at the end (1, 5, 15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}.`,
  );
  return lines.join('\n');
}
