// The Worker's heartbeat for a running request: renews its lease at its workload every interval until
// stopped, so a long generation keeps its slot and a crashed Worker's slot comes back (see defaults.ts).

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/** Renews a running request's lease at its workload while it runs; one interval at a time. */
export class Heartbeat {
  readonly #ctx: WaitUntil;
  readonly #renew: () => Promise<unknown>;
  readonly #everyMs: number;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(ctx: WaitUntil, renew: () => Promise<unknown>, everyMs: number) {
    this.#ctx = ctx;
    this.#renew = renew;
    this.#everyMs = everyMs;
  }

  start(): void {
    this.stop();
    this.#timer = setInterval(() => {
      this.#ctx.waitUntil(
        this.#renew().then(
          () => undefined,
          (err: unknown) => console.error(`[sluice] heartbeat failed: ${String(err)}`),
        ),
      );
    }, this.#everyMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
