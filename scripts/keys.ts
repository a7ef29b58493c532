// `npm run keys -- <command>`: API keys through the admin API of a running router. The admin token comes
// from SLUICE_ADMIN_TOKEN (never a flag, so it stays out of shell history); `create` prints the new key
// alone on its last line, so `KEY=$(npm run -s keys -- create … | tail -n1)` captures it.

import { parseArgs } from 'node:util';
import { callAdmin } from './admin-client.ts';
import { MAX_LIST_PAGES, followCursor, type CursorPage } from './follow-cursor.ts';

const DEFAULT_URL = 'http://127.0.0.1:8787';

const USAGE = `Usage: npm run keys -- <command> [options]

  create --workload <id> [--workload <id> …] [--max-criticality 1-5] [--default-criticality 1-5]
         [--max-in-flight N] [--rpm N] [--tpm N] [--weight W] [--name TEXT]
  list [--limit N] [--cursor C]   every key, page by page in ID order (N a page, 1-1000; C to resume)
  get <id>
  update <id> [same options as create; a limit set to "none" removes it]
  revoke <id>

Options: --url <router> (default ${DEFAULT_URL}). The admin token is read from SLUICE_ADMIN_TOKEN.`;

const OPTIONS = {
  url: { type: 'string', default: DEFAULT_URL },
  workload: { type: 'string', multiple: true },
  'max-criticality': { type: 'string' },
  'default-criticality': { type: 'string' },
  'max-in-flight': { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  weight: { type: 'string' },
  name: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

/** A number flag as the admin API expects it; "none" (limits only) sends null, which removes it. */
function numberFlag(flag: string, raw: string | undefined, allowNone: boolean): number | null | undefined {
  if (raw === undefined) return undefined;
  if (allowNone && raw === 'none') return null;
  const n = Number(raw);
  // The server validates ranges and names the field; here only "is it a finite number". Infinity must
  // be refused here: JSON turns it into null, which would silently remove (or never set) the limit.
  if (raw.trim() === '' || !Number.isFinite(n)) {
    throw new UsageError(`--${flag} must be a finite number${allowNone ? ' or "none"' : ''}, got "${raw}"`);
  }
  return n;
}

function grantFrom(values: Values, creating: boolean): Record<string, unknown> {
  const grant: Record<string, unknown> = {};
  if (values.workload) grant['workloads'] = values.workload;
  else if (creating) throw new UsageError('create needs --workload <id>');
  const max = numberFlag('max-criticality', values['max-criticality'], false);
  if (max !== undefined) grant['maxCriticality'] = max;
  const def = numberFlag('default-criticality', values['default-criticality'], false);
  if (def !== undefined) grant['defaultCriticality'] = def;
  const weight = numberFlag('weight', values.weight, !creating);
  if (weight !== undefined) grant['weight'] = weight;
  if (values.name !== undefined) grant['name'] = values.name;
  const limits: Record<string, number | null> = {};
  for (const [flag, field] of [
    ['max-in-flight', 'maxInFlight'],
    ['rpm', 'requestsPerMinute'],
    ['tpm', 'tokensPerMinute'],
  ] as const) {
    const v = numberFlag(flag, values[flag], !creating);
    if (v !== undefined) limits[field] = v;
  }
  if (Object.keys(limits).length > 0) grant['limits'] = limits;
  return grant;
}

/** The admin API with the token from SLUICE_ADMIN_TOKEN. */
function adminCall(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  return callAdmin(url, process.env['SLUICE_ADMIN_TOKEN'], method, path, body);
}

function idArg(command: string, positionals: string[]): string {
  const id = positionals[1];
  if (id === undefined) throw new UsageError(`${command} needs a key ID (see: npm run keys -- list)`);
  return encodeURIComponent(id);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: OPTIONS, allowPositionals: true });
  const command = positionals[0];
  if (values.help || command === undefined) {
    console.log(USAGE);
    return;
  }
  const url = values.url;
  switch (command) {
    case 'create': {
      const created = (await adminCall(url, 'POST', '/admin/keys', grantFrom(values, true))) as {
        key: Record<string, unknown>;
        secret: string;
      };
      console.log(JSON.stringify(created.key, null, 2));
      console.log('The key is shown only now; store it (only its SHA-256 is kept):');
      console.log(created.secret);
      return;
    }
    case 'list': {
      // The router checks --limit and --cursor and names them in its 400.
      const fetchPage = (cursor: string | null) => {
        const query = new URLSearchParams();
        if (values.limit !== undefined) query.set('limit', values.limit);
        if (cursor !== null) query.set('cursor', cursor);
        const path = `/admin/keys${query.size > 0 ? `?${query}` : ''}`;
        return adminCall(url, 'GET', path) as Promise<CursorPage<Record<string, unknown>>>;
      };
      const printRows = (rows: readonly Record<string, unknown>[]) => {
        for (const k of rows) console.log(JSON.stringify(k));
      };
      const done = await followCursor(fetchPage, printRows, { from: values.cursor ?? null });
      if (done.rows === 0) console.log('(no keys)');
      if (done.stoppedAt !== null) {
        // On stderr and a non-zero exit, so a script reading stdout cannot take a part for the whole.
        console.error(
          `stopped after ${MAX_LIST_PAGES} pages (${done.rows} keys); more follow: npm run keys -- list --cursor ${done.stoppedAt}`,
        );
        process.exitCode = 1;
      }
      return;
    }
    case 'get':
      console.log(
        JSON.stringify(await adminCall(url, 'GET', `/admin/keys/${idArg(command, positionals)}`), null, 2),
      );
      return;
    case 'update':
      console.log(
        JSON.stringify(
          await adminCall(
            url,
            'PATCH',
            `/admin/keys/${idArg(command, positionals)}`,
            grantFrom(values, false),
          ),
          null,
          2,
        ),
      );
      return;
    case 'revoke': {
      const revoked = (await adminCall(url, 'DELETE', `/admin/keys/${idArg(command, positionals)}`)) as {
        id: string;
      };
      console.log(
        `revoked ${revoked.id}; every router isolate refuses it within its key cache TTL plus KV propagation (about 60 s)`,
      );
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) console.error(`${err.message}\n\n${USAGE}`);
  else console.error(`npm run keys failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
