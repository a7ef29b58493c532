// End to end with wrangler.toml's AUTH=on: the router under wrangler dev, a key created with
// `npm run keys` (the CLI, through the admin API), and the official `openai` SDK using it as its apiKey.
// Without a key the SDK gets an AuthenticationError; revoked (key cache off here), the key stops working.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/router-process.ts';
import { adminWorkload, startStack, type Stack } from './support/stack.ts';

const ADMIN_TOKEN = 'e2e-admin-token';
const run = promisify(execFile);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack([{ name: 'gpu-a', maxConcurrency: 2, sim: { ttftMs: 5, itlMs: 1 } }], {
    AUTH: 'on',
    ADMIN_TOKEN,
    AUTH_CACHE_TTL_MS: '0',
  });
});

afterAll(async () => {
  await stack?.close();
});

async function keys(...args: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['scripts/keys.ts', ...args, '--url', stack.url], {
    cwd: REPO_ROOT,
    env: { ...process.env, SLUICE_ADMIN_TOKEN: ADMIN_TOKEN },
  });
  return stdout.trim().split('\n');
}

function client(apiKey: string, context?: Record<string, unknown>): OpenAI {
  return new OpenAI({
    baseURL: `${stack.url}/v1`,
    apiKey,
    maxRetries: 0,
    ...(context ? { defaultHeaders: { 'X-Workload-Context': JSON.stringify(context) } } : {}),
  });
}

const ask = (c: OpenAI) =>
  c.chat.completions
    .create({ model: 'sim-model', messages: [{ role: 'user', content: 'x' }], max_tokens: 2 })
    .withResponse();

describe('API keys end to end (AUTH=on)', () => {
  it('a key created with npm run keys works with the openai SDK, capped at its criticality', async () => {
    const out = await keys('create', '--workload', 'e2e-keys', '--max-criticality', '3');
    const secret = out.at(-1) ?? '';
    expect(secret).toMatch(/^sk-sluice-/);

    const { data, response } = await ask(client(secret, { criticality: 5 }));
    expect(response.status).toBe(200);
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(response.headers.get('x-sluice-workload')).toBe('e2e-keys');
    expect(response.headers.get('x-sluice-criticality')).toBe('3');
    expect(response.headers.get('x-sluice-criticality-capped')).toBe('5');

    // Streaming goes through the same key.
    const stream = await client(secret).chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 3,
      stream: true,
    });
    let chunks = 0;
    for await (const _chunk of stream) chunks++;
    expect(chunks).toBeGreaterThan(0);

    const w = await adminWorkload(stack.url, 'e2e-keys', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(w['totalRequests']).toBe(2);
  });

  it('the SDK without a valid key gets AuthenticationError (401 invalid_api_key)', async () => {
    const err = await ask(client('sk-not-a-sluice-key')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  });

  it('a key revoked with npm run keys stops working', async () => {
    const secret = (await keys('create', '--workload', 'e2e-revoke')).at(-1) ?? '';
    expect((await ask(client(secret))).response.status).toBe(200);
    const listed = await keys('list');
    const id = listed
      .map((l) => JSON.parse(l) as { id: string; workloads: string[] })
      .find((k) => k.workloads[0] === 'e2e-revoke')?.id;
    expect(id).toBeDefined();
    expect((await keys('revoke', id ?? '')).join('\n')).toContain('revoked');
    const err = await ask(client(secret)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('npm run keys refuses a non-finite number instead of sending null (which would drop the limit)', async () => {
    for (const args of [
      ['create', '--workload', 'e2e-inf', '--max-in-flight', 'Infinity'],
      ['create', '--workload', 'e2e-inf', '--rpm=-Infinity'],
      ['update', '0123456789abcdef', '--tpm', 'Infinity'],
      ['update', '0123456789abcdef', '--weight', 'Infinity'],
    ]) {
      const err = (await keys(...args).catch((e: unknown) => e)) as { code?: number; stderr?: string };
      expect(err.code).toBe(1);
      expect(err.stderr).toMatch(/must be a finite number/);
    }
    const listed = await keys('list');
    expect(listed.join('\n')).not.toContain('e2e-inf');
  });

  it('npm run keys -- list follows the cursor: pages of 2 print every key once, as one page does', async () => {
    for (const i of [0, 1, 2]) await keys('create', '--workload', `e2e-page-${i}`);
    const idsOf = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { id: string }).id);
    const whole = idsOf(await keys('list'));
    expect(whole.length).toBeGreaterThan(4); // so pages of 2 take at least three requests
    const paged = idsOf(await keys('list', '--limit', '2'));
    expect(paged).toEqual(whole);
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged).toEqual([...paged].sort());

    const err = (await keys('list', '--limit', '0').catch((e: unknown) => e)) as {
      code?: number;
      stderr?: string;
    };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/400: limit must be an integer from 1 to 1000/);
  });

  it('the admin API refuses the inference key and the missing token', async () => {
    const secret = (await keys('create', '--workload', 'e2e-admin')).at(-1) ?? '';
    expect((await fetch(`${stack.url}/admin/keys`)).status).toBe(401);
    expect(
      (await fetch(`${stack.url}/admin/keys`, { headers: { authorization: `Bearer ${secret}` } })).status,
    ).toBe(401);
  });
});
