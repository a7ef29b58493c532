// What bench/coordinator.ts and its Worker (bench/workers/coordinator-worker.ts) exchange over HTTP:
// plain types, so both the Node and the Workers type-check can read them.

/** What one workload object measured since it was last asked. */
export interface WorkloadSamples {
  /** Offer RPC round trips (ms), each from the call to its reply as the workload object saw them. */
  readonly offerMs: number[];
  readonly releaseMs: number[];
  /** Slots that came back inline with an offer, and by the coordinator's grant RPC. */
  readonly inlineGrants: number;
  readonly rpcGrants: number;
  /** Releases sent and not yet acknowledged. */
  readonly releasesInFlight: number;
}

export interface RunSpec {
  /** Names the workload objects (`<prefix>-w<i>`); points that share it reuse them. */
  readonly workloadPrefix: string;
  /** Unique per run: request IDs are `<prefix>-<i>`. */
  readonly requestPrefix: string;
  readonly pool: string;
  readonly workloads: number;
  readonly concurrency: number;
  readonly requests: number;
  /** Stop issuing new requests after this long (a bound on the loop, not a measurement). */
  readonly maxSeconds: number;
  /** A request not granted within this counts as failed. */
  readonly requestTimeoutSeconds: number;
}

export interface RunResult {
  readonly served: number;
  readonly failed: number;
  readonly seconds: number;
  /** Per request: from the driver's call to its workload until the slot was granted and handed back. */
  readonly cycleMs: number[];
  readonly samples: WorkloadSamples[];
  /** Leases the coordinator still held once the releases were acknowledged (0 unless a slot leaked). */
  readonly leasesLeft: number;
}
