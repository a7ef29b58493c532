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

export class SlidingWindowRate {
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly #slots: number;
  /** Per slot, side by side (one cache line for both): [bucket number, count]. */
  readonly #cells: Float64Array;
  #memoAt = NaN;
  #memo = 0;
  /** The bucket whose predecessors #sumBehind sums (NaN: recompute). */
  #sumBucket = NaN;
  #sumBehind = 0;
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
    // One bucket per full window slice plus the partial bucket at the leading edge.
    this.#slots = windowMs / bucketMs + 1;
    this.#cells = new Float64Array(2 * this.#slots);
    for (let slot = 0; slot < this.#slots; slot++) this.#cells[2 * slot] = -1;
  }

  record(now: number, events = 1): void {
    const t = this.#clamp(now);
    const bucket = Math.floor(t / this.bucketMs);
    this.#memoAt = NaN;
    // A bucket behind the summed one changed: sum again. One ahead of it is added when the sum slides.
    if (bucket < this.#sumBucket) this.#sumBucket = NaN;
    const i = 2 * (bucket % this.#slots);
    const old = this.#cells[i] ?? -1;
    if (old !== bucket) {
      // The slot's previous bucket leaves the ring, and the sum if it was in it.
      if (old > this.#sumBucket - this.#slots + 1 && old < this.#sumBucket) {
        this.#sumBehind -= this.#cells[i + 1] ?? 0;
      }
      this.#cells[i] = bucket;
      this.#cells[i + 1] = 0;
    }
    this.#cells[i + 1] = (this.#cells[i + 1] ?? 0) + events;
  }

  /** Events per second over the window ending at `now`. */
  ratePerSec(now: number): number {
    const t = Math.max(now, this.#latestMs);
    // Read on every offer and grant reply, often several times at one instant: keep the last answer.
    if (t === this.#memoAt) return this.#memo;
    const bucket = Math.floor(t / this.bucketMs);
    const fracOfCurrent = (t - bucket * this.bucketMs) / this.bucketMs;
    const full = this.#slots - 1;
    // The full buckets behind the current one only change when the current bucket does: sum them once,
    // then slide the sum as time moves on (counts are whole numbers, so the sum stays exact).
    if (bucket !== this.#sumBucket) {
      const from = this.#sumBucket;
      if (bucket > from && bucket - from < full) {
        for (let b = from; b < bucket; b++) this.#sumBehind += this.#countAt(b) - this.#countAt(b - full + 1);
      } else {
        this.#sumBehind = 0;
        for (let k = 1; k < full; k++) this.#sumBehind += this.#countAt(bucket - k);
      }
      this.#sumBucket = bucket;
    }
    let events = this.#countAt(bucket) + this.#sumBehind;
    events += this.#countAt(bucket - full) * (1 - fracOfCurrent);
    this.#memoAt = t;
    this.#memo = events / (this.windowMs / 1000);
    return this.#memo;
  }

  snapshot(): RateWindowSnapshot {
    const buckets: Array<readonly [number, number]> = [];
    for (let slot = 0; slot < this.#slots; slot++) {
      const no = this.#cells[2 * slot] ?? -1;
      const count = this.#cells[2 * slot + 1] ?? 0;
      if (no >= 0 && count > 0) buckets.push([no, count]);
    }
    buckets.sort((a, b) => a[0] - b[0]);
    return { windowMs: this.windowMs, bucketMs: this.bucketMs, buckets };
  }

  static fromSnapshot(snap: RateWindowSnapshot): SlidingWindowRate {
    const rate = new SlidingWindowRate(snap.windowMs, snap.bucketMs);
    for (const [no, count] of snap.buckets) rate.record(no * snap.bucketMs, count);
    return rate;
  }

  #countAt(bucket: number): number {
    if (bucket < 0) return 0;
    const i = 2 * (bucket % this.#slots);
    return this.#cells[i] === bucket ? (this.#cells[i + 1] ?? 0) : 0;
  }

  #clamp(now: number): number {
    if (now > this.#latestMs) this.#latestMs = now;
    return this.#latestMs;
  }
}
