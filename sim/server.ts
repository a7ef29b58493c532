// The simulated vLLM or SGLang backend as a process-level object: starts the HTTP server, reports stats,
// changes faults at runtime, and shuts down. State, routes, the inference lifecycle and I/O live elsewhere.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBackendState } from './backend-state.ts';
import { sendError } from './http-io.ts';
import { resolveSimOptions, type SimFaults, type SimOptions } from './options.ts';
import { createRoutes, handleRequest } from './routes.ts';

export interface SimStats {
  readonly running: number;
  readonly waiting: number;
  /** Valid inference requests received, whatever became of them. */
  readonly received: number;
  readonly completed: number;
  /** The client went away (or the server closed) before the response was complete. */
  readonly cancelled: number;
  /** Answered 500 by `errorRate`. */
  readonly faulted: number;
  /** Answered 503 because the waiting queue was full. */
  readonly rejected: number;
  readonly maxRunningSeen: number;
  /**
   * Index k: admitted requests that found k others waiting for a slot when they arrived (0 also when a
   * slot was free). Turned-away requests are not counted.
   */
  readonly waitingAheadCounts: readonly number[];
  /** Prompt tokens of requests that got a slot, as vLLM counts them at prefill. */
  readonly promptTokens: number;
  /** Tokens actually generated; a cancelled request stops adding to it. */
  readonly generationTokens: number;
  /** Fraction 0..1 of `kvCacheTokens` held by running requests, as /metrics reports it. */
  readonly kvCacheUsage: number;
}

export interface SimServer {
  /** e.g. `http://127.0.0.1:41234`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly options: SimOptions;
  stats(): SimStats;
  /** Changes fault modes for requests arriving from now on; throws a TypeError naming a bad field. */
  setFault(partial: Partial<SimFaults>): void;
  /** Stops listening and destroys every connection, open streams included. Idempotent. */
  close(): Promise<void>;
}

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startSimServer(partial: Partial<SimOptions> = {}): Promise<SimServer> {
  const options = resolveSimOptions(partial);
  const state = createBackendState(options);
  const { scheduler, kvCache, faults, counters, inflight } = state;
  const routes = createRoutes(state);
  let closing: Promise<void> | null = null;

  const server = createServer((req, res) => {
    handleRequest(state, routes, req, res).catch((error: unknown) => {
      // A body cut off by a disconnecting client is not a simulator failure.
      if (res.destroyed || req.destroyed) return;
      console.error(`sim ${options.name}: internal error`, error);
      if (res.headersSent) res.destroy();
      else sendError(res, 500, 'server_error', 'internal_error', 'Simulator internal error.');
    });
  });
  server.on('connection', (socket) => {
    if (faults.faults.refuse) socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: formatUrl(options.host, port),
    port,
    options,
    stats: () => ({
      running: scheduler.running,
      waiting: scheduler.waiting,
      received: counters.received,
      completed: counters.outcomes.completed,
      cancelled: counters.outcomes.cancelled,
      faulted: counters.outcomes.faulted,
      rejected: counters.outcomes.rejected,
      promptTokens: counters.promptTokens,
      generationTokens: counters.generationTokens,
      maxRunningSeen: scheduler.maxRunningSeen,
      waitingAheadCounts: scheduler.waitingAheadCounts,
      kvCacheUsage: kvCache.usage,
    }),
    setFault: (change) => faults.update(change),
    close: () => {
      if (closing === null) {
        const pending = [...inflight.values()];
        // Abort first, so a slot freed by one cancellation is not handed to a waiter that is about to die.
        for (const controller of inflight.keys()) controller.abort();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        // Waiting for every response's 'close' makes stats() final once close() resolves.
        closing = Promise.all([stopped, ...pending]).then(() => undefined);
      }
      return closing;
    },
  };
}
