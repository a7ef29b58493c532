// `npm start -- --demo` under AUTH=on without an ADMIN_TOKEN: refused before anything starts (no
// simulators, no wrangler), with the commands that work, and a non-zero exit; not a demo of 401s.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv, promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { demoRefusal } from '../../scripts/demo-keys.ts';
import { freePort } from '../../scripts/free-port.ts';
import { REPO_ROOT } from '../../scripts/router-process.ts';

const run = promisify(execFile);
const DEV_VARS = join(REPO_ROOT, '.dev.vars');
// npm start reads ADMIN_TOKEN from .dev.vars too; a developer's own file would make this a different case.
const DEV_VARS_TOKEN =
  existsSync(DEV_VARS) && Boolean(parseEnv(readFileSync(DEV_VARS, 'utf8'))['ADMIN_TOKEN']);
if (DEV_VARS_TOKEN) console.warn(`SKIPPED the npm start refusal test: ${DEV_VARS} sets ADMIN_TOKEN`);

describe('demoRefusal', () => {
  it.each([
    ['off', null, false],
    ['off', 'token', false],
    ['on', 'token', false],
    ['on', null, true],
  ] as const)('AUTH=%s, ADMIN_TOKEN %s → refused: %s', (auth, token, refused) => {
    expect(demoRefusal(auth, token) !== null).toBe(refused);
  });

  it('says how to run the demo instead', () => {
    const message = demoRefusal('on', null) ?? '';
    expect(message).toContain('ADMIN_TOKEN=… AUTH=on npm start -- --demo');
    expect(message).toContain('AUTH=off npm start -- --demo');
  });
});

describe.skipIf(DEV_VARS_TOKEN)('npm start -- --demo with AUTH=on and no ADMIN_TOKEN', () => {
  it('exits non-zero with that message before starting anything', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AUTH: 'on', PORT: String(await freePort()) };
    delete env['ADMIN_TOKEN'];
    delete env['BACKENDS'];
    // A start that does not refuse runs until stopped; the timeout's SIGTERM stops it (and its router).
    const result = await run(process.execPath, ['scripts/start.ts', '--demo'], {
      cwd: REPO_ROOT,
      env,
      timeout: 20_000,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code?: number; stdout: string; stderr: string }) => ({
        code: e.code ?? -1,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--demo under AUTH=on needs an ADMIN_TOKEN');
    expect(result.stderr).toContain('ADMIN_TOKEN=… AUTH=on npm start -- --demo');
    expect(result.stdout).not.toContain('Starting Sluice');
  }, 30_000);
});
