// Runs a Worker under Miniflare's API directly (no wrangler dev in between): the bundle comes from
// `wrangler deploy --dry-run`, so it is byte for byte what would be deployed. Used by the benchmark.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { REPO_ROOT } from './router-process.ts';

export interface MiniflareWorker {
  readonly url: string;
  /** The bundled entry module's source (the profile bench names anonymous functions by its lines). */
  readonly entrySource: string;
  close(): Promise<void>;
}

export interface MiniflareWorkerOptions {
  readonly configPath: string;
  readonly bindings: Record<string, string>;
  readonly durableObjects?: Record<string, { className: string; useSQLite: boolean }>;
  /** KV namespace bindings (in memory). */
  readonly kvNamespaces?: readonly string[];
  /** workerd's inspector port (the profile bench samples the isolate through it); default: none. */
  readonly inspectorPort?: number;
}

/** The router's Durable Object bindings, as wrangler.toml declares them. */
export const SLUICE_DURABLE_OBJECTS = {
  WORKLOAD: { className: 'WorkloadDO', useSQLite: true },
  COORDINATOR: { className: 'CoordinatorDO', useSQLite: true },
  AUTH_STATS: { className: 'AuthStatsDO', useSQLite: true },
} as const;

/** Bundles a wrangler project to a temporary directory and returns the entry module's path. */
export function bundleWorker(configPath: string): { dir: string; entry: string } {
  const require = createRequire(import.meta.url);
  const wranglerBin = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bundle-'));
  execFileSync(
    process.execPath,
    [wranglerBin, 'deploy', '--dry-run', '--config', configPath, '--outdir', dir],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
      stdio: 'ignore',
    },
  );
  // The bundle is named after the config's `main` (index.js, passthrough-worker.js, …); the text modules
  // next to it are named after their content hash (`<40 hex>-uPlot.iife.min.js`, …).
  const entry = readdirSync(dir).find((f) => f.endsWith('.js') && !/^[0-9a-f]{40}-/.test(f));
  if (entry === undefined) throw new Error(`wrangler produced no bundle for ${configPath}`);
  return { dir, entry: join(dir, entry) };
}

/**
 * The entry module's source, with the text modules wrangler.toml's [[rules]] bundle next to it (the
 * dashboard's page, script and chart library) inlined as string constants: this Miniflare beta cannot
 * take them as separate modules here. Only their import lines change.
 */
function inlineTextModules(bundle: { dir: string; entry: string }): string {
  const source = readFileSync(bundle.entry, 'utf8');
  return source.replace(/^import (\w+) from "\.\/([^"]+)";$/gm, (line, name: string, file: string) => {
    const path = join(bundle.dir, file);
    if (!existsSync(path)) return line;
    return `const ${name} = ${JSON.stringify(readFileSync(path, 'utf8'))};`;
  });
}

export async function startMiniflareWorker(opts: MiniflareWorkerOptions): Promise<MiniflareWorker> {
  const bundle = bundleWorker(opts.configPath);
  const entrySource = inlineTextModules(bundle);
  // Miniflare 5 takes a new options shape; the converter accepts the long-standing (v4) one.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      ...(opts.inspectorPort === undefined ? {} : { inspectorPort: opts.inspectorPort }),
      workers: [
        {
          name: 'worker',
          modules: true,
          // Inline source: this Miniflare beta fails to start a module Worker given by scriptPath.
          script: entrySource,
          compatibilityDate: '2026-11-01',
          compatibilityFlags: ['enable_request_signal'],
          bindings: opts.bindings,
          ...(opts.durableObjects ? { durableObjects: opts.durableObjects } : {}),
          ...(opts.kvNamespaces ? { kvNamespaces: [...opts.kvNamespaces] } : {}),
        },
      ],
    }),
  );
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return {
    url,
    entrySource,
    async close() {
      await mf.dispose();
      rmSync(bundle.dir, { recursive: true, force: true });
    },
  };
}

/**
 * Sluice itself (wrangler.toml) in front of one backend named "sim" with `slots` slots, its Durable
 * Objects and an in-memory KEYS namespace; `vars` add to or override BACKENDS.
 */
export async function startMiniflareSluice(
  backendUrl: string,
  opts: {
    readonly slots: number;
    readonly vars?: Record<string, string>;
    readonly inspectorPort?: number;
  },
): Promise<MiniflareWorker> {
  return startMiniflareWorker({
    configPath: join(REPO_ROOT, 'wrangler.toml'),
    bindings: {
      BACKENDS: JSON.stringify([{ name: 'sim', url: backendUrl, maxConcurrency: opts.slots }]),
      ...opts.vars,
    },
    durableObjects: SLUICE_DURABLE_OBJECTS,
    kvNamespaces: ['KEYS'],
    ...(opts.inspectorPort === undefined ? {} : { inspectorPort: opts.inspectorPort }),
  });
}
