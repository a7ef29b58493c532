// The Server-Timing response header (w3.org/TR/server-timing): how long each stage of a request took
// inside the router, for the operator's browser devtools and for the router benchmark's breakdown
// (bench/router.ts). Durations are wall-clock milliseconds between laps; under Workers the clock moves
// only across I/O, so CPU-only stages read 0 in production and the header measures waits, not CPU.

export class ServerTiming {
  #last: number;
  readonly #laps: string[] = [];

  constructor(now: number) {
    this.#last = now;
  }

  /** Ends the stage that began at the previous lap (or at construction). */
  lap(stage: string, now: number): void {
    this.#laps.push(`${stage};dur=${now - this.#last}`);
    this.#last = now;
  }

  header(): string {
    return this.#laps.join(', ');
  }
}
