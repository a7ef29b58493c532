// A real local stack for end-to-end tests: simulated backends (sim/) and the router under wrangler dev,
// and the official OpenAI client pointed at it as one workload.

import OpenAI from 'openai';
import { startSimServer, type SimServer } from '../../../sim/server.ts';
import type { SimOptions } from '../../../sim/options.ts';
import { freePort } from '../../../scripts/free-port.ts';
import { startRouterProcess, type RouterProcess } from '../../../scripts/router-process.ts';

export interface Stack {
  readonly url: string;
  readonly sims: readonly SimServer[];
  readonly router: RouterProcess;
  close(): Promise<void>;
}

export interface StackBackend {
  readonly name: string;
  readonly sim?: Partial<SimOptions>;
  /** Point the router at this URL instead of a simulator (e.g. a closed port). */
  readonly url?: string;
  readonly maxConcurrency: number;
  /** The BACKENDS `pool` (default: the router's default pool). */
  readonly pool?: string;
  /** The BACKENDS `models`; a simulator also lists them on /v1/models unless `sim.models` says otherwise. */
  readonly models?: readonly string[];
}

export async function startStack(
  backends: readonly StackBackend[],
  vars: Record<string, string> = {},
  options: { readonly inspectorPort?: number } = {},
): Promise<Stack> {
  const sims: SimServer[] = [];
  const entries = [];
  for (const b of backends) {
    let url = b.url;
    if (url === undefined) {
      const sim = await startSimServer({
        name: b.name,
        port: 0,
        maxNumSeqs: b.maxConcurrency,
        ...(b.models === undefined ? {} : { models: b.models }),
        ...b.sim,
      });
      sims.push(sim);
      url = sim.url;
    }
    entries.push({ name: b.name, url, maxConcurrency: b.maxConcurrency, pool: b.pool, models: b.models });
  }
  const output: string[] = [];
  let router: RouterProcess;
  try {
    router = await startRouterProcess({
      port: await freePort(),
      // AUTH=off unless a test turns it on: most e2e tests exercise scheduling, not keys.
      vars: { BACKENDS: JSON.stringify(entries), AUTH: 'off', ...vars },
      onOutput: (line) => output.push(line),
      ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    });
  } catch (err) {
    await Promise.all(sims.map((s) => s.close()));
    throw new Error(`${String(err)}\n${output.slice(-20).join('\n')}`);
  }
  return {
    url: router.url,
    sims,
    router,
    async close() {
      await router.close();
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}

/**
 * The official client as one workload, through the router at `url`. No retries: a test sees every
 * failure. The API key is a placeholder; AUTH is off unless a test turns it on.
 */
export function openaiClient(url: string, workloadId: string, criticality = 3): OpenAI {
  return new OpenAI({
    baseURL: `${url}/v1`,
    apiKey: 'not-needed-for-sim',
    maxRetries: 0,
    defaultHeaders: { 'X-Workload-Context': JSON.stringify({ workload_id: workloadId, criticality }) },
  });
}

export async function adminWorkload(
  url: string,
  id: string,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/admin/workloads/${encodeURIComponent(id)}`, { headers });
  return (await res.json()) as Record<string, unknown>;
}

export async function waitFor<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    value = await probe();
  }
  if (!ok(value))
    throw new Error(`condition not met in ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
  return value;
}
