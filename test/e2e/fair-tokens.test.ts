// Token fairness end to end, under the default policy: two tenants of equal criticality keep the router
// backlogged against one simulated backend whose answers are 40 tokens long however many are asked for.
// One asks for max_tokens 320 (8× what it gets), the other for 40. Charged what they actually use, they
// are served about equal tokens; the admin API shows each one's estimated, charged and reported tokens.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminWorkload, openaiClient, startStack, waitFor, type Stack } from './support/stack.ts';

const ANSWER_TOKENS = 40;
const OVER_ASK = 8;
/** Requests each tenant keeps open at once: more than the backend's slots, so both stay backlogged. */
const CLIENTS_PER_TENANT = 4;
/** The load stops once this many requests have completed in all (bounded, ≈ 10 s). */
const STOP_AFTER = 80;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack([
    { name: 'gpu', maxConcurrency: 2, sim: { ttftMs: 20, itlMs: 5, outputTokens: ANSWER_TOKENS } },
  ]);
});

afterAll(async () => {
  await stack?.close();
});

describe('token fairness through the router (default policy)', () => {
  it('serves an over-asking tenant and an exact one about equal tokens while both are backlogged', async () => {
    const tenants = [
      { id: 'e2e-over-asker', maxTokens: OVER_ASK * ANSWER_TOKENS },
      { id: 'e2e-exact', maxTokens: ANSWER_TOKENS },
    ];
    const served = new Map(tenants.map((t) => [t.id, 0]));
    let completed = 0;
    const loop = async (tenant: (typeof tenants)[number]): Promise<void> => {
      const c = openaiClient(stack.url, tenant.id);
      while (completed < STOP_AFTER) {
        const answer = await c.chat.completions.create({
          model: 'sim-model',
          messages: [{ role: 'user', content: 'the same short prompt for both tenants' }],
          max_tokens: tenant.maxTokens,
        });
        // Counted only while the load lasts: both tenants are backlogged throughout that window.
        if (completed >= STOP_AFTER) break;
        completed++;
        served.set(tenant.id, (served.get(tenant.id) ?? 0) + (answer.usage?.completion_tokens ?? 0));
      }
    };
    await Promise.all(tenants.flatMap((t) => Array.from({ length: CLIENTS_PER_TENANT }, () => loop(t))));

    const [over, exact] = tenants.map((t) => served.get(t.id) ?? 0) as [number, number];
    const overShare = over / (over + exact);
    console.log(`completion tokens served while backlogged: over-asker ${over}, exact ${exact}`);
    expect(over + exact).toBe(STOP_AFTER * ANSWER_TOKENS);
    expect(overShare).toBeGreaterThanOrEqual(0.4);
    expect(overShare).toBeLessThanOrEqual(0.6);

    const [overAdmin, exactAdmin] = await Promise.all(
      tenants.map((t) =>
        waitFor(
          () => adminWorkload(stack.url, t.id),
          (w) => w['activeRequests'] === 0,
        ),
      ),
    );
    for (const w of [overAdmin, exactAdmin]) {
      // Every request ended with usage, so the charge is exactly what the backend reported.
      expect(w?.['usageUnknownCount']).toBe(0);
      expect(w?.['chargedTokens']).toBe(Number(w?.['promptTokens']) + Number(w?.['completionTokens']));
      expect(w?.['completionTokens']).toBe(ANSWER_TOKENS * Number(w?.['completedCount']));
    }
    // The over-asker's estimates are about 8× what it was charged; the exact tenant's about equal.
    const ratio = (w: Record<string, unknown> | undefined): number =>
      Number(w?.['estimatedTokens']) / Number(w?.['chargedTokens']);
    expect(ratio(overAdmin)).toBeGreaterThan(OVER_ASK * 0.75);
    expect(ratio(exactAdmin)).toBeLessThan(1.5);
  });
});
