// Fault injection: which requests fail with 500 and which stall mid-stream.
// One PRNG stream, drawn exactly twice per request in arrival order, so a seed fixes the whole sequence
// whatever the rates are set to.

import { createPrng } from './prng.ts';
import { mergeFaults, type SimFaults } from './options.ts';

export interface FaultRoll {
  readonly fail: boolean;
  /** Milliseconds of mid-stream pause; 0 for no stall. */
  readonly stallMs: number;
}

export class FaultInjector {
  #faults: SimFaults;
  readonly #random: () => number;

  constructor(faults: SimFaults, seed: number) {
    this.#faults = faults;
    this.#random = createPrng(seed);
  }

  get faults(): SimFaults {
    return this.#faults;
  }

  /** Throws a TypeError naming the field when a value is out of range; the old faults then stay. */
  update(partial: Partial<SimFaults>): void {
    this.#faults = mergeFaults(this.#faults, partial);
  }

  roll(): FaultRoll {
    const failDraw = this.#random();
    const stallDraw = this.#random();
    const { errorRate, stallRate, stallMs } = this.#faults;
    return { fail: failDraw < errorRate, stallMs: stallDraw < stallRate ? stallMs : 0 };
  }
}
