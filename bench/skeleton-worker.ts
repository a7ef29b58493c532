// The router benchmark's second baseline: Sluice's skeleton with none of its logic. Each request makes
// the same Durable Object round trips and storage writes as a Sluice request (Worker → workload object
// → coordinator object, the workload writing the granted lease before it answers the Worker; after the
// response, a completion to the workload object that releases at the coordinator, in memory), and
// nothing else. Sluice minus this is the cost of Sluice's own code; this minus the bare pass-through is
// the runtime's price of the design (two object hops and a durable write per request).
//
// `?shape=` picks how much of the skeleton runs, to split the runtime's price by stage:
//   hop1   Worker → workload object → forward
//   hop2   … → workload object → coordinator object → forward
//   full   hop2 with the workload's lease write, and the completion/release after the response

import { DurableObject } from 'cloudflare:workers';

interface SkeletonEnv {
  readonly BACKEND_URL: string;
  readonly WORKLOAD: DurableObjectNamespace<SkeletonWorkload>;
  readonly COORDINATOR: DurableObjectNamespace<SkeletonCoordinator>;
}

type Shape = 'hop1' | 'hop2' | 'full';

export class SkeletonCoordinator extends DurableObject<SkeletonEnv> {
  #next = 0;

  readonly #leases = new Set<string>();

  offer(): string {
    const leaseId = String(this.#next++);
    this.#leases.add(leaseId);
    return leaseId;
  }

  release(leaseId: string): void {
    this.#leases.delete(leaseId);
  }
}

export class SkeletonWorkload extends DurableObject<SkeletonEnv> {
  async admit(shape: Shape): Promise<string> {
    if (shape === 'hop1') return 'local';
    const leaseId = await this.#coordinator().offer();
    if (shape === 'full') this.ctx.storage.kv.put(`lease:${leaseId}`, { leaseId, backend: 'sim' });
    return leaseId;
  }

  async complete(leaseId: string): Promise<void> {
    await this.#coordinator().release(leaseId);
  }

  #coordinator() {
    return this.env.COORDINATOR.get(this.env.COORDINATOR.idFromName('pool:default'));
  }
}

export default {
  async fetch(request: Request, env: SkeletonEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return new Response('ok');
    const shape = (url.searchParams.get('shape') ?? 'full') as Shape;
    const workload = env.WORKLOAD.get(env.WORKLOAD.idFromName('bench'));
    const leaseId = await workload.admit(shape);
    const upstream = await fetch(`${env.BACKEND_URL}${url.pathname}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    if (shape === 'full') {
      ctx.waitUntil(
        upstream
          .clone()
          .arrayBuffer()
          .then(() => workload.complete(leaseId)),
      );
    }
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  },
};
