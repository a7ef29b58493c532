// What a sharded run is configured with and what it returns (simulate-sharded.ts runs it; measure.ts and
// the tests read it). Plain data and the configuration's validation, nothing else.

import type { Outcome } from '../../src/core/outcome.ts';
import type { SimRequest } from '../requests.ts';

export interface ShardingConfig {
  /** Shard coordinators; workloads are spread over them by a hash of their ID. */
  readonly shards: number;
  /** Slots a shard asks the root for at a time, and the idle slots it may keep while nobody waits. */
  readonly batch: number;
  /** One-way latency of a root↔shard call (ms). Workload↔shard calls are instant, as in the lab. */
  readonly rpcMs: number;
  /**
   * A busy shard checks in with the root this often (ms), learning whether a better head waits on
   * another shard; that is the only news of the others it gets between its own borrows. Infinity: never.
   */
  readonly checkInMs: number;
  /**
   * When a shard gives a finishing request's slot back instead of to its own next head (it always needs
   * news of a better head waiting elsewhere): 'strict' whenever that head outranks its own; 'waterline'
   * only when that head is overdue or its own is below the root's waterline (see RootLender.waterline).
   */
  readonly yieldRule: 'strict' | 'waterline';
}

export interface ShardedRecord {
  readonly request: SimRequest;
  readonly shard: number;
  readonly outcome: Outcome | null;
  readonly dispatchedAtMs: number | null;
  readonly endedAtMs: number | null;
  readonly backend: string | null;
  /** At its dispatch, a head on another shard outranked it (global priority was inverted). */
  readonly inverted: boolean;
  /** How far: that head's score minus this one's at the dispatch (ms of the policy's score), else 0. */
  readonly inversionGapMs: number;
  /** The head that outranked it was overdue and this one was not: the starvation rule was bent. */
  readonly skippedOverdue: boolean;
  /** The request whose head outranked it (the best one waiting elsewhere), or null. */
  readonly skippedRequestId: string | null;
}

export interface ShardedResult {
  readonly scenario: string;
  readonly config: ShardingConfig;
  readonly records: readonly ShardedRecord[];
  readonly endMs: number;
  /** Calls the root took, by kind: borrows (and better-head updates), give-backs, check-ins; and loans it made. */
  readonly rootCalls: RootCalls;
  /** Dispatches in the order they happened: [requestId, atMs]. */
  readonly order: ReadonlyArray<readonly [string, number]>;
}

export interface RootCalls {
  borrow: number;
  giveBack: number;
  /** A check-in is one call each way. */
  checkIn: number;
  loan: number;
}

/** Every call the root takes or makes. */
export function rootCallTotal(c: RootCalls): number {
  return c.borrow + c.giveBack + 2 * c.checkIn + c.loan;
}

/** Throws a TypeError naming the field: a bad configuration is a bug in the study, not a result. */
export function validateShardingConfig(config: ShardingConfig): void {
  if (!Number.isInteger(config.shards) || config.shards < 1) {
    throw new TypeError(`shards must be a positive integer, got ${config.shards}`);
  }
  if (!Number.isInteger(config.batch) || config.batch < 1) {
    throw new TypeError(`batch must be a positive integer, got ${config.batch}`);
  }
  if (!(config.rpcMs >= 0)) throw new TypeError(`rpcMs must be ≥ 0, got ${config.rpcMs}`);
  if (!(config.checkInMs > 0)) throw new TypeError(`checkInMs must be > 0, got ${config.checkInMs}`);
  if (config.yieldRule !== 'strict' && config.yieldRule !== 'waterline') {
    throw new TypeError(`yieldRule must be strict or waterline, got ${String(config.yieldRule)}`);
  }
}
