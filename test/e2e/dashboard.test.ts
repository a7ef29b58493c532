// The dashboard in a real browser (Debian's chromium driven by playwright-core) while a demo load runs:
// no console errors, charts drawn, the same numbers as the admin API once the load has settled, and a
// screenshot in test-artifacts/. Outside CI a missing browser skips this file with the install command;
// in CI (CI=true) it fails.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoLoad, type DemoLoad, type DemoWorkload } from '../../scripts/demo-load.ts';
import { REPO_ROOT } from '../../scripts/router-process.ts';
import type { OutcomeCounts } from '../../src/core/index.ts';
import { startStack, waitFor, type Stack } from './support/stack.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const HAVE_BROWSER = existsSync(CHROMIUM);
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
if (!HAVE_BROWSER) {
  const how = `no browser at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (or set CHROMIUM_PATH)`;
  if (process.env['CI'] === 'true') throw new Error(`dashboard browser test: ${how}`);
  console.warn(`SKIPPED dashboard browser test: ${how}`);
}

/** The fields of GET /admin/workloads this test reads (the worker's types live in another tsconfig). */
interface AdminWorkloadList {
  readonly data: ReadonlyArray<{
    readonly workloadId: string;
    readonly totalRequests: number;
    readonly activeRequests: number;
    readonly queuedRequests: number;
    readonly inFlightRequests: number;
    readonly outcomes: OutcomeCounts;
    readonly promptTokens: number;
    readonly completionTokens: number;
  }>;
}

const MODEL = 'demo-model';
const WORKLOADS: DemoWorkload[] = [
  { workloadId: 'dash-critical', criticality: 5, ratePerSec: 6, model: MODEL, maxTokens: 8 },
  { workloadId: 'dash-normal-a', criticality: 3, ratePerSec: 10, model: MODEL, maxTokens: 12 },
  { workloadId: 'dash-normal-b', criticality: 3, ratePerSec: 4, model: MODEL, maxTokens: 12 },
  { workloadId: 'dash-batch', criticality: 1, ratePerSec: 10, model: MODEL, maxTokens: 16 },
];

// Browser-side code, as source text (this project's TypeScript has no DOM types).
/** Each chart's card width and its canvas's drawn width, in CSS pixels. */
const CHART_FILL = `() => [...document.querySelectorAll('.chart-depth, .chart-wait')].map((card) => ({
  card: card.clientWidth,
  canvas: card.querySelector('canvas').getBoundingClientRect().width,
}))`;
/** Pixels of each chart's series colour (client.js): the lines uPlot drew, not just an empty canvas. */
const COUNT_SERIES_PIXELS = `(() => {
  const count = (sel, rgb) => {
    const canvas = document.querySelector(sel + ' canvas');
    const ctx = canvas && canvas.getContext('2d');
    if (!ctx) return -1;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const near = (k) => Math.abs(data[i + k] - rgb[k]) < 40;
      if (near(0) && near(1) && near(2) && data[i + 3] > 0) n++;
    }
    return n;
  };
  return { running: count('.chart-depth', [25, 113, 194]), p95: count('.chart-wait', [156, 54, 181]) };
})()`;

/** The workloads table's cells, by workload and data-field. */
const READ_ROWS = `(ids) => {
  const fields = ['requests', 'queued', 'running', 'success', 'rejected', 'promptTokens', 'completionTokens'];
  const out = {};
  for (const id of ids) {
    const row = document.querySelector('tr[data-workload="' + id + '"]');
    out[id] = Object.fromEntries(
      fields.map((f) => [f, row?.querySelector('[data-field="' + f + '"]')?.textContent ?? '']),
    );
  }
  return out;
}`;

let stack: Stack;
let browser: Browser;
let page: Page;
let load: DemoLoad;
const consoleErrors: string[] = [];

describe.skipIf(!HAVE_BROWSER)('dashboard in a browser', () => {
  beforeAll(async () => {
    stack = await startStack(
      [
        { name: 'gpu-1', maxConcurrency: 2, models: [MODEL], sim: { ttftMs: 60, itlMs: 8 } },
        { name: 'gpu-2', maxConcurrency: 2, models: [MODEL], sim: { ttftMs: 60, itlMs: 8 } },
      ],
      { MAX_QUEUE_PER_WORKLOAD: '20' },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    load = startDemoLoad({ url: stack.url, workloads: WORKLOADS, maxOpen: 25, maxRequests: 600 });
  });

  afterAll(async () => {
    await load?.stop();
    await browser?.close();
    await stack?.close();
  });

  it('loads without console errors and draws both charts while the load runs', async () => {
    await page.goto(`${stack.url}/dashboard`);
    // A few updates in, with a queue to show.
    await page.waitForFunction('Number(document.body.dataset.updates ?? 0) >= 4', undefined, {
      timeout: 30_000,
    });
    await page.waitForSelector('tr[data-workload="dash-batch"]');
    const drawn = (await page.evaluate(COUNT_SERIES_PIXELS)) as { running: number; p95: number };
    expect(drawn.running).toBeGreaterThan(20);
    expect(drawn.p95).toBeGreaterThan(20);
    // Each chart fills its card, and follows it when the window narrows.
    const fill = async () =>
      (await page.evaluate(`(${CHART_FILL})()`)) as Array<{ card: number; canvas: number }>;
    const before = await fill();
    expect(before.length).toBeGreaterThan(0);
    for (const c of before) expect(c.canvas).toBeGreaterThanOrEqual(c.card * 0.95);
    const viewport = page.viewportSize();
    if (viewport)
      await page.setViewportSize({ width: Math.round(viewport.width * 0.6), height: viewport.height });
    await page.waitForFunction(`(${CHART_FILL})().every((c) => c.canvas <= c.card + 1)`, undefined, {
      timeout: 5_000,
    });
    if (viewport) await page.setViewportSize(viewport);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('shows the same numbers as the admin API once the load has settled', async () => {
    await load.stop();
    expect(load.stats.sent).toBeGreaterThan(50);
    const admin = await waitFor(
      async () => (await (await fetch(`${stack.url}/admin/workloads`)).json()) as AdminWorkloadList,
      (list) => list.data.length === WORKLOADS.length && list.data.every((w) => w.activeRequests === 0),
      20_000,
    );
    const expected = Object.fromEntries(
      admin.data.map((w) => [
        w.workloadId,
        {
          requests: String(w.totalRequests),
          queued: String(w.queuedRequests),
          running: String(w.inFlightRequests),
          success: String(w.outcomes.success),
          rejected: String(w.outcomes.rejected),
          promptTokens: String(w.promptTokens),
          completionTokens: String(w.completionTokens),
        },
      ]),
    );
    const shown = async () =>
      (await page.evaluate(`(${READ_ROWS})(${JSON.stringify(Object.keys(expected))})`)) as Record<
        string,
        Record<string, string>
      >;
    // The page polls every 1.5 s: wait for it to catch up with the settled numbers.
    const seen = await waitFor(shown, (s) => JSON.stringify(s) === JSON.stringify(expected), 20_000).catch(
      async () => shown(),
    );
    expect(seen).toEqual(expected);
    const success = Object.values(expected).reduce((n, w) => n + Number(w.success), 0);
    expect(success).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-settled.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});

describe.skipIf(!HAVE_BROWSER)('dashboard behind ADMIN_TOKEN', () => {
  const TOKEN = 'dash-s3cret';
  let guarded: Stack;
  let tokenBrowser: Browser;

  beforeAll(async () => {
    guarded = await startStack(
      [{ name: 'gpu', maxConcurrency: 2, models: [MODEL], sim: { ttftMs: 5, itlMs: 1 } }],
      {
        ADMIN_TOKEN: TOKEN,
      },
    );
    const res = await fetch(`${guarded.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-workload-context': JSON.stringify({ workload_id: 'dash-token', criticality: 3 }),
      },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    tokenBrowser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await tokenBrowser?.close();
    await guarded?.close();
  });

  it('asks for the token, keeps it in sessionStorage, sends it as a header and never in a URL', async () => {
    const p = await tokenBrowser.newPage();
    const errors: string[] = [];
    p.on('pageerror', (err) => errors.push(err.message));
    const urls: string[] = [];
    const authorizations: string[] = [];
    p.on('request', (req) => {
      urls.push(req.url());
      const auth = req.headers()['authorization'];
      if (auth) authorizations.push(auth);
    });
    await p.goto(`${guarded.url}/dashboard`);
    await p.waitForSelector('#login:not([hidden])');
    expect(await p.locator('tr[data-workload]').count()).toBe(0);
    await p.fill('#token', TOKEN);
    await p.click('#login button[type=submit]');
    await p.waitForSelector('tr[data-workload="dash-token"]');
    expect(await p.locator('tr[data-workload="dash-token"] [data-field="success"]').textContent()).toBe('1');
    expect(await p.evaluate('sessionStorage.getItem("sluice.adminToken")')).toBe(TOKEN);
    expect(authorizations).toContain(`Bearer ${TOKEN}`);
    expect(urls.some((u) => u.includes(TOKEN))).toBe(false);
    expect(p.url()).not.toContain(TOKEN);
    expect(errors).toEqual([]);
  });
});
