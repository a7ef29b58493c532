// Request rate over a true sliding window, from fixed-width buckets in a ring.
// Estimator: events in (now − window, now] divided by the window length. The oldest bucket straddles the
// window edge and counts in proportion to its overlap (events assumed uniform inside one bucket), so the
// rate decays smoothly: no reset cliff at a window boundary and no spike on a window's first request
// (one request reads as 1/60 rps in a 60 s window, never 1/elapsed).

export interface RateWindowSnapshot {
  readonly windowMs: number;
  readonly bucketMs: number;
  /** [bucket number, count] pairs, oldest first; only non-empty buckets. */
  readonly buckets: ReadonlyArray<readonly [number, number]>;
}

/**
 * The ring holds the counts of the last `slots` buckets, up to the newest one recorded (#head): whole
 * buckets are consecutive, so no bucket number is stored per slot. Counts are 32-bit (a bucket's
 * count for one workload; a second is 4 billion requests short of overflowing): a process can hold tens of
 * thousands of these, one per workload.
 */
export class SlidingWindowRate {
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly #slots: number;
  readonly #counts: Uint32Array;
  /** The newest bucket recorded (-1: none yet); the ring holds buckets (#head − #slots, #head]. */
  #head = -1;
  /** The ring's total. */
  #sum = 0;
  #memoAt = NaN;
  #memo = 0;
  /** Latest time seen; an earlier `now` (clock skew) is treated as this, so counts never go back. */
  #latestMs = -Infinity;

  constructor(windowMs: number, bucketMs: number) {
    if (!(bucketMs > 0) || !(windowMs >= bucketMs) || windowMs % bucketMs !== 0) {
      throw new TypeError(
        `SlidingWindowRate: windowMs must be a positive multiple of bucketMs, got ${windowMs}/${bucketMs}`,
      );
    }
    this.windowMs = windowMs;
    this.bucketMs = bucketMs;
    // One bucket per full window slice plus the partial bucket at the trailing edge.
    this.#slots = windowMs / bucketMs + 1;
    this.#counts = new Uint32Array(this.#slots);
  }

  record(now: number, events = 1): void {
    const t = this.#clamp(now);
    // Before time 0 there are no buckets (as the rate reads them).
    if (t < 0) return;
    const bucket = Math.floor(t / this.bucketMs);
    this.#memoAt = NaN;
    // `t` never goes back, so neither does the bucket: the ring only moves forward.
    if (bucket > this.#head) this.#advance(bucket);
    const i = bucket % this.#slots;
    this.#counts[i] = (this.#counts[i] as number) + events;
    this.#sum += events;
  }

  /** Events per second over the window ending at `now`. */
  ratePerSec(now: number): number {
    const t = Math.max(now, this.#latestMs);
    // Read on every offer and grant reply, often several times at one instant: keep the last answer.
    if (t === this.#memoAt) return this.#memo;
    const bucket = Math.floor(t / this.bucketMs);
    const fracOfCurrent = (t - bucket * this.bucketMs) / this.bucketMs;
    // The window: buckets (bucket − full, bucket] whole, and bucket − full in part (the share of it
    // still inside). Whole counts are summed as integers first, then the part added: exact as before.
    const full = this.#slots - 1;
    const oldest = bucket - full;
    let events: number;
    if (this.#head < 0 || oldest > this.#head) {
      events = 0;
    } else if (bucket === this.#head) {
      const edge = this.#countAt(oldest);
      events = this.#sum - edge + edge * (1 - fracOfCurrent);
    } else {
      // No event since an earlier bucket: the ring's total without the buckets that have left the
      // window, summed over whichever side is shorter (a read soon after the last event: a few buckets).
      let whole = 0;
      if (oldest - (this.#head - full) < this.#head - oldest) {
        whole = this.#sum;
        for (let b = this.#head - full; b <= oldest; b++) whole -= this.#countAt(b);
      } else {
        for (let b = oldest + 1; b <= this.#head; b++) whole += this.#countAt(b);
      }
      events = whole + this.#countAt(oldest) * (1 - fracOfCurrent);
    }
    this.#memoAt = t;
    this.#memo = events / (this.windowMs / 1000);
    return this.#memo;
  }

  snapshot(): RateWindowSnapshot {
    const buckets: Array<readonly [number, number]> = [];
    for (let no = Math.max(0, this.#head - this.#slots + 1); no <= this.#head; no++) {
      const count = this.#countAt(no);
      if (count > 0) buckets.push([no, count]);
    }
    return { windowMs: this.windowMs, bucketMs: this.bucketMs, buckets };
  }

  static fromSnapshot(snap: RateWindowSnapshot): SlidingWindowRate {
    const rate = new SlidingWindowRate(snap.windowMs, snap.bucketMs);
    for (const [no, count] of snap.buckets) rate.record(no * snap.bucketMs, count);
    return rate;
  }

  /** Moves the newest bucket on to `bucket`, emptying the slots of the buckets that leave the ring. */
  #advance(bucket: number): void {
    if (this.#head < 0 || bucket - this.#head >= this.#slots) {
      this.#counts.fill(0);
      this.#sum = 0;
    } else {
      for (let b = this.#head + 1; b <= bucket; b++) {
        const i = b % this.#slots;
        this.#sum -= this.#counts[i] as number;
        this.#counts[i] = 0;
      }
    }
    this.#head = bucket;
  }

  /** A bucket's count; 0 for one outside the ring (never recorded, or gone). */
  #countAt(bucket: number): number {
    if (bucket < 0 || bucket > this.#head || bucket <= this.#head - this.#slots) return 0;
    return this.#counts[bucket % this.#slots] as number;
  }

  #clamp(now: number): number {
    if (now > this.#latestMs) this.#latestMs = now;
    return this.#latestMs;
  }
}
