// scratch: CPU profile of Sluice under Miniflare via workerd's inspector (not committed)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { startSimServer } from '../sim/server.ts';
import { bundleWorker } from '../scripts/miniflare-router.ts';
import { runLoad } from './load.ts';
import { connectInspector } from './inspector.ts';

const sim = await startSimServer({ name: 'sim', port: 0, maxNumSeqs: 256, ttftMs: 0, itlMs: 0 });
const bundle = bundleWorker(join('/work/main', 'wrangler.toml'));
console.log('bundle', bundle.entry);
const mf = new Miniflare(convertV4MiniflareOptions({
  host: '127.0.0.1', port: 0, inspectorPort: 9239,
  workers: [{ name: 'worker', modules: true, script: readFileSync(bundle.entry, 'utf8'), compatibilityDate: '2026-11-01', compatibilityFlags: ['enable_request_signal'],
    bindings: { AUTH: 'off', BACKENDS: JSON.stringify([{ name: 'sim', url: sim.url, maxConcurrency: 256 }]) },
    durableObjects: { WORKLOAD: { className: 'WorkloadDO', useSQLite: true }, COORDINATOR: { className: 'CoordinatorDO', useSQLite: true }, AUTH_STATS: { className: 'AuthStatsDO', useSQLite: true } } }],
} as never));
const url = (await mf.ready).toString().replace(/\/$/, '');
const BODY = JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'bench' }], max_tokens: 1 });
const HEADERS = { 'x-workload-context': JSON.stringify({ workload_id: 'bench', criticality: 3 }) };
await runLoad({ url: `${url}/v1/chat/completions`, concurrency: 16, requests: 300, body: BODY, headers: HEADERS });
const s = await connectInspector(9239, (t) => t.webSocketDebuggerUrl.endsWith(':user:worker'));
await s.call('Profiler.enable');
await s.call('Profiler.setSamplingInterval', { interval: 100 });
await s.call('Profiler.start');
const res = await runLoad({ url: `${url}/v1/chat/completions`, concurrency: 16, requests: Number(process.argv[2] ?? 2000), body: BODY, headers: HEADERS });
console.log('rps', res.rps.toFixed(0));
const prof = await s.call<{ profile: unknown }>('Profiler.stop');
writeFileSync('/tmp/lead/sluice.cpuprofile', JSON.stringify(prof.profile));
s.close(); await mf.dispose(); await sim.close();
