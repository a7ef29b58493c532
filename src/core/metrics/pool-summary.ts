// The coordinator side of /metrics: what one pool's coordinator knows of every workload that reported
// to it (their latest cumulative counts), the pool's totals, the live fairness cells, and the events the
// coordinator itself sees (lease expiries, failovers). A scrape reads one
// summary per pool; it never calls a workload. In memory only (see README, "Metrics"). No clock, no I/O.

import { cellJain, FAIRNESS_WINDOW_MS, type FairnessTally } from './fairness-math.ts';
import {
  addInto,
  countersOnly,
  COUNTER_LENGTH,
  CRITICALITIES,
  decodeSparse,
  emptyCounters,
  encodeSparse,
  IS_GAUGE,
  IX,
  queuedOf,
  waitBucketsOf,
  waitQuantileMs,
  type Counters,
} from './counter-layout.ts';
import type { MetricsReport } from './workload-tally.ts';
import type { BackendStatus } from '../backend-pool.ts';

/** The fairness gauge averages the last complete windows: 6 × 10 s, the "last minute". */
export const FAIRNESS_RECENT_WINDOWS = 6;
/** Recent traffic (the top-N ranking and the dashboard's rate) is counted over this span. */
export const TRAFFIC_WINDOW_MS = 60_000;
/** Default N of "top N workloads by recent traffic, plus other" (METRICS_TOP_WORKLOADS). */
export const DEFAULT_METRICS_TOP_WORKLOADS = 20;
/**
 * The dashboard's charts: one point per HISTORY_STEP_MS at most, for HISTORY_SPAN_MS. Points are taken
 * when the pool is read (a scrape or the dashboard), so the charts start when someone starts watching.
 */
export const HISTORY_STEP_MS = 1_000;
export const HISTORY_SPAN_MS = 5 * 60_000;

/** Above this, labels are no longer "bounded" in any useful sense (each is a series per metric). */
export const MAX_METRICS_TOP_WORKLOADS = 500;

interface WorkloadRecord {
  bornAt: number;
  epoch: number;
  n: number;
  /**
   * Counters of earlier lives (the workload went idle, was deleted and came back); null until it has
   * one (most never do: one array fewer to keep, and to read on every report).
   */
  base: Counters | null;
  /** The last report's counters, dense; updated in place from each report. */
  readonly last: Counters;
  /** `last` as sparse pairs in index order (their indexes are where `last` may be non-zero). */
  lastPairs: readonly number[];
  /** The window of the last report (fairness: queued gauges hold until the next one). */
  lastWindow: number;
  trafficBucket: number;
  trafficNow: number;
  trafficBefore: number;
}

export interface WorkloadSummary {
  readonly workloadId: string;
  /** Arrivals per second over the last TRAFFIC_WINDOW_MS (two-bucket estimate). */
  readonly ratePerSec: number;
  /** Sparse counters (counter-layout.ts). */
  readonly counters: readonly number[];
}

/** One point of the pool's charts. */
export interface HistoryPoint {
  readonly at: number;
  readonly queued: number;
  readonly inFlight: number;
  /** Queue wait of the requests dispatched since the previous point (histogram estimate); null if none. */
  readonly waitP50Ms: number | null;
  readonly waitP95Ms: number | null;
}

export interface FairnessSummary {
  /** Weighted mean over the recent windows and every criticality; null when no two workloads competed. */
  readonly overall: number | null;
  readonly byCriticality: ReadonlyArray<{ readonly criticality: number; readonly jain: number | null }>;
}

/** One pool's summary as a scrape receives it: plain data (it crosses Durable Object RPC). */
export interface PoolSummarySnapshot {
  readonly at: number;
  /** Workloads reporting here right now (live records). */
  readonly workloadCount: number;
  /** The top N by recent traffic, busiest first (from `offset` in that ranking). */
  readonly top: readonly WorkloadSummary[];
  /** Everything else, summed: workloads outside the top N and workloads gone idle. */
  readonly other: WorkloadSummary;
  /** Every workload, summed (histograms by criticality are pool-wide, not per workload). */
  readonly totals: readonly number[];
  readonly fairness: FairnessSummary;
  readonly leaseExpiries: number;
  readonly failovers: ReadonlyArray<{ readonly backend: string; readonly count: number }>;
  /** Reports dropped as unreadable (a workload running another version's layout). */
  readonly badReports: number;
  readonly history: readonly HistoryPoint[];
}

/** One scrape's view of a pool (CoordinatorHost.metricsSnapshot): the summary plus its backends. */
export interface PoolMetricsSnapshot extends PoolSummarySnapshot {
  readonly backends: readonly BackendStatus[];
  /** After a coordinator restart: workloads it still waits to hear from (absent: not reported). */
  readonly recovering?: number;
}

export const OTHER_WORKLOADS = 'other';

export class PoolSummary {
  readonly #records = new Map<string, WorkloadRecord>();
  readonly #totals = emptyCounters();
  /** window → criticality → workload → tally, for the last few windows only. */
  readonly #windows = new Map<number, Map<number, Map<string, { demand: number; received: number }>>>();
  #leaseExpiries = 0;
  readonly #failovers = new Map<string, number>();
  #badReports = 0;
  readonly #windowMs: number;
  readonly #history: HistoryPoint[] = [];
  /** Each complete recent window's fairness cells, by criticality (see #completeWindow). */
  readonly #fairnessByWindow = new Map<number, ReadonlyMap<number, { jain: number; weight: number }>>();
  /** The pool's wait histogram (all criticalities) at the last history point. */
  #historyBuckets: number[] | null = null;
  /** Scratch for apply(): one report's change, and each level's queue before it. */
  readonly #delta = emptyCounters();
  readonly #queuedBefore = new Array<number>(CRITICALITIES.length).fill(0);
  /** Besides the new report's, the indexes apply() wrote in #delta (to zero them after). */
  #clearAlso: readonly number[] = NO_PAIRS;

  constructor(opts: { readonly fairnessWindowMs?: number } = {}) {
    this.#windowMs = opts.fairnessWindowMs ?? FAIRNESS_WINDOW_MS;
  }

  /** Applies a workload's report unless a newer one of the same life (or a later life) was applied. */
  apply(report: MetricsReport, now: number): void {
    const pairs = report.counters;
    const ascending = checkPairs(pairs);
    if (ascending === null) {
      this.#badReports++;
      return;
    }
    const window = Math.floor(now / this.#windowMs);
    // Applied on every message a workload sends, so nothing is allocated per report once a workload has
    // its record: the change is computed into a scratch array that is all zeros between calls, touching
    // only the indexes the last report or this one holds (the layout's other ~100 entries stay 0).
    const delta = this.#delta;
    const queuedBefore = this.#queuedBefore;
    let rec = this.#records.get(report.workloadId);
    if (rec === undefined) {
      queuedBefore.fill(0);
      rec = {
        bornAt: report.bornAt,
        epoch: report.epoch,
        n: report.n,
        base: null,
        last: emptyCounters(),
        lastPairs: [],
        lastWindow: window,
        trafficBucket: Math.floor(now / TRAFFIC_WINDOW_MS),
        trafficNow: 0,
        trafficBefore: 0,
      };
      this.#records.set(report.workloadId, rec);
    } else {
      if (!isNewer(report, rec)) return;
      const { base, last } = rec;
      for (let c = 0; c < CRITICALITIES.length; c++) {
        const q = IX.level(c + 1, 'queued');
        queuedBefore[c] = (base === null ? 0 : (base[q] as number)) + (last[q] as number);
      }
    }
    const newLife = report.bornAt > rec.bornAt;
    rec.bornAt = report.bornAt;
    rec.epoch = report.epoch;
    rec.n = report.n;
    if (ascending && !newLife) {
      this.#applySparse(rec, pairs);
      rec.lastPairs = pairs;
    } else {
      this.#applyDense(rec, pairs, newLife);
      // In order, for the next merge.
      rec.lastPairs = encodeSparse(rec.last);
    }
    this.#noteFairness(report.workloadId, rec, queuedBefore, delta, window);
    rec.lastWindow = window;
    this.#noteTraffic(rec, delta[IX.requests] as number, now);
    // Back to all zeros for the next report.
    clearAt(delta, pairs);
    clearAt(delta, this.#clearAlso);
    this.#clearAlso = NO_PAIRS;
  }

  /**
   * The change from the last report to `pairs` (both ascending): entries in either, merged. `last` and
   * the totals take the new values; `delta` the differences.
   */
  #applySparse(rec: WorkloadRecord, pairs: readonly number[]): void {
    const { last } = rec;
    const old = rec.lastPairs;
    const totals = this.#totals;
    const delta = this.#delta;
    let a = 0;
    let b = 0;
    while (a + 1 < old.length || b + 1 < pairs.length) {
      const ia = a + 1 < old.length ? (old[a] as number) : Infinity;
      const ib = b + 1 < pairs.length ? (pairs[b] as number) : Infinity;
      const i = Math.min(ia, ib);
      let value = 0;
      if (ib === i) {
        value = pairs[b + 1] as number;
        b += 2;
      }
      if (ia === i) a += 2;
      const d = value - (last[i] as number);
      last[i] = value;
      delta[i] = d;
      totals[i] = (totals[i] as number) + d;
    }
    this.#clearAlso = old;
  }

  /** The change over the whole layout (a later life, or pairs out of order): what apply() always did. */
  #applyDense(rec: WorkloadRecord, pairs: readonly number[], newLife: boolean): void {
    const counters = decodeSparse(pairs);
    const { last } = rec;
    const base = newLife ? (rec.base ??= emptyCounters()) : null;
    const delta = this.#delta;
    // A later life: the earlier one's counters (not its gauges) move into the base.
    for (let i = 0; i < delta.length; i++) {
      const old = last[i] as number;
      let d = (counters[i] as number) - old;
      if (base !== null && !IS_GAUGE[i]) {
        base[i] = (base[i] as number) + old;
        d += old;
      }
      delta[i] = d;
      last[i] = counters[i] as number;
    }
    addInto(this.#totals, delta);
    // Every entry may be non-zero in the scratch now.
    this.#clearAlso = ALL_INDEXES;
  }

  /** The workload went idle and deleted itself: its counts stay in the totals (under `other`). */
  retire(workloadId: string): void {
    const rec = this.#records.get(workloadId);
    if (!rec) return;
    const total = this.#total(rec);
    const delta = countersOnly(total);
    addInto(delta, total, -1);
    addInto(this.#totals, delta);
    this.#records.delete(workloadId);
  }

  countLeaseExpired(): void {
    this.#leaseExpiries++;
  }

  countFailover(backend: string): void {
    this.#failovers.set(backend, (this.#failovers.get(backend) ?? 0) + 1);
  }

  /**
   * The scrape's view. O(workloads · layout) plus a sort for the top N: no I/O, and nothing per
   * workload crosses RPC beyond the top N.
   */
  snapshot(now: number, topN: number, offset = 0): PoolSummarySnapshot {
    this.#sampleHistory(now);
    const ranked = [...this.#records].map(([id, rec]) => ({ id, rec, rate: this.#ratePerSec(rec, now) }));
    ranked.sort((a, b) => b.rate - a.rate || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const from = Math.max(0, offset);
    const top = ranked.slice(from, from + Math.max(0, topN));
    const other = this.#totals.slice();
    let otherRate = 0;
    for (const { rec } of top) addInto(other, this.#total(rec), -1);
    ranked.forEach(({ rate }, i) => {
      if (i < from || i >= from + top.length) otherRate += rate;
    });
    return {
      at: now,
      workloadCount: this.#records.size,
      top: top.map(({ id, rec, rate }) => ({
        workloadId: id,
        ratePerSec: rate,
        counters: encodeSparse(this.#total(rec)),
      })),
      other: { workloadId: OTHER_WORKLOADS, ratePerSec: otherRate, counters: encodeSparse(other) },
      totals: encodeSparse(this.#totals),
      fairness: this.fairness(now),
      leaseExpiries: this.#leaseExpiries,
      failovers: [...this.#failovers]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([backend, count]) => ({ backend, count })),
      badReports: this.#badReports,
      history: this.#history.slice(),
    };
  }

  #sampleHistory(now: number): void {
    const last = this.#history[this.#history.length - 1];
    if (last && now - last.at < HISTORY_STEP_MS) return;
    const buckets = waitBucketsOf(this.#totals);
    const since = buckets.slice();
    if (this.#historyBuckets) addInto(since, this.#historyBuckets, -1);
    this.#historyBuckets = buckets;
    this.#history.push({
      at: now,
      queued: queuedOf(this.#totals),
      inFlight: this.#totals[IX.inFlight] as number,
      waitP50Ms: last ? waitQuantileMs(since, 0.5) : null,
      waitP95Ms: last ? waitQuantileMs(since, 0.95) : null,
    });
    while ((this.#history[0]?.at ?? now) < now - HISTORY_SPAN_MS) this.#history.shift();
  }

  /**
   * Jain's index as the lab defines it (fairness-math.ts), over the last FAIRNESS_RECENT_WINDOWS
   * complete windows: per (window, criticality), demand is the requests queued at some point in the
   * window, received those dispatched in it. A workload that sent nothing during a window kept the
   * queue it last reported, so a starved workload counts as demanding without having to speak.
   */
  fairness(now: number): FairnessSummary {
    const current = Math.floor(now / this.#windowMs);
    const sums = new Map<number, { weighted: number; weight: number }>();
    for (let w = current - FAIRNESS_RECENT_WINDOWS; w < current; w++) {
      for (const [c, cell] of this.#completeWindow(w)) {
        const sum = sums.get(c) ?? { weighted: 0, weight: 0 };
        sum.weighted += cell.jain * cell.weight;
        sum.weight += cell.weight;
        sums.set(c, sum);
      }
    }
    let weighted = 0;
    let weight = 0;
    const byCriticality: Array<{ criticality: number; jain: number | null }> = [];
    for (const c of CRITICALITIES) {
      const sum = sums.get(c);
      byCriticality.push({ criticality: c, jain: sum ? sum.weighted / sum.weight : null });
      if (sum) {
        weighted += sum.weighted;
        weight += sum.weight;
      }
    }
    return { overall: weight === 0 ? null : weighted / weight, byCriticality };
  }

  /**
   * One complete window's cells, computed once: nothing changes a window after it ends (a late report
   * counts in the window it arrives in; one arriving after a silence fills the windows it missed with
   * the queue it last reported, which is what this computed for them). Kept while it is recent.
   */
  #completeWindow(w: number): ReadonlyMap<number, { jain: number; weight: number }> {
    const cached = this.#fairnessByWindow.get(w);
    if (cached) return cached;
    const tallies = new Map<number, FairnessTally[]>();
    const levels = this.#windows.get(w);
    for (const [c, cells] of levels ?? []) {
      const list: FairnessTally[] = [];
      for (const t of cells.values()) {
        const demand = Math.max(t.demand, t.received);
        if (demand > 0) list.push({ demand, received: t.received });
      }
      tallies.set(c, list);
    }
    // Workloads that waited through the window without reporting in it.
    for (const [id, rec] of this.#records) {
      if (rec.lastWindow >= w) continue;
      for (const c of CRITICALITIES) {
        const queued = rec.last[IX.level(c, 'queued')] as number;
        if (queued <= 0 || levels?.get(c)?.has(id)) continue;
        const list = tallies.get(c) ?? [];
        list.push({ demand: queued, received: 0 });
        tallies.set(c, list);
      }
    }
    const out = new Map<number, { jain: number; weight: number }>();
    for (const [c, list] of tallies) {
      const cell = cellJain(list);
      if (cell !== null) out.set(c, cell);
    }
    this.#fairnessByWindow.set(w, out);
    for (const old of this.#fairnessByWindow.keys()) {
      if (old < w - FAIRNESS_RECENT_WINDOWS) this.#fairnessByWindow.delete(old);
    }
    return out;
  }

  #total(rec: WorkloadRecord): Counters {
    const t = rec.last.slice();
    if (rec.base !== null) addInto(t, rec.base);
    return t;
  }

  #noteFairness(
    id: string,
    rec: WorkloadRecord,
    queuedBeforeByLevel: readonly number[],
    delta: Counters,
    window: number,
  ): void {
    for (const c of CRITICALITIES) {
      const queuedBefore = queuedBeforeByLevel[c - 1] as number;
      const enqueued = Math.max(0, delta[IX.level(c, 'enqueued')] as number);
      const dispatched = Math.max(0, delta[IX.level(c, 'dispatched')] as number);
      // Windows with no report: the last reported queue waited through them.
      if (queuedBefore > 0) {
        for (let w = Math.max(rec.lastWindow + 1, window - FAIRNESS_RECENT_WINDOWS); w < window; w++) {
          this.#cell(w, c, id, queuedBefore);
        }
      }
      if (queuedBefore === 0 && enqueued === 0 && dispatched === 0) continue;
      const cell = this.#cell(window, c, id, rec.lastWindow < window ? queuedBefore : 0);
      cell.demand += enqueued;
      cell.received += dispatched;
    }
    for (const w of this.#windows.keys())
      if (w < window - FAIRNESS_RECENT_WINDOWS - 1) this.#windows.delete(w);
  }

  /** The cell, created with `queuedAtStart` as its demand if new. */
  #cell(window: number, c: number, id: string, queuedAtStart: number): { demand: number; received: number } {
    let levels = this.#windows.get(window);
    if (!levels) this.#windows.set(window, (levels = new Map()));
    let cells = levels.get(c);
    if (!cells) levels.set(c, (cells = new Map()));
    let cell = cells.get(id);
    if (!cell) cells.set(id, (cell = { demand: queuedAtStart, received: 0 }));
    return cell;
  }

  #noteTraffic(rec: WorkloadRecord, arrivals: number, now: number): void {
    this.#rollTraffic(rec, now);
    rec.trafficNow += Math.max(0, arrivals);
  }

  #rollTraffic(rec: WorkloadRecord, now: number): void {
    const bucket = Math.floor(now / TRAFFIC_WINDOW_MS);
    if (bucket === rec.trafficBucket) return;
    rec.trafficBefore = bucket === rec.trafficBucket + 1 ? rec.trafficNow : 0;
    rec.trafficNow = 0;
    rec.trafficBucket = bucket;
  }

  /** Sliding-window estimate: this bucket plus the part of the previous one still inside the window. */
  #ratePerSec(rec: WorkloadRecord, now: number): number {
    this.#rollTraffic(rec, now);
    const into = (now % TRAFFIC_WINDOW_MS) / TRAFFIC_WINDOW_MS;
    return (rec.trafficNow + rec.trafficBefore * (1 - into)) / (TRAFFIC_WINDOW_MS / 1000);
  }
}

const NO_PAIRS: readonly number[] = Object.freeze([]);
/** Pairs naming every index of the layout (values unused): clearAt() then zeros it all. */
const ALL_INDEXES: readonly number[] = Object.freeze(
  Array.from({ length: 2 * COUNTER_LENGTH }, (_, k) => (k % 2 === 0 ? k / 2 : 0)),
);

/** Sets the entries at the pairs' indexes to 0. */
function clearAt(c: Counters, pairs: readonly number[]): void {
  for (let k = 0; k + 1 < pairs.length; k += 2) c[pairs[k] as number] = 0;
}

/**
 * Checks a report's pairs as decodeSparse would (every index inside the layout): null if one is not;
 * otherwise whether the indexes strictly ascend (encodeSparse writes them so), which the merge needs.
 */
function checkPairs(pairs: readonly number[]): boolean | null {
  let ascending = true;
  let previous = -1;
  for (let k = 0; k + 1 < pairs.length; k += 2) {
    const i = pairs[k] as number;
    if (!(Number.isInteger(i) && i >= 0 && i < COUNTER_LENGTH)) return null;
    if (i <= previous) ascending = false;
    previous = i;
  }
  return ascending;
}

function isNewer(report: MetricsReport, rec: WorkloadRecord): boolean {
  if (report.bornAt !== rec.bornAt) return report.bornAt > rec.bornAt;
  return report.epoch > rec.epoch || (report.epoch === rec.epoch && report.n > rec.n);
}
