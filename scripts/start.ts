// `npm start`: the router plus, unless BACKENDS is configured, simulated vLLM-like backends in two pools
// serving two models. Prints the URLs (API and dashboard) and curl examples; Ctrl-C stops everything.
// `npm start -- --demo` also runs a demo load (scripts/demo-load.ts) to watch on the dashboard; under
// AUTH=on it first creates one API key per demo workload (scripts/demo-keys.ts), and needs ADMIN_TOKEN.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { startSimServer } from '../sim/server.ts';
import { isPortFree } from './free-port.ts';
import { REPO_ROOT, startRouterProcess } from './router-process.ts';
import { demoRefusal, startDemo } from './demo-keys.ts';
import { defaultDemoWorkloads, type DemoLoad, type DemoStats } from './demo-load.ts';

const DEFAULT_ROUTER_PORT = 8787;

/**
 * Simulated backends used when none are configured: a pool of two servers for a large model and one
 * server for a small one, so a newcomer sees each model routed to its own pool.
 */
const SIM_BACKENDS = [
  { name: 'sim-llama-1', pool: 'llama', model: 'llama-70b', maxNumSeqs: 4, ttftMs: 300, itlMs: 30 },
  { name: 'sim-llama-2', pool: 'llama', model: 'llama-70b', maxNumSeqs: 4, ttftMs: 300, itlMs: 30 },
  { name: 'sim-qwen', pool: 'qwen', model: 'qwen-7b', maxNumSeqs: 2, ttftMs: 100, itlMs: 10 },
] as const;

/**
 * The router's vars (README "Configuration") that `npm start` takes from its environment, so
 * `POLICY=seed npm start` or `AUTH_CACHE_TTL_MS=0 npm start` work like the same names in .dev.vars.
 * BACKENDS and AUTH are handled on their own below.
 */
const FORWARDED_VARS = [
  'POOL_LOCATION_HINTS',
  'POLICY',
  'QUEUE_TTL_MS',
  'MAX_QUEUE_PER_WORKLOAD',
  'AGING_HORIZON_MS',
  'CRITICALITY_STEP_MS',
  'RATE_PENALTY_MS',
  'RATE_CAP_PER_SEC',
  'FAIRNESS',
  'TOKEN_COST_MS_PER_1K',
  'LEASE_TTL_MS',
  'BACKEND_COOLDOWN_BASE_MS',
  'BACKEND_COOLDOWN_MAX_MS',
  'MAX_BODY_BYTES',
  'UPSTREAM_HEADERS_TIMEOUT_MS',
  'UPSTREAM_IDLE_TIMEOUT_MS',
  'UPSTREAM_MAX_ATTEMPTS',
  'METRICS_INTERVAL_MS',
  'SATURATION_MAX_WAITING',
  'SATURATION_MAX_KV_CACHE',
  'AUTH_CACHE_TTL_MS',
  'WORKLOAD_LIMITS',
  'WORKLOAD_WEIGHTS',
  'METRICS_TOP_WORKLOADS',
  'ADMIN_TOKEN',
  'LOG_LEVEL',
] as const;

/** Whether .dev.vars (which wrangler dev also reads) sets this var. */
function inDevVars(name: string): boolean {
  const devVars = join(REPO_ROOT, '.dev.vars');
  return existsSync(devVars) && new RegExp(`^\\s*${name}\\s*=`, 'm').test(readFileSync(devVars, 'utf8'));
}

/** ADMIN_TOKEN's value as the router gets it: a --var from the environment wins over .dev.vars. */
function adminTokenValue(): string | null {
  const fromEnv = process.env['ADMIN_TOKEN'];
  if (fromEnv) return fromEnv;
  const devVars = join(REPO_ROOT, '.dev.vars');
  if (!existsSync(devVars)) return null;
  return parseEnv(readFileSync(devVars, 'utf8'))['ADMIN_TOKEN'] || null;
}

/** The demo load's answers by status, for the line printed at Ctrl-C. */
function describeStats(stats: DemoStats): string {
  const byStatus = [...stats.byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ');
  return (
    `Demo load: ${stats.sent} sent (${byStatus || 'no answers yet'}` +
    `${stats.failed > 0 ? `, ${stats.failed} without an answer` : ''}), ${stats.skipped} skipped`
  );
}

function configuredBackends(): string | null {
  if (process.env['BACKENDS']) return process.env['BACKENDS'];
  return inDevVars('BACKENDS') ? '(from .dev.vars)' : null;
}

/** The local demo trusts the network unless told otherwise; a value that is neither is refused here. */
function authMode(): 'on' | 'off' {
  const raw = process.env['AUTH'];
  if (raw === undefined || raw.trim() === '') return 'off';
  const mode = raw.trim().toLowerCase();
  if (mode !== 'on' && mode !== 'off') throw new Error(`AUTH must be on or off, got "${raw}"`);
  return mode;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--demo');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')}; the only flag is --demo`);
  const demo = args.includes('--demo');
  const port = Number(process.env['PORT'] ?? DEFAULT_ROUTER_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`PORT must be a TCP port number, got ${process.env['PORT']}`);
  }
  if (!(await isPortFree(port))) {
    throw new Error(`port ${port} is in use; set PORT to another one (PORT=8788 npm start)`);
  }
  // The local demo trusts the network unless told otherwise (AUTH=on npm start); wrangler.toml, which
  // `npm run dev` and deployments use, has AUTH=on.
  const auth = authMode();
  const adminTokenSecret = adminTokenValue();
  // Said before anything starts: a demo that cannot create keys would only collect 401s.
  const refusal = demo ? demoRefusal(auth, adminTokenSecret) : null;
  if (refusal !== null) throw new Error(refusal);

  const configured = configuredBackends();
  const sims = configured
    ? []
    : await Promise.all(
        SIM_BACKENDS.map((b) =>
          startSimServer({
            name: b.name,
            models: [b.model],
            port: 0,
            maxNumSeqs: b.maxNumSeqs,
            ttftMs: b.ttftMs,
            itlMs: b.itlMs,
          }),
        ),
      );
  const vars: Record<string, string> = {};
  if (process.env['BACKENDS']) vars['BACKENDS'] = process.env['BACKENDS'];
  if (!configured) {
    vars['BACKENDS'] = JSON.stringify(
      sims.map((s, i) => ({
        name: SIM_BACKENDS[i]!.name,
        url: s.url,
        maxConcurrency: SIM_BACKENDS[i]!.maxNumSeqs,
        pool: SIM_BACKENDS[i]!.pool,
        models: [SIM_BACKENDS[i]!.model],
      })),
    );
  }
  for (const key of FORWARDED_VARS) {
    const value = process.env[key];
    if (value) vars[key] = value;
  }
  vars['AUTH'] = auth;
  const adminToken = adminTokenSecret !== null;

  console.log('Starting Sluice (wrangler dev)…');
  const router = await startRouterProcess({
    port,
    vars,
    // Fresh Durable Object state per run: leases persisted by a run stopped mid-request would otherwise
    // hold slots of the next run's backends until LEASE_TTL_MS.
    onOutput: (line) => {
      if (/error|\[sluice\]/i.test(line) && !/Request\.cf|workers\.cloudflare\.com|getaddrinfo/.test(line)) {
        console.log(`  router: ${line}`);
      }
    },
  });

  // Vars come from the environment too (a stray LOG_LEVEL=INFO, say): a bad one must be said loudly,
  // since the router then answers every request with 500 config_invalid.
  const health = await fetch(`${router.url}/healthz`);
  if (!health.ok) {
    const body = (await health.json().catch(() => null)) as { error?: { message?: string } } | null;
    console.error(`\n${body?.error?.message ?? `HTTP ${health.status}`}`);
    console.error('Every request will answer 500 until it is fixed (see README "Configuration").\n');
  }

  let stopping = false;
  let load: DemoLoad | null = null;
  // The demo's keys are not revoked here: they live in this run's local KV, which is in the fresh state
  // directory startRouterProcess deletes on close, so no key outlives its router (and a later run starts
  // with no keys). Revoking them would only add admin calls to a shutdown that must not hang.
  const stop = async (code = 0): Promise<void> => {
    stopping = true;
    console.log('\nStopping…');
    await load?.stop();
    if (load) console.log(describeStats(load.stats));
    await router.close();
    await Promise.all(sims.map((s) => s.close()));
    process.exit(code);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  router.child.once('exit', (code) => {
    if (stopping) return;
    console.error(`router exited (code ${code}); stopping`);
    void Promise.all(sims.map((s) => s.close())).then(() => process.exit(1));
  });

  const backendLines = configured
    ? [`  backends: ${configured}`]
    : sims.map(
        (s, i) =>
          `  backend ${SIM_BACKENDS[i]!.name}: ${s.url} (simulated, pool ${SIM_BACKENDS[i]!.pool}, ` +
          `model ${SIM_BACKENDS[i]!.model}, ${SIM_BACKENDS[i]!.maxNumSeqs} slots)`,
      );
  const portFlag = port === DEFAULT_ROUTER_PORT ? '' : ` --url ${router.url}`;
  const adminHeader = adminToken ? ` -H "Authorization: Bearer $SLUICE_ADMIN_TOKEN"` : '';
  const authLines =
    auth === 'off'
      ? [
          'AUTH=off (local demo): the network is trusted. Requests need no API key, and the admin API is',
          adminToken
            ? 'guarded by ADMIN_TOKEN. A request that presents a Sluice key is held to that key.'
            : 'OPEN to anyone who can reach this port. A request that presents a Sluice key is held to that key.',
          'Deployed (wrangler.toml) AUTH is on: every request needs a key, and /admin needs ADMIN_TOKEN.',
        ]
      : adminToken
        ? ['AUTH=on: every inference request needs an API key, and /admin needs ADMIN_TOKEN.']
        : [
            'AUTH=on: every inference request needs an API key, and the admin API is CLOSED (403): no',
            'ADMIN_TOKEN is set, so no key can be created. Restart with one: ADMIN_TOKEN=… AUTH=on npm start',
          ];
  // npm run keys sends SLUICE_ADMIN_TOKEN; say so wherever the admin API needs a token.
  const tokenLine = adminToken
    ? ['  export SLUICE_ADMIN_TOKEN=…   # the ADMIN_TOKEN this router runs with']
    : [];
  console.log(
    [
      '',
      `Sluice is listening on ${router.url}`,
      `Dashboard: ${router.url}/dashboard   (metrics for Prometheus: ${router.url}/metrics)`,
      ...backendLines,
      '',
      ...authLines,
      '',
      'Try it:',
      // With AUTH on a keyless request is a 401: the demo starts from the key flow instead.
      ...(auth === 'off'
        ? [
            `  curl ${router.url}/v1/chat/completions \\`,
            `    -H 'content-type: application/json' \\`,
            `    -H 'X-Workload-Context: {"workload_id":"fraud","criticality":5}' \\`,
            `    -d '{"model":"llama-70b","messages":[{"role":"user","content":"hello"}],"max_tokens":8}'`,
            '',
          ]
        : []),
      'With an API key (what a deployment requires): create one, then send it as the bearer token.',
      ...tokenLine,
      `  KEY=$(npm run -s keys -- create --workload fraud --max-criticality 5${portFlag} | tail -n1)`,
      `  curl ${router.url}/v1/chat/completions -H "Authorization: Bearer $KEY" \\`,
      `    -H 'content-type: application/json' \\`,
      `    -d '{"model":"llama-70b","messages":[{"role":"user","content":"hello"}],"max_tokens":8}'`,
      `  (the OpenAI SDK: new OpenAI({ baseURL: '${router.url}/v1', apiKey: KEY }))`,
      '',
      `  curl${auth === 'on' ? ' -H "Authorization: Bearer $KEY"' : ''} ${router.url}/v1/models             # the models, and the pool each routes to`,
      `  curl${adminHeader} ${router.url}/admin/backends        # every pool's backends and slots`,
      `  curl${adminHeader} ${router.url}/admin/workloads`,
      `  npm run keys -- list${portFlag}             # keys (never their secrets); revoke <id> to revoke`,
      '',
      demo ? '' : 'Watch the scheduler at work: npm start -- --demo (a demo load), then open the dashboard.',
      'Ctrl-C stops the router and the simulated backends.',
    ].join('\n'),
  );
  if (demo) {
    const workloads = configured ? null : defaultDemoWorkloads();
    if (!workloads) {
      console.log(
        '\n--demo needs the simulated backends (it sends to their models); unset BACKENDS to use it.',
      );
      return;
    }
    let keyLines: string[] = [];
    try {
      const started = await startDemo({ url: router.url, workloads, auth, adminToken: adminTokenSecret });
      load = started.load;
      // IDs and names only: the secrets stay in this process (npm run keys -- list shows the same).
      if (started.keys.length > 0) {
        keyLines = [
          '',
          `AUTH=on: the demo created ${started.keys.length} API keys (one per workload; secrets not shown):`,
          ...started.keys.map((k) => `  ${k.id}  "${k.name}"`),
        ];
      }
    } catch (err) {
      console.error(`\n--demo could not start: ${err instanceof Error ? err.message : String(err)}`);
      await stop(1);
      return;
    }
    console.log(
      [
        ...keyLines,
        '',
        `Demo load running: ${workloads.length} workloads of criticality 1-5 competing for the simulated backends:`,
        ...workloads.map(
          (w) => `  ${w.workloadId.padEnd(20)} criticality ${w.criticality}, ${w.ratePerSec}/s to ${w.model}`,
        ),
        `Open ${router.url}/dashboard to watch it.`,
      ].join('\n'),
    );
  }
}

main().catch((err: unknown) => {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
