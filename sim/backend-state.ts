// What one running simulated backend holds: its options, slot scheduler, KV cache, fault injector,
// counters, and the admitted requests close() must abort. Created once per server; every route shares it.

import { FaultInjector } from './faults.ts';
import { KvCache } from './kv-cache.ts';
import type { SimOutcome } from './metrics.ts';
import type { SimOptions } from './options.ts';
import { SlotScheduler } from './slot-scheduler.ts';

export interface SimCounters {
  /** Valid inference requests received, whatever became of them. */
  received: number;
  /** Prompt tokens of requests that got a slot. */
  promptTokens: number;
  /** Tokens actually generated. */
  generationTokens: number;
  /** The suffix of the last response ID handed out. */
  lastResponseId: number;
  readonly outcomes: Record<SimOutcome, number>;
}

export interface BackendState {
  readonly options: SimOptions;
  readonly scheduler: SlotScheduler;
  readonly kvCache: KvCache;
  readonly faults: FaultInjector;
  readonly counters: SimCounters;
  /** Admitted requests (waiting or running); close() aborts them and waits for their accounting. */
  readonly inflight: Map<AbortController, Promise<void>>;
  /** `created` of every model in /v1/models: when the server started, in Unix seconds. */
  readonly createdSec: number;
}

export function createBackendState(options: SimOptions): BackendState {
  return {
    options,
    scheduler: new SlotScheduler(options.maxNumSeqs, options.maxWaiting),
    kvCache: new KvCache(options.kvCacheTokens),
    faults: new FaultInjector(options, options.seed),
    counters: {
      received: 0,
      promptTokens: 0,
      generationTokens: 0,
      lastResponseId: 0,
      outcomes: { completed: 0, cancelled: 0, faulted: 0, rejected: 0 },
    },
    inflight: new Map(),
    createdSec: Math.floor(Date.now() / 1000),
  };
}
