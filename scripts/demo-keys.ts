// The demo load under AUTH=on: one API key per demo workload, created through the admin API (the client
// `npm run keys` uses), so the demo's requests are authenticated as a deployed client's would be. Also the
// check that refuses `--demo` up front when AUTH is on and no ADMIN_TOKEN exists to create keys with.

import { callAdmin } from './admin-client.ts';
import { startDemoLoad, type DemoLoad, type DemoLoadOptions, type DemoWorkload } from './demo-load.ts';

/** A key the demo created: its public ID and name are printable, the secret is for requests only. */
export interface DemoKey {
  readonly workloadId: string;
  readonly id: string;
  readonly name: string;
  readonly secret: string;
}

/**
 * Why `npm start -- --demo` cannot run under these settings, or null. With AUTH on, every inference
 * request needs a key, and without an ADMIN_TOKEN the admin API is closed, so none can be created: the
 * demo would only collect 401s.
 */
export function demoRefusal(auth: 'on' | 'off', adminToken: string | null): string | null {
  if (auth === 'off' || adminToken !== null) return null;
  return [
    '--demo under AUTH=on needs an ADMIN_TOKEN: every demo request needs an API key, and without an',
    'ADMIN_TOKEN the admin API is closed, so the demo cannot create them. Run one of:',
    '  ADMIN_TOKEN=… AUTH=on npm start -- --demo   (the demo creates one key per workload)',
    '  AUTH=off npm start -- --demo                (the default: no keys needed)',
  ].join('\n');
}

/**
 * Creates one key per workload: that workload only, its criticality as both cap and default, so the key
 * allows exactly what the demo sends.
 */
async function createDemoKeys(
  url: string,
  adminToken: string,
  workloads: readonly DemoWorkload[],
): Promise<DemoKey[]> {
  const keys: DemoKey[] = [];
  for (const w of workloads) {
    const name = `npm start --demo: ${w.workloadId}`;
    const created = (await callAdmin(url, adminToken, 'POST', '/admin/keys', {
      name,
      workload: w.workloadId,
      maxCriticality: w.criticality,
      defaultCriticality: w.criticality,
    })) as { key: { id: string }; secret: string };
    keys.push({ workloadId: w.workloadId, id: created.key.id, name, secret: created.secret });
  }
  return keys;
}

export interface DemoOptions extends Omit<DemoLoadOptions, 'apiKeys'> {
  readonly auth: 'on' | 'off';
  /** The router's ADMIN_TOKEN; needed (and used) only with AUTH on. */
  readonly adminToken: string | null;
}

/**
 * The demo as `npm start -- --demo` runs it: under AUTH=on, keys first (throws if the settings cannot
 * work, see demoRefusal, or the admin API refuses), then the load. Under AUTH=off no keys are created.
 */
export async function startDemo(opts: DemoOptions): Promise<{ load: DemoLoad; keys: DemoKey[] }> {
  const refusal = demoRefusal(opts.auth, opts.adminToken);
  if (refusal !== null) throw new Error(refusal);
  const keys =
    opts.auth === 'on' && opts.adminToken !== null
      ? await createDemoKeys(opts.url, opts.adminToken, opts.workloads)
      : [];
  const { auth: _auth, adminToken: _adminToken, ...loadOptions } = opts;
  const load = startDemoLoad({
    ...loadOptions,
    apiKeys: new Map(keys.map((k) => [k.workloadId, k.secret])),
  });
  return { load, keys };
}
