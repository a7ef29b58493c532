// One workload's waiting requests. Order: criticality (desc) then arrival (asc), or pure arrival for FIFO
// policies; with an aging horizon, the oldest request becomes the head once it is overdue. Bounded in
// size, with a TTL per request. Holds no clock: every time-dependent call takes `now`.

import { SlotHeap, type HeapSlot } from './indexed-heap.ts';
import type { Policy } from './policy/types.ts';

export interface QueuedRequest {
  readonly requestId: string;
  readonly criticality: number;
  readonly enqueuedAt: number;
  readonly deadlineAt: number;
  /** The host's token estimate (0 when unknown); token fairness charges it at dispatch. */
  readonly tokenEstimate: number;
  /** The workload's share weight, when the host was given one. */
  readonly weight?: number;
  /** Arrival order within this queue: breaks ties between equal `enqueuedAt`. */
  readonly seq: number;
}

export interface WorkloadQueueOptions {
  readonly capacity: number;
  readonly ttlMs: number;
  readonly order: Policy['queueOrder'];
  readonly agingHorizonMs: number | null;
  /**
   * false: no index by request ID (has and remove by ID scan the queue). For an owner that keeps the
   * request push() returned and takes it out with removeRequest() (WorkloadState, whose registry already
   * maps every request): a second map per request would cost a write and a delete for nothing.
   */
  readonly indexById?: boolean;
}

export type PushResult =
  | { readonly ok: true; readonly request: QueuedRequest }
  | { readonly ok: false; readonly reason: 'queue_full' };

/**
 * A queued request as the queue files it: with its slot in each order, so taking the head out of both
 * costs no lookup, and the one map by ID is only for removal by ID.
 */
interface Entry extends QueuedRequest {
  arrival: HeapSlot<Entry> | null;
  priority: HeapSlot<Entry> | null;
}

const byArrival = (a: Entry, b: Entry): number => a.enqueuedAt - b.enqueuedAt || a.seq - b.seq;
const byCriticality = (a: Entry, b: Entry): number => b.criticality - a.criticality || byArrival(a, b);

/** Two literals, not a conditional spread (on every admission): with a weight only when given one. */
function newEntry(
  input: {
    readonly requestId: string;
    readonly criticality: number;
    readonly tokenEstimate?: number;
    readonly weight?: number;
  },
  enqueuedAt: number,
  deadlineAt: number,
  seq: number,
): Entry {
  const { requestId, criticality, weight } = input;
  const tokenEstimate = input.tokenEstimate ?? 0;
  return weight === undefined
    ? { requestId, criticality, enqueuedAt, deadlineAt, tokenEstimate, seq, arrival: null, priority: null }
    : {
        requestId,
        criticality,
        enqueuedAt,
        deadlineAt,
        tokenEstimate,
        weight,
        seq,
        arrival: null,
        priority: null,
      };
}

export class WorkloadQueue {
  readonly #opts: WorkloadQueueOptions;
  // Arrival order doubles as deadline order, since every request gets the same TTL.
  readonly #byArrival = new SlotHeap<Entry>(byArrival);
  readonly #byPriority: SlotHeap<Entry> | null;
  readonly #byId: Map<string, Entry> | null;
  #seq = 0;

  constructor(opts: WorkloadQueueOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) {
      throw new TypeError(`WorkloadQueue: capacity must be a positive integer, got ${opts.capacity}`);
    }
    if (!(opts.ttlMs > 0)) throw new TypeError(`WorkloadQueue: ttlMs must be > 0, got ${opts.ttlMs}`);
    this.#opts = opts;
    this.#byPriority = opts.order === 'criticality' ? new SlotHeap(byCriticality) : null;
    this.#byId = opts.indexById === false ? null : new Map();
  }

  get size(): number {
    return this.#byArrival.size;
  }

  has(requestId: string): boolean {
    return this.#find(requestId) !== undefined;
  }

  /**
   * `overCapacity`: accept even when full. The host uses it for a request whose fate depends on a grant
   * already on its way (see WorkloadState.admit), and trims the excess once that settles.
   */
  push(
    input: {
      requestId: string;
      criticality: number;
      tokenEstimate?: number;
      weight?: number;
      enqueuedAt?: number;
    },
    now: number,
    overCapacity = false,
  ): PushResult {
    if (this.#byArrival.size >= this.#opts.capacity && !overCapacity)
      return { ok: false, reason: 'queue_full' };
    // A request back from a failed dispatch keeps its place: its first arrival, and its TTL from then.
    const enqueuedAt = input.enqueuedAt ?? now;
    if (this.#byId?.has(input.requestId)) {
      throw new Error(`WorkloadQueue: request ${JSON.stringify(input.requestId)} is already queued`);
    }
    const entry = newEntry(input, enqueuedAt, enqueuedAt + this.#opts.ttlMs, this.#seq++);
    entry.arrival = this.#byArrival.push(entry);
    if (this.#byPriority !== null) entry.priority = this.#byPriority.push(entry);
    this.#byId?.set(entry.requestId, entry);
    return { ok: true, request: entry };
  }

  /** The request this workload would send next at `now`. */
  peek(now: number): QueuedRequest | undefined {
    return this.#peek(now);
  }

  #peek(now: number): Entry | undefined {
    const oldest = this.#byArrival.peek();
    if (oldest === undefined || this.#byPriority === null) return oldest;
    const horizon = this.#opts.agingHorizonMs;
    if (horizon !== null && now - oldest.enqueuedAt >= horizon) return oldest;
    return this.#byPriority.peek();
  }

  shift(now: number): QueuedRequest | undefined {
    const head = this.#peek(now);
    if (head) this.#take(head);
    return head;
  }

  remove(requestId: string): QueuedRequest | undefined {
    const entry = this.#find(requestId);
    if (entry) this.#take(entry);
    return entry;
  }

  /** Takes out a request push() returned; false if it has left already. It MUST be from this queue. */
  removeRequest(request: QueuedRequest): boolean {
    const entry = request as Entry;
    if (!this.#byArrival.holds(entry.arrival)) return false;
    this.#take(entry);
    return true;
  }

  #find(requestId: string): Entry | undefined {
    if (this.#byId !== null) return this.#byId.get(requestId);
    for (const entry of this.#byArrival.values()) if (entry.requestId === requestId) return entry;
    return undefined;
  }

  /** Removes and returns every request whose deadline is at or before `now`, oldest first. */
  expire(now: number): QueuedRequest[] {
    const expired: QueuedRequest[] = [];
    for (let r = this.#byArrival.peek(); r && r.deadlineAt <= now; r = this.#byArrival.peek()) {
      this.#take(r);
      expired.push(r);
    }
    return expired;
  }

  /**
   * The next time the queue changes on its own: the oldest request's TTL, or the moment it becomes
   * overdue and takes over the head (which the dispatcher must then be told about).
   */
  nextDeadline(now: number): number | null {
    const oldest = this.#byArrival.peek();
    if (!oldest) return null;
    let next = oldest.deadlineAt;
    const horizon = this.#opts.agingHorizonMs;
    if (horizon !== null && this.#byPriority !== null) {
      const overdueAt = oldest.enqueuedAt + horizon;
      if (overdueAt > now && this.#byPriority.peek() !== oldest) next = Math.min(next, overdueAt);
    }
    return next;
  }

  get capacity(): number {
    return this.#opts.capacity;
  }

  values(): IterableIterator<QueuedRequest> {
    return this.#byArrival.values();
  }

  #take(entry: Entry): void {
    this.#byId?.delete(entry.requestId);
    if (entry.arrival !== null) this.#byArrival.remove(entry.arrival);
    if (entry.priority !== null) this.#byPriority?.remove(entry.priority);
    entry.arrival = null;
    entry.priority = null;
  }
}
