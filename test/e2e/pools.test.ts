// Backend pools end to end, through the official `openai` client: two pools serving two models, each
// request routed to its model's pool only; and one backend of a pool killed under load, its requests
// failed over before the first byte so that no client sees an error and every request is counted once.

import { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimServer } from '../../sim/server.ts';
import { adminWorkload, openaiClient, startStack, waitFor, type Stack } from './support/stack.ts';

const POOLS: Readonly<Record<string, { readonly model: string; readonly backends: readonly string[] }>> = {
  llama: { model: 'llama-70b', backends: ['llama-1', 'llama-2'] },
  qwen: { model: 'qwen-7b', backends: ['qwen-1'] },
};
/** Each token 10 ms: a 10–20 token completion takes about 120–220 ms, long enough to be cut off mid-way. */
const SIM_TIMING = { ttftMs: 20, itlMs: 10 };

let stack: Stack;

beforeAll(async () => {
  stack = await startStack(
    Object.entries(POOLS).flatMap(([pool, { model, backends }]) =>
      backends.map((name) => ({ name, pool, models: [model], maxConcurrency: 4, sim: SIM_TIMING })),
    ),
  );
});

afterAll(async () => {
  await stack?.close();
});

function sim(name: string): SimServer {
  const found = stack.sims.find((s) => s.options.name === name);
  if (!found) throw new Error(`no simulator named ${name}`);
  return found;
}

interface AdminBackend {
  readonly name: string;
  readonly pool: string;
  readonly inFlight: number;
  readonly healthy: boolean;
  readonly consecutiveFailures: number;
}

async function adminBackends(): Promise<AdminBackend[]> {
  const res = await fetch(`${stack.url}/admin/backends`);
  return ((await res.json()) as { data: AdminBackend[] }).data;
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

describe('backend pools through Sluice', () => {
  it('routes each model to its own pool only, lists both models, and refuses an unknown one with 404', async () => {
    const c = openaiClient(stack.url, 'e2e-pools-mixed');
    const total = 40;
    const results = await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const pool = i % 2 === 0 ? 'llama' : 'qwen';
        const model = POOLS[pool]!.model;
        const messages = [{ role: 'user' as const, content: `mixed ${i}` }];
        if (i % 3 === 0) {
          const { data, response } = await c.chat.completions
            .create({ model, messages, max_tokens: 4, stream: true })
            .withResponse();
          let text = '';
          let echoed = '';
          for await (const chunk of data) {
            text += chunk.choices[0]?.delta.content ?? '';
            echoed = chunk.model;
          }
          return { pool, model, response, text, echoed };
        }
        const { data, response } = await c.chat.completions
          .create({ model, messages, max_tokens: 4 })
          .withResponse();
        return { pool, model, response, text: data.choices[0]?.message.content ?? '', echoed: data.model };
      }),
    );

    for (const r of results) {
      expect(r.response.status).toBe(200);
      expect(r.response.headers.get('x-sluice-pool')).toBe(r.pool);
      expect(POOLS[r.pool]!.backends).toContain(r.response.headers.get('x-sluice-backend'));
      // The simulator names itself too, so the header cannot merely echo the router's own choice.
      expect(r.response.headers.get('x-sim-backend')).toBe(r.response.headers.get('x-sluice-backend'));
      expect(r.echoed).toBe(r.model);
      expect(r.text.trim().split(' ')).toHaveLength(4);
    }
    const sent = countBy(results.map((r) => r.pool));
    // The simulators' own counts: nothing of one pool's traffic reached the other pool's backends.
    for (const [pool, { backends }] of Object.entries(POOLS)) {
      const stats = backends.map((name) => sim(name).stats());
      expect(stats.reduce((n, s) => n + s.received, 0)).toBe(sent[pool]);
      expect(stats.reduce((n, s) => n + s.completed, 0)).toBe(sent[pool]);
      for (const s of stats) expect(s.received).toBeGreaterThan(0);
    }
    const before = await waitFor(
      () => adminWorkload(stack.url, 'e2e-pools-mixed'),
      (w) => w['activeRequests'] === 0,
    );
    expect(before).toMatchObject({ totalRequests: total, completedCount: total });
    expect(before['outcomes']).toMatchObject({ success: total });

    const unknown = await c.chat.completions
      .create({ model: 'gpt-unknown', messages: [{ role: 'user', content: 'x' }], max_tokens: 2 })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown).toMatchObject({ status: 404, code: 'model_not_found', type: 'invalid_request_error' });
    expect((unknown as NotFoundError).message).toContain('gpt-unknown');
    const after = await adminWorkload(stack.url, 'e2e-pools-mixed');
    for (const key of ['totalRequests', 'completedCount', 'activeRequests', 'outcomes', 'retriedCount']) {
      expect(after[key]).toEqual(before[key]);
    }
    expect(stack.sims.reduce((n, s) => n + s.stats().received, 0)).toBe(total);

    const models = [];
    for await (const m of c.models.list()) models.push(m);
    expect(models.map((m) => m.id).sort()).toEqual(['llama-70b', 'qwen-7b']);
    expect(models.find((m) => m.id === 'qwen-7b')).toMatchObject({ pool: 'qwen' });
  });

  // Runs last: it kills a llama backend for good.
  it('fails the requests of a backend killed under load over to the rest of its pool, with no client error', async () => {
    const c = openaiClient(stack.url, 'e2e-pools-kill');
    const total = 60;
    const concurrency = 8;
    const killAfterCompleted = 20;
    type Outcome =
      | { readonly ok: true; readonly backend: string; readonly attempts: string; readonly status: number }
      | { readonly ok: false; readonly error: string };
    const outcomes: Outcome[] = [];
    let next = 0;
    let loadDone = false;
    // The simulators count from their start: the first test's requests are in their stats already.
    const baseline = new Map(POOLS['llama']!.backends.map((name) => [name, sim(name).stats()]));

    /**
     * Once `killAfterCompleted` requests are done, closes the llama backend running the most requests at
     * that moment (waiting, a few ms at a time, for one that runs any: on a busy machine the requests in
     * flight can all be inside the router for a moment), so that some are cut off mid-generation.
     */
    const killer = async (): Promise<{ name: string; inFlight: number }> => {
      const running = (s: SimServer): number => s.stats().running;
      const llamas = POOLS['llama']!.backends.map(sim);
      for (let polls = 0; ; polls++) {
        const [busiest] = [...llamas].sort((x, y) => running(y) - running(x));
        if (!busiest) throw new Error('no llama simulator');
        const ready = outcomes.length >= killAfterCompleted && running(busiest) > 0;
        if (ready || loadDone || polls >= 2_500) {
          const inFlight = running(busiest);
          await busiest.close();
          return { name: busiest.options.name, inFlight };
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    };

    const worker = async (): Promise<void> => {
      for (let i = next++; i < total; i = next++) {
        try {
          const { response } = await c.chat.completions
            .create({
              model: 'llama-70b',
              messages: [{ role: 'user', content: `steady ${i}` }],
              max_tokens: 10 + (i % 11),
            })
            .withResponse();
          outcomes.push({
            ok: true,
            status: response.status,
            backend: response.headers.get('x-sluice-backend') ?? '?',
            attempts: response.headers.get('x-sluice-attempts') ?? '?',
          });
        } catch (err) {
          outcomes.push({ ok: false, error: `request ${i}: ${String(err)}` });
        }
      }
    };
    const killing = killer();
    await Promise.all(Array.from({ length: concurrency }, worker));
    loadDone = true;
    const victim = await killing;

    const served = outcomes.flatMap((o) => (o.ok ? [o] : []));
    const errors = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
    const retried = served.filter((o) => o.attempts === '2');
    const killedStats = sim(victim.name).stats();
    const killedBase = baseline.get(victim.name)!;
    const killedSim = {
      completed: killedStats.completed - killedBase.completed,
      cancelled: killedStats.cancelled - killedBase.cancelled,
    };
    const w = await waitFor(
      () => adminWorkload(stack.url, 'e2e-pools-kill'),
      (x) => x['activeRequests'] === 0,
    );
    console.log(
      `pools kill: ${JSON.stringify({
        requests: total,
        clientErrors: errors.length,
        killed: victim.name,
        inFlightOnKilledAtKill: victim.inFlight,
        killedSim,
        retried: retried.length,
        retriedCount: w['retriedCount'],
        servedBy: countBy(served.map((o) => o.backend)),
        retriedServedBy: countBy(retried.map((o) => o.backend)),
        firstErrors: errors.slice(0, 3),
      })}`,
    );

    // The scenario really cut requests off in flight (and the load was still running then).
    expect(victim.inFlight).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    expect(served.map((o) => o.status)).toEqual(Array.from({ length: total }, () => 200));
    // A retried request went elsewhere: the killed backend never answers a second attempt.
    for (const o of retried) expect(o.backend).not.toBe(victim.name);
    expect(w).toMatchObject({
      totalRequests: total,
      completedCount: total,
      activeRequests: 0,
      retriedCount: retried.length,
    });
    expect(w['outcomes']).toMatchObject({ success: total, upstream_error: 0, lost: 0 });
    expect(retried.length).toBeGreaterThanOrEqual(1);
    // Every generation the kill cut off (the simulator's own count) was run again elsewhere.
    expect(retried.length).toBeGreaterThanOrEqual(killedSim.cancelled);

    const backends = await waitFor(adminBackends, (list) => list.every((b) => b.inFlight === 0));
    const dead = backends.find((b) => b.name === victim.name);
    expect(dead?.healthy === false || (dead?.consecutiveFailures ?? 0) >= 1, JSON.stringify(dead)).toBe(true);
  });
});
