// Backends and their slots. Picks the backend with the most free capacity relative to its maximum;
// ties go to the one listed first, so the choice is deterministic.

export interface BackendSpec {
  readonly name: string;
  readonly maxConcurrency: number;
}

export interface BackendStatus {
  readonly name: string;
  readonly maxConcurrency: number;
  readonly inFlight: number;
}

interface BackendSlotState {
  readonly spec: BackendSpec;
  inFlight: number;
}

export class BackendPool {
  readonly #backends: BackendSlotState[];
  readonly #byName = new Map<string, BackendSlotState>();

  constructor(specs: readonly BackendSpec[]) {
    this.#backends = specs.map((spec) => {
      if (!Number.isInteger(spec.maxConcurrency) || spec.maxConcurrency < 1) {
        throw new TypeError(
          `backend ${spec.name}: maxConcurrency must be a positive integer, got ${spec.maxConcurrency}`,
        );
      }
      if (this.#byName.has(spec.name)) throw new TypeError(`backend name ${spec.name} is listed twice`);
      const state = { spec, inFlight: 0 };
      this.#byName.set(spec.name, state);
      return state;
    });
  }

  get size(): number {
    return this.#backends.length;
  }

  freeSlots(): number {
    let free = 0;
    for (const b of this.#backends) free += Math.max(0, b.spec.maxConcurrency - b.inFlight);
    return free;
  }

  /** The backend to use next, or null when every slot is taken. */
  pick(): string | null {
    let best: BackendSlotState | null = null;
    let bestRatio = 0;
    for (const b of this.#backends) {
      const free = b.spec.maxConcurrency - b.inFlight;
      if (free <= 0) continue;
      const ratio = free / b.spec.maxConcurrency;
      if (best === null || ratio > bestRatio) {
        best = b;
        bestRatio = ratio;
      }
    }
    return best?.spec.name ?? null;
  }

  acquire(name: string): void {
    const b = this.#require(name);
    if (b.inFlight >= b.spec.maxConcurrency) throw new Error(`backend ${name}: no free slot`);
    b.inFlight++;
  }

  /** Returns a slot; unknown names are ignored (a lease may outlive a backend removed by redeploy). */
  release(name: string): void {
    const b = this.#byName.get(name);
    if (b && b.inFlight > 0) b.inFlight--;
  }

  /** Counts a slot held by a lease restored from storage, even beyond the current maximum. */
  restore(name: string): void {
    const b = this.#byName.get(name);
    if (b) b.inFlight++;
  }

  status(): BackendStatus[] {
    return this.#backends.map((b) => ({
      name: b.spec.name,
      maxConcurrency: b.spec.maxConcurrency,
      inFlight: b.inFlight,
    }));
  }

  #require(name: string): BackendSlotState {
    const b = this.#byName.get(name);
    if (!b) throw new Error(`unknown backend ${name}`);
    return b;
  }
}
