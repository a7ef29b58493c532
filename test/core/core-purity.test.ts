// src/core stays pure: it imports nothing from Workers, Hono or src/worker, and it never reads a clock,
// draws randomness or schedules timers (time and randomness are parameters).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CORE = join(REPO, 'src/core');
const WORKER = join(REPO, 'src/worker');

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return listSources(path);
    return /\.(ts|js|mjs|cjs)$/.test(e.name) ? [path] : [];
  });
}

/** Comments removed, so that prose such as "never call Date.now()" is not mistaken for code. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

function importSpecifiers(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((re) => [...source.matchAll(re)].map((m) => m[1] ?? ''));
}

const FORBIDDEN_CALLS: ReadonlyArray<readonly [string, RegExp]> = [
  ['Date.now', /\bDate\s*\.\s*now\b/],
  ['new Date()', /\bnew\s+Date\s*\(\s*\)/],
  ['Math.random', /\bMath\s*\.\s*random\b/],
  ['setTimeout', /\bsetTimeout\b/],
  ['setInterval', /\bsetInterval\b/],
  ['performance.now', /\bperformance\s*\.\s*now\b/],
  ['crypto.randomUUID / getRandomValues', /\bcrypto\s*\.\s*(randomUUID|getRandomValues)\b/],
];

/** Every violation in one file's source, as readable strings. */
function violations(file: string, source: string): string[] {
  const code = stripComments(source);
  const found: string[] = [];
  for (const spec of importSpecifiers(code)) {
    if (spec === 'hono' || spec.startsWith('hono/')) found.push(`imports ${spec}`);
    if (spec.startsWith('cloudflare:')) found.push(`imports ${spec}`);
    if (spec.startsWith('@cloudflare/')) found.push(`imports ${spec}`);
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (target === WORKER || target.startsWith(WORKER + sep)) found.push(`imports ${spec} (src/worker)`);
    }
  }
  for (const [name, re] of FORBIDDEN_CALLS) if (re.test(code)) found.push(`uses ${name}`);
  return found;
}

describe('src/core purity', () => {
  const files = listSources(CORE);

  it('finds the core sources (the checks below are not vacuous)', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect(files.map((f) => relative(CORE, f))).toContain(join('policy', 'workload-aware.ts'));
  });

  it('no file imports Hono, cloudflare:*, @cloudflare/* or src/worker, or reads a clock or randomness', () => {
    const report = files.flatMap((f) =>
      violations(f, readFileSync(f, 'utf8')).map((v) => `${relative(REPO, f)}: ${v}`),
    );
    expect(report).toEqual([]);
  });

  it('the checker flags each kind of violation (self-check)', () => {
    const file = join(CORE, 'policy', 'example.ts');
    const bad = [
      "import { Hono } from 'hono';",
      "import type { Context } from 'hono/tiny';",
      "import { DurableObject } from 'cloudflare:workers';",
      "export type { Env } from '@cloudflare/workers-types';",
      "import { route } from '../../worker/app.ts';",
      "const m = await import('../../worker/config.ts');",
      'const t = Date.now();',
      'const d = new Date();',
      'const r = Math.random();',
      'setTimeout(() => {}, 1);',
    ];
    for (const line of bad) expect(violations(file, line), line).not.toEqual([]);
    const fine = [
      "import { IndexedHeap } from '../indexed-heap.ts';",
      '// a comment may say Date.now() or import from "hono"',
      '/* or Math.random() in a block comment */',
      'const at = new Date(now);',
    ];
    for (const line of fine) expect(violations(file, line), line).toEqual([]);
  });
});
