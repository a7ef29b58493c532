// Backends and their slots. A backend that could not be reached is skipped for a cooldown that doubles
// with each consecutive failure; the first success resets it. With engine metrics (saturation), a
// backend whose engine is saturated gets nothing new, and among the others the least loaded is picked
// (engine queue, then KV use); then, as without metrics, the most free capacity relative to its
// maximum; ties go to the one listed first, so the choice is deterministic.

import { BACKEND_COOLDOWN_BASE_MS, BACKEND_COOLDOWN_MAX_MS } from './defaults.ts';
import type { EngineLoad } from './engine-load.ts';
import { BackendLoadTracker, compareLoad, type LoadView, type SaturationPolicy } from './saturation.ts';

export interface BackendSpec {
  readonly name: string;
  readonly maxConcurrency: number;
}

export interface BackendStatus {
  readonly name: string;
  readonly maxConcurrency: number;
  readonly inFlight: number;
  /** False while the backend cools down after being unreachable. */
  readonly healthy: boolean;
  readonly consecutiveFailures: number;
  /** When the cooldown ends (ms), or null when healthy. */
  readonly downUntil: number | null;
  /** The engine's load as Sluice sees it (saturation on); null when metrics are off. */
  readonly load: LoadView | null;
  /**
   * `cooling` after a failure; `probing` once the cooldown is over, until a health probe answers (no live
   * request is sent to find out); `half_open` after a good probe, with a slot allowance that doubles with
   * each success; `healthy` again once the allowance reaches maxConcurrency.
   */
  readonly state: BackendState;
}

export type BackendState = 'healthy' | 'cooling' | 'probing' | 'half_open';

interface BackendSlotState {
  readonly spec: BackendSpec;
  inFlight: number;
  consecutiveFailures: number;
  downUntil: number;
  lastFailureAt: number;
  lastSuccessAt: number;
  readonly load: BackendLoadTracker | null;
  /** Slots it may use: Infinity when healthy, 0 until a probe succeeds (probing on), then 1, 2, 4, … */
  allowance: number;
  probeInFlight: boolean;
}

export interface BackendCooldown {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** How soon a backend waiting for its health probe is expected back (the probe's own round trip). */
const PROBE_WAIT_MS = 1_000;

export const DEFAULT_BACKEND_COOLDOWN: BackendCooldown = Object.freeze({
  baseMs: BACKEND_COOLDOWN_BASE_MS,
  maxMs: BACKEND_COOLDOWN_MAX_MS,
});

export class BackendPool {
  readonly #backends: BackendSlotState[];
  readonly #byName = new Map<string, BackendSlotState>();
  readonly #cooldown: BackendCooldown;
  readonly #probing: boolean;

  constructor(
    specs: readonly BackendSpec[],
    cooldown: BackendCooldown = DEFAULT_BACKEND_COOLDOWN,
    saturation: SaturationPolicy | null = null,
    /** Probe a backend after its cooldown, and bring it back gradually (the coordinator does this). */
    probing = false,
  ) {
    this.#probing = probing;
    if (!(cooldown.baseMs >= 0 && cooldown.maxMs >= cooldown.baseMs)) {
      throw new TypeError(
        `backend cooldown: need 0 ≤ baseMs ≤ maxMs, got ${cooldown.baseMs}/${cooldown.maxMs}`,
      );
    }
    this.#cooldown = cooldown;
    this.#backends = specs.map((spec) => {
      if (!Number.isInteger(spec.maxConcurrency) || spec.maxConcurrency < 1) {
        throw new TypeError(
          `backend ${spec.name}: maxConcurrency must be a positive integer, got ${spec.maxConcurrency}`,
        );
      }
      if (this.#byName.has(spec.name)) throw new TypeError(`backend name ${spec.name} is listed twice`);
      const state = {
        spec,
        inFlight: 0,
        consecutiveFailures: 0,
        downUntil: -Infinity,
        lastFailureAt: -Infinity,
        lastSuccessAt: -Infinity,
        load: saturation ? new BackendLoadTracker(saturation) : null,
        allowance: Infinity,
        probeInFlight: false,
      };
      this.#byName.set(spec.name, state);
      return state;
    });
  }

  get size(): number {
    return this.#backends.length;
  }

  /** Free slots on backends that can take a request at `now` (not cooling down, not saturated). */
  freeSlots(now: number): number {
    let free = 0;
    for (const b of this.#backends) if (this.#usable(b, now)) free += Math.max(0, this.#cap(b) - b.inFlight);
    return free;
  }

  /** The backend to use next at `now`, or null when no usable backend has a free slot. */
  pick(now: number): string | null {
    let best: BackendSlotState | null = null;
    let bestView: LoadView | null = null;
    let bestRatio = 0;
    for (const b of this.#backends) {
      const free = this.#cap(b) - b.inFlight;
      if (free <= 0 || b.downUntil > now || b.allowance <= 0) continue;
      // Read once: the view scans the backend's load events, and pick() runs on every grant.
      const view = b.load?.view(now) ?? null;
      if (view?.saturated) continue;
      const ratio = free / b.spec.maxConcurrency;
      const byLoad = view && bestView ? compareLoad(view, bestView) : 0;
      if (best === null || byLoad < 0 || (byLoad === 0 && ratio > bestRatio)) {
        best = b;
        bestView = view;
        bestRatio = ratio;
      }
    }
    return best?.spec.name ?? null;
  }

  acquire(name: string, now?: number): void {
    const b = this.#require(name);
    if (b.inFlight >= b.spec.maxConcurrency) throw new Error(`backend ${name}: no free slot`);
    b.inFlight++;
    if (now !== undefined) b.load?.onDispatched(now);
  }

  /** Returns a slot; unknown names are ignored (a lease may outlive a backend removed by redeploy). */
  release(name: string, now?: number): void {
    const b = this.#byName.get(name);
    if (b && b.inFlight > 0) {
      b.inFlight--;
      if (now !== undefined) b.load?.onReleased(now);
    }
  }

  /** A scrape of the backend's engine metrics, started at `scrapedAt`, succeeded. */
  reportLoad(name: string, load: EngineLoad, scrapedAt: number, arrivedAt?: number): void {
    this.#byName.get(name)?.load?.onScrape(load, scrapedAt, arrivedAt);
  }

  /** Returns how many scrapes in a row have failed now (0 when metrics are off for it). */
  reportScrapeFailed(name: string, at: number): number {
    const load = this.#byName.get(name)?.load;
    load?.onScrapeFailed(at);
    return load?.consecutiveScrapeFailures ?? 0;
  }

  /** Whether engine metrics are read at all (a saturation policy was given). */
  get readsMetrics(): boolean {
    return this.#backends.some((b) => b.load !== null);
  }

  /** Backends worth reading metrics from: not cooling down or waiting for a probe (those are out anyway). */
  inService(now: number): string[] {
    return this.#backends.filter((b) => b.downUntil <= now && b.allowance > 0).map((b) => b.spec.name);
  }

  #usable(b: BackendSlotState, now: number): boolean {
    return b.downUntil <= now && b.allowance > 0 && !(b.load?.view(now).saturated ?? false);
  }

  /** Slots it may hold now: its maximum, or less while it comes back (half-open). */
  #cap(b: BackendSlotState): number {
    return Math.min(b.spec.maxConcurrency, b.allowance);
  }

  /**
   * Backends whose cooldown is over and that wait for a health probe; each is returned once until its
   * probe is answered (onProbe).
   */
  probesDue(now: number): string[] {
    const due: string[] = [];
    for (const b of this.#backends) {
      if (b.allowance === 0 && b.downUntil <= now && !b.probeInFlight) {
        b.probeInFlight = true;
        due.push(b.spec.name);
      }
    }
    return due;
  }

  /** A health probe sent at `at` answered: good brings the backend back with one slot; bad cools it again. */
  onProbe(name: string, ok: boolean, at: number): void {
    const b = this.#byName.get(name);
    if (!b) return;
    b.probeInFlight = false;
    if (b.allowance !== 0) return;
    if (ok) {
      b.allowance = 1;
      b.downUntil = -Infinity;
    } else {
      this.reportUnreachable(name, at);
    }
  }

  /** Counts a slot held by a lease restored from storage, even beyond the current maximum. */
  restore(name: string): void {
    const b = this.#byName.get(name);
    if (b) b.inFlight++;
  }

  /**
   * The backend could not be reached at `now`: skip it until the returned time. A report older than the
   * latest success (a delayed retry) is ignored and returns null.
   */
  reportUnreachable(name: string, now: number): number | null {
    const b = this.#byName.get(name);
    if (!b || now < b.lastSuccessAt) return null;
    b.consecutiveFailures++;
    b.lastFailureAt = Math.max(b.lastFailureAt, now);
    const cooldown = Math.min(this.#cooldown.maxMs, this.#cooldown.baseMs * 2 ** (b.consecutiveFailures - 1));
    b.downUntil = now + cooldown;
    if (this.#probing) b.allowance = 0;
    return b.downUntil;
  }

  /**
   * The backend answered at `observedAt`. Ignored when a failure was seen later: completions arrive
   * when a request ends, so a long stream's success can be older than the failure that began a cooldown.
   */
  reportReachable(name: string, observedAt: number): void {
    const b = this.#byName.get(name);
    if (!b || observedAt < b.lastFailureAt) return;
    b.lastSuccessAt = Math.max(b.lastSuccessAt, observedAt);
    if (this.#probing && b.consecutiveFailures > 0) {
      // Half-open: each success doubles what it may take; a success before the probe changes nothing.
      if (b.allowance === 0) return;
      b.allowance *= 2;
      if (b.allowance < b.spec.maxConcurrency) return;
    }
    b.consecutiveFailures = 0;
    b.downUntil = -Infinity;
    b.allowance = Infinity;
  }

  /**
   * When every backend is out (cooling down or waiting for its probe), the earliest time one may be back;
   * null while any can take requests (a saturated one counts as up: it drains on its own). A pool with no
   * backend at all is down for good.
   */
  downUntil(now: number): number | null {
    let back = Infinity;
    for (const b of this.#backends) {
      if (b.downUntil <= now && b.allowance > 0) return null;
      // Waiting for a probe: back as soon as it answers, so retrying in about a second is right.
      back = Math.min(back, b.downUntil > now ? b.downUntil : now + PROBE_WAIT_MS);
    }
    return back;
  }

  /** The earliest end of a cooldown after `now`, or null. */
  nextRecovery(now: number): number | null {
    let next = Infinity;
    for (const b of this.#backends) if (b.downUntil > now) next = Math.min(next, b.downUntil);
    return Number.isFinite(next) ? next : null;
  }

  status(now: number): BackendStatus[] {
    return this.#backends.map((b) => ({
      name: b.spec.name,
      maxConcurrency: b.spec.maxConcurrency,
      inFlight: b.inFlight,
      healthy: b.downUntil <= now && b.allowance > 0,
      state:
        b.downUntil > now
          ? 'cooling'
          : b.allowance === 0
            ? 'probing'
            : b.allowance < b.spec.maxConcurrency
              ? 'half_open'
              : 'healthy',
      consecutiveFailures: b.consecutiveFailures,
      downUntil: b.downUntil > now ? b.downUntil : null,
      load: b.load?.view(now) ?? null,
    }));
  }

  #require(name: string): BackendSlotState {
    const b = this.#byName.get(name);
    if (!b) throw new Error(`unknown backend ${name}`);
    return b;
  }
}
