// One vitest project per runtime: Node for the pure core, the simulator and the policy lab;
// the Workers runtime (Miniflare) for the shell; Node again for end-to-end runs against real servers.
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { createFakeUpstream } from './test/worker/support/fake-upstream.ts';

/** Two fake backends behind Miniflare's outbound service; see test/worker/support/fake-upstream.ts. */
const TEST_BACKENDS = JSON.stringify([
  { name: 'alpha', url: 'http://alpha.test', maxConcurrency: 2 },
  { name: 'beta', url: 'http://beta.test', maxConcurrency: 1 },
]);

function workerProject(
  name: string,
  include: string[],
  vars: Record<string, string>,
  kvNamespaces: string[] = [],
) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        // AUTH=off unless a project says otherwise: these suites test scheduling, not keys (worker-auth does).
        miniflare: {
          bindings: { BACKENDS: TEST_BACKENDS, AUTH: 'off', ...vars },
          outboundService: createFakeUpstream(),
          // wrangler.toml's KEYS, plus any empty namespaces a project's tests need to themselves.
          ...(kvNamespaces.length > 0 ? { kvNamespaces: ['KEYS', ...kvNamespaces] } : {}),
        },
      }),
    ],
    // Polling helpers (test/worker/support/client.ts) give up after 15 s with a diagnostic; let them.
    test: { name, include, testTimeout: 30_000 },
  };
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'test/core/**/*.test.ts',
            'test/sim/**/*.test.ts',
            'test/lab/**/*.test.ts',
            'test/scripts/**/*.test.ts',
          ],
        },
      },
      workerProject('worker', ['test/worker/**/*.test.ts'], { MAX_QUEUE_PER_WORKLOAD: '3' }),
      workerProject('worker-ttl', ['test/worker-ttl/**/*.test.ts'], { QUEUE_TTL_MS: '300' }),
      workerProject('worker-lease', ['test/worker-lease/**/*.test.ts'], { LEASE_TTL_MS: '1200' }),
      workerProject('worker-pools', ['test/worker-pools/**/*.test.ts'], {
        BACKENDS: JSON.stringify([
          {
            name: 'alpha',
            url: 'http://alpha.test',
            maxConcurrency: 2,
            pool: 'big',
            models: ['llama-70b', 'echo-headers'],
            apiKey: 'backend-key',
          },
          {
            name: 'beta',
            url: 'http://beta.test',
            maxConcurrency: 1,
            pool: 'small',
            models: ['qwen-7b', 'echo-headers-small'],
          },
        ]),
      }),
      workerProject('worker-failover', ['test/worker-failover/**/*.test.ts'], {
        BACKENDS: JSON.stringify([
          { name: 'dead', url: 'http://down.test', maxConcurrency: 2, pool: 'dead', models: ['m-dead'] },
          { name: 'live-a', url: 'http://alpha.test', maxConcurrency: 2, pool: 'dead', models: ['m-dead'] },
          { name: 'busy', url: 'http://busy.test', maxConcurrency: 2, pool: 'busy', models: ['m-busy'] },
          { name: 'live-b', url: 'http://beta.test', maxConcurrency: 2, pool: 'busy', models: ['m-busy'] },
          {
            name: 'busy-1',
            url: 'http://busy.test',
            maxConcurrency: 1,
            pool: 'hopeless',
            models: ['m-hopeless'],
          },
          {
            name: 'busy-2',
            url: 'http://busy.test',
            maxConcurrency: 1,
            pool: 'hopeless',
            models: ['m-hopeless'],
          },
        ]),
      }),
      workerProject('worker-conformance', ['test/worker-conformance/**/*.test.ts'], {
        MAX_QUEUE_PER_WORKLOAD: '3',
      }),
      // wrangler.toml's own AUTH=on; no key cache, so a revocation is seen by the very next request
      // (the cache's horizon itself is tested with injected time in test/core/key-record.test.ts).
      workerProject(
        'worker-auth',
        ['test/worker-auth/**/*.test.ts'],
        {
          AUTH: 'on',
          AUTH_CACHE_TTL_MS: '0',
          ADMIN_TOKEN: 'test-admin-token',
          // `bare` has no apiKey of its own: it shows that nothing of the client's credentials is forwarded.
          BACKENDS: JSON.stringify([
            { name: 'alpha', url: 'http://alpha.test', maxConcurrency: 4, apiKey: 'backend-key' },
            {
              name: 'bare',
              url: 'http://beta.test',
              maxConcurrency: 1,
              pool: 'bare',
              models: ['echo-headers-bare'],
            },
          ]),
        },
        // Empty namespaces for the key-listing tests, so they can assert a whole listing exactly.
        ['KEYS_PAGED', 'KEYS_FULL_PAGE'],
      ),
      workerProject('worker-timeout', ['test/worker-timeout/**/*.test.ts'], {
        UPSTREAM_HEADERS_TIMEOUT_MS: '300',
        UPSTREAM_IDLE_TIMEOUT_MS: '300',
      }),
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
