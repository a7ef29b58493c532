// The CLI as a process: it prints its listening line, serves, stops cleanly on SIGTERM/SIGINT, and
// exits 2 naming the flag on bad input.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../sim/cli.ts', import.meta.url));

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[], onStdout?: (text: string, stop: () => void) => void): Promise<Exit> {
  // process.execPath is the Node 22 that runs vitest, which strips the types of cli.ts itself.
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onStdout?.(stdout, () => child.kill('SIGTERM'));
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('sim cli', () => {
  it('prints one listening line, serves, and exits 0 on SIGTERM', async () => {
    let health: Promise<Response> | undefined;
    const exit = await runCli(['--port', '0', '--name', 'cli-a', '--max-num-seqs', '3'], (out, stop) => {
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url === undefined || health !== undefined) return;
      health = fetch(`${url}/health`).finally(stop);
    });
    expect(exit.code).toBe(0);
    expect(exit.stdout.split('\n')[0]).toMatch(
      /^sim cli-a listening on http:\/\/127\.0\.0\.1:\d+ \(max-num-seqs=3, ttft=200ms, itl=20ms\)$/,
    );
    const res = await health;
    expect(res?.headers.get('x-sim-backend')).toBe('cli-a');
  });

  it.each([
    [['--max-num-seqs', '0'], '--max-num-seqs'],
    [['--error-rate', '2'], '--error-rate'],
    [['--engine', 'tgi'], '--engine'],
    [['--output-frac', '0'], '--output-frac'],
    [['--kv-cache-tokens', '-1'], '--kv-cache-tokens'],
  ])('exits 2 on %j, naming the flag', async (args, flag) => {
    const exit = await runCli(args);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain(flag);
    expect(exit.stdout).toBe('');
  });
});
