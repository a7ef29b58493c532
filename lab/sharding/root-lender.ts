// The root of a sharded pool: it owns every backend slot and lends them to shard coordinators in batches.
// Borrowers that cannot be served at once wait here ordered by the best head each reported, so the slots
// that come back go to the most urgent shard first. Pure: messages are the caller's business.

import type { ReadyHead } from '../../src/core/dispatcher.ts';
import type { Policy } from '../../src/core/policy/types.ts';
import { bestHead, compareHeads } from './rank.ts';

export interface BorrowRequest {
  readonly shard: number;
  readonly want: number;
  /** The shard's best waiting head when it asked. */
  readonly best: ReadyHead;
}

/** What a shard tells the root at each check-in, for the waterline. */
export interface ShardReport {
  /** rankKeys of its best waiting heads that are not overdue, at most REPORT_TOP of them. */
  readonly topRankKeys: readonly number[];
  readonly overdue: number;
  /** Requests that finished on the shard since its last report. */
  readonly completions: number;
  /** Its best waiting head now: replaces the one its waiting borrow reported. */
  readonly best: ReadyHead | null;
}

/** How many head keys a shard reports: a few hundred numbers per check-in, whatever its backlog. */
export const REPORT_TOP = 256;

export interface Loan {
  readonly shard: number;
  /** One backend name per slot lent. */
  readonly slots: readonly string[];
}

export class RootLender {
  readonly #policy: Policy;
  /** Unlent slots per backend. */
  readonly #free = new Map<string, number>();
  readonly #capacity = new Map<string, number>();
  /** At most one per shard (a shard asks again only after its loan arrived). */
  readonly #waiting = new Map<number, BorrowRequest>();
  readonly #reports = new Map<number, ShardReport>();

  constructor(policy: Policy, backends: ReadonlyArray<{ readonly name: string; readonly slots: number }>) {
    this.#policy = policy;
    for (const b of backends) {
      this.#free.set(b.name, b.slots);
      this.#capacity.set(b.name, b.slots);
    }
  }

  get freeSlots(): number {
    let n = 0;
    for (const f of this.#free.values()) n += f;
    return n;
  }

  /** A shard asks for slots; returns the loans that can be made now (to it or anyone waiting). */
  borrow(request: BorrowRequest, now: number): Loan[] {
    this.#waiting.set(request.shard, request);
    return this.#serve(now);
  }

  /** Slots come back from a shard; returns the loans they allow. */
  giveBack(slots: readonly string[], now: number): Loan[] {
    for (const name of slots) {
      const free = (this.#free.get(name) ?? 0) + 1;
      if (free > (this.#capacity.get(name) ?? 0)) throw new Error(`root: backend ${name} over-returned`);
      this.#free.set(name, free);
    }
    return this.#serve(now);
  }

  /** The best waiting borrower's head other than `shard`'s own, or null: what a shard yields to. */
  pressureFor(shard: number, now: number): ReadyHead | null {
    const others = [...this.#waiting.values()].filter((r) => r.shard !== shard).map((r) => r.best);
    return bestHead(this.#policy, others, now);
  }

  get waitingShards(): number[] {
    return [...this.#waiting.keys()];
  }

  report(shard: number, report: ShardReport): void {
    this.#reports.set(shard, report);
    const waiting = this.#waiting.get(shard);
    if (waiting && report.best) this.#waiting.set(shard, { ...waiting, best: report.best });
  }

  /**
   * The waterline: the rankKey a head needs to be among those the slots freeing up before the next
   * reports will serve (one check-in period's completions, overdue heads first). Heads below it can wait
   * for a slot on their own shard; a shard whose best head is below it gives finished slots back when a
   * better head waits elsewhere. -Infinity when every reported head fits.
   */
  waterline(): number {
    let slots = 0;
    const keys: number[] = [];
    for (const r of this.#reports.values()) {
      slots += r.completions - r.overdue;
      keys.push(...r.topRankKeys);
    }
    if (slots <= 0) return Infinity;
    if (keys.length <= slots) return -Infinity;
    keys.sort((a, b) => b - a);
    return keys[slots - 1] ?? -Infinity;
  }

  #serve(now: number): Loan[] {
    const loans: Loan[] = [];
    while (this.#waiting.size > 0 && this.freeSlots > 0) {
      let top: BorrowRequest | null = null;
      for (const r of this.#waiting.values()) {
        if (top === null || compareHeads(this.#policy, r.best, top.best, now) > 0) top = r;
      }
      if (top === null) break;
      this.#waiting.delete(top.shard);
      const slots: string[] = [];
      while (slots.length < top.want) {
        const name = this.#mostFree();
        if (name === null) break;
        this.#free.set(name, (this.#free.get(name) ?? 0) - 1);
        slots.push(name);
      }
      loans.push({ shard: top.shard, slots });
    }
    return loans;
  }

  /** Spread loans over backends like the Dispatcher spreads grants: the one with the most free slots. */
  #mostFree(): string | null {
    let best: string | null = null;
    let bestFree = 0;
    for (const [name, free] of this.#free) {
      if (free > bestFree) {
        best = name;
        bestFree = free;
      }
    }
    return best;
  }
}
