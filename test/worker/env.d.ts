// Types `env` from cloudflare:test as the Worker's own Env, and `exports` as the Worker's main module.
type SluiceWorkerEnv = import('../../src/worker/env.ts').Env;
declare namespace Cloudflare {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging needs the empty body
  interface Env extends SluiceWorkerEnv {}
  interface GlobalProps {
    mainModule: typeof import('../../src/worker/index.ts');
  }
}
