// The demo load as `npm start -- --demo` sets it up (startDemo), against a router with AUTH=on and an
// ADMIN_TOKEN: one key per workload through the admin API, every request answered 200 and counted under
// its own workload. Without keys the same load is refused (401), and says so once instead of silently.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo } from '../../scripts/demo-keys.ts';
import { startDemoLoad, type DemoLoad, type DemoWorkload } from '../../scripts/demo-load.ts';
import type { OutcomeCounts } from '../../src/core/index.ts';
import { startStack, waitFor, type Stack } from './support/stack.ts';

const ADMIN_TOKEN = 'e2e-demo-admin-token';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const MODEL = 'demo-model';
const WORKLOADS: DemoWorkload[] = [
  { workloadId: 'demo-auth-critical', criticality: 5, ratePerSec: 20, model: MODEL, maxTokens: 4 },
  { workloadId: 'demo-auth-batch', criticality: 1, ratePerSec: 20, model: MODEL, maxTokens: 4 },
];
const MAX_REQUESTS = 12;

/** The fields of GET /admin/workloads and /admin/keys this test reads. */
interface AdminWorkloadList {
  readonly data: ReadonlyArray<{ readonly workloadId: string; readonly outcomes: OutcomeCounts }>;
}
interface AdminKeyList {
  readonly data: ReadonlyArray<{
    readonly id: string;
    readonly name: string | null;
    readonly workloads: readonly string[];
    readonly maxCriticality: number;
  }>;
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack(
    [{ name: 'gpu-a', maxConcurrency: 4, models: [MODEL], sim: { ttftMs: 5, itlMs: 1 } }],
    { AUTH: 'on', ADMIN_TOKEN },
  );
});

afterAll(async () => {
  await stack?.close();
});

/** Runs the load until it has sent everything it may, then waits for the answers. */
async function finish(load: DemoLoad): Promise<void> {
  await waitFor(
    async () => load.stats.sent + load.stats.skipped,
    (n) => load.stats.sent >= MAX_REQUESTS || n > 10 * MAX_REQUESTS,
  );
  await load.stop();
}

describe('the demo load under AUTH=on', () => {
  it('creates a key per workload and every request is answered 200 and counted under its workload', async () => {
    const warnings: string[] = [];
    const { load, keys } = await startDemo({
      url: stack.url,
      workloads: WORKLOADS,
      auth: 'on',
      adminToken: ADMIN_TOKEN,
      maxOpen: 4,
      maxRequests: MAX_REQUESTS,
      warn: (m) => warnings.push(m),
    });
    await finish(load);

    expect(keys.map((k) => k.workloadId)).toEqual(WORKLOADS.map((w) => w.workloadId));
    const listed = (await (
      await fetch(`${stack.url}/admin/keys`, { headers: ADMIN })
    ).json()) as AdminKeyList;
    for (const [i, k] of keys.entries()) {
      const view = listed.data.find((v) => v.id === k.id);
      expect(view?.workloads).toEqual([k.workloadId]);
      expect(view?.maxCriticality).toBe(WORKLOADS[i]!.criticality);
      expect(view?.name).toBe(k.name);
      expect(k.secret).toMatch(/^sk-sluice-/);
    }

    expect(warnings).toEqual([]);
    expect(load.stats.failed).toBe(0);
    expect(load.stats.sent).toBe(MAX_REQUESTS);
    expect([...load.stats.byStatus]).toEqual([[200, MAX_REQUESTS]]);
    for (const w of WORKLOADS) expect(load.stats.okByWorkload.get(w.workloadId) ?? 0).toBeGreaterThan(0);

    // The registry (what the dashboard shows) counts each workload's requests as its successes.
    const successes = () =>
      fetch(`${stack.url}/admin/workloads`, { headers: ADMIN })
        .then((r) => r.json() as Promise<AdminWorkloadList>)
        .then((list) =>
          Object.fromEntries(
            WORKLOADS.map((w) => [
              w.workloadId,
              list.data.find((d) => d.workloadId === w.workloadId)?.outcomes.success ?? 0,
            ]),
          ),
        );
    await waitFor(successes, (s) =>
      WORKLOADS.every((w) => s[w.workloadId] === load.stats.okByWorkload.get(w.workloadId)),
    );
  });

  it('without keys the load is refused with 401, and says so once', async () => {
    const warnings: string[] = [];
    const load = startDemoLoad({
      url: stack.url,
      workloads: WORKLOADS,
      maxOpen: 4,
      maxRequests: MAX_REQUESTS,
      warn: (m) => warnings.push(m),
    });
    await finish(load);

    expect([...load.stats.byStatus]).toEqual([[401, MAX_REQUESTS]]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('refused with 401 (invalid_api_key');
    expect(warnings[0]).toContain('The demo sent no API key');
  });

  it('a wrong admin token stops the demo before any load, with the router’s answer', async () => {
    const started = startDemo({
      url: stack.url,
      workloads: WORKLOADS,
      auth: 'on',
      adminToken: 'not-the-admin-token',
      maxRequests: MAX_REQUESTS,
    });
    await expect(started).rejects.toThrow('POST /admin/keys → 401');
  });
});
