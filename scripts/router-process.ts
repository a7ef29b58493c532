// Runs the router locally under `wrangler dev` (the same server a user gets from `npm run dev`), with
// vars passed as --var flags, and resolves once /healthz answers. Used by `npm start`, e2e and bench.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface RouterProcess {
  readonly url: string;
  readonly child: ChildProcess;
  close(): Promise<void>;
}

export interface RouterProcessOptions {
  readonly port: number;
  readonly vars: Record<string, string>;
  /** Fresh Durable Object storage per run unless a directory is given. */
  readonly persistTo?: string;
  /** Wrangler config to run; default: the router's wrangler.toml. */
  readonly configPath?: string;
  /** Where wrangler's own output goes; default: discarded except errors. */
  readonly onOutput?: (line: string) => void;
  readonly readyTimeoutMs?: number;
  /** The inspector's port (the benchmarks read heap and CPU through it); default: any free one. */
  readonly inspectorPort?: number;
}

export async function startRouterProcess(opts: RouterProcessOptions): Promise<RouterProcess> {
  // The package's "exports" hide bin/, so resolve the package root and walk to it.
  const require = createRequire(import.meta.url);
  const wranglerBin = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
  const ownState = opts.persistTo === undefined;
  const persistTo = opts.persistTo ?? mkdtempSync(join(tmpdir(), 'sluice-state-'));
  const args = [
    wranglerBin,
    'dev',
    '--config',
    opts.configPath ?? join(REPO_ROOT, 'wrangler.toml'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--persist-to',
    persistTo,
    '--inspector-port',
    String(opts.inspectorPort ?? 0),
    '--show-interactive-dev-session=false',
    '--log-level',
    'warn',
  ];
  for (const [key, value] of Object.entries(opts.vars)) args.push('--var', `${key}:${value}`);
  // detached: wrangler starts workerd as a grandchild; killing the group stops both.
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const forward = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') opts.onOutput?.(line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);

  let exited = false;
  // The child runs in its own process group (so one signal stops wrangler and workerd); make sure that
  // group does not outlive this process when it exits without calling close().
  const killGroup = (): void => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);
  child.on('exit', () => {
    exited = true;
    process.removeListener('exit', killGroup);
  });
  const close = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise<void>((resolve) => {
        if (exited) return resolve();
        const timer = setTimeout(() => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
          resolve();
        }, 3_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (ownState) rmSync(persistTo, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exited) {
      await close();
      throw new Error(`wrangler dev exited before it was ready (port ${opts.port} in use?)`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      // Any HTTP answer means the server is up; the router answers /healthz with 200 (500 on bad config).
      if (res.status > 0) return { url, child, close };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await close();
  throw new Error(`wrangler dev did not answer ${url}/healthz in time`);
}
