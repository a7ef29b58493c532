// Core benchmark: the cost of one dispatch decision with 10, 1,000 and 10,000 ready workloads, per policy,
// and the request throughput of the whole core (LocalScheduler). Prints numbers; never asserts on time.

import { createPrng } from '../sim/prng.ts';
import {
  Dispatcher,
  LocalScheduler,
  POLICY_NAMES,
  createPolicy,
  ENDED,
  type Criticality,
  type HeadView,
  type PolicyName,
  type WorkloadSignals,
} from '../src/core/index.ts';

const READY_SIZES = [10, 1_000, 10_000] as const;
const SCHEDULER_SIZES = [10, 1_000, 10_000] as const;
const WARMUP_MS = 100;
/** Each figure is the median of REPEATS runs of REPEAT_MS, which damps GC pauses and JIT tier-ups. */
const REPEATS = 5;
const REPEAT_MS = 80;
const CHUNK = 250;
/** Head ages are spread over 0–45 s, so with the default 30 s horizon about a third are overdue. */
const MAX_AGE_MS = 45_000;
const SCHEDULER_SLOTS = 64;
const BACKLOG_PER_WORKLOAD = 2;

/**
 * Collects the garbage earlier runs left (when Node runs with --expose-gc, as `npm run bench` does): the
 * 10,000-workload scheduler of one row would otherwise be collected during the next row's measurement.
 */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Runs `chunk` in a loop for `ms` of wall time; returns total iterations and elapsed ms. */
function runFor(ms: number, chunk: () => number): { iterations: number; elapsedMs: number } {
  let iterations = 0;
  const start = performance.now();
  let elapsedMs = 0;
  while (elapsedMs < ms) {
    iterations += chunk();
    elapsedMs = performance.now() - start;
  }
  return { iterations, elapsedMs };
}

/** Warms up, then returns the median over REPEATS of `measure()` (one figure per repeat). */
function medianOfRepeats(warmup: () => void, measure: () => number): number {
  warmup();
  const figures = Array.from({ length: REPEATS }, measure).sort((a, b) => a - b);
  return figures[figures.length >> 1] ?? NaN;
}

/** The cost of one performance.now() pair, subtracted from per-call timings. */
function timerOverheadMs(): number {
  const samples: number[] = [];
  for (let i = 0; i < 50_000; i++) {
    const t0 = performance.now();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1] ?? 0;
}

interface DecisionRow {
  readonly policy: PolicyName;
  readonly ready: number;
  readonly nextUs: number;
  readonly cycleUs: number;
}

function benchDecisions(policyName: PolicyName, ready: number, overheadMs: number): DecisionRow {
  collectGarbage();
  const rng = createPrng(0x51_1ce + ready);
  const policy = createPolicy(policyName);
  const dispatcher = new Dispatcher({
    backends: [{ name: 'gpu', maxConcurrency: 1_000_000 }],
    policy,
    leaseTtlMs: 1e12,
  });
  let now = 1_000_000;
  let seq = 0;
  const newHead = (): HeadView => ({
    requestId: `r${seq++}`,
    criticality: 1 + Math.floor(rng() * 5),
    enqueuedAt: now - Math.floor(rng() * MAX_AGE_MS),
  });
  const newSignals = (): WorkloadSignals => ({
    requestRatePerSec: rng() * 100,
    averageWaitMs: rng() < 0.2 ? null : rng() * 60_000,
    lastDispatchedAt: rng() < 0.5 ? null : now - Math.floor(rng() * MAX_AGE_MS),
  });
  for (let w = 0; w < ready; w++) dispatcher.offer(`w${w}`, newHead(), newSignals());

  // One decision cycle as the coordinator runs it: grant, the workload re-offers its next head, release.
  const cycle = (): number => {
    for (let i = 0; i < CHUNK; i++) {
      now += 1;
      const grant = dispatcher.next(now);
      if (!grant) throw new Error('bench: no grant');
      dispatcher.offer(grant.workloadId, newHead(), newSignals());
      dispatcher.release(grant.leaseId);
    }
    return CHUNK;
  };
  const cycleUs = medianOfRepeats(
    () => runFor(WARMUP_MS, cycle),
    () => {
      const r = runFor(REPEAT_MS, cycle);
      return (r.elapsedMs / r.iterations) * 1000;
    },
  );

  // next() alone, timed per call; the re-offer and release happen outside the timer.
  let nextMs = 0;
  const nextOnly = (): number => {
    for (let i = 0; i < CHUNK; i++) {
      now += 1;
      const t0 = performance.now();
      const grant = dispatcher.next(now);
      nextMs += performance.now() - t0 - overheadMs;
      if (!grant) throw new Error('bench: no grant');
      dispatcher.offer(grant.workloadId, newHead(), newSignals());
      dispatcher.release(grant.leaseId);
    }
    return CHUNK;
  };
  const nextUs = medianOfRepeats(
    () => runFor(WARMUP_MS, nextOnly),
    () => {
      nextMs = 0;
      const r = runFor(REPEAT_MS, nextOnly);
      return (Math.max(0, nextMs) / r.iterations) * 1000;
    },
  );
  if (dispatcher.readyCount !== ready) throw new Error('bench: ready set drifted');
  return { policy: policyName, ready, nextUs, cycleUs };
}

interface ThroughputRow {
  readonly policy: string;
  readonly workloads: number;
  readonly admitDispatchUs: number;
  readonly fullUs: number;
}

function benchScheduler(
  policyName: PolicyName,
  workloads: number,
  overheadMs: number,
  metricsReports = false,
  requestFairness = false,
): ThroughputRow {
  collectGarbage();
  const rng = createPrng(0xbe_4c + workloads);
  const scheduler = new LocalScheduler({
    policy: createPolicy(policyName, requestFairness ? { fairness: 'requests' } : {}),
    backends: [{ name: 'gpu', maxConcurrency: SCHEDULER_SLOTS }],
    workload: { queueTtlMs: 1e12, inFlightTtlMs: 1e12, idleEvictMs: 1e15 },
    leaseTtlMs: 1e12,
    metricsReports,
  });
  let now = 0;
  let seq = 0;
  const inFlight: Array<{ workloadId: string; requestId: string }> = [];
  let inFlightHead = 0;
  const admitOne = (): void => {
    const workloadId = `w${Math.floor(rng() * workloads)}`;
    scheduler.admit(workloadId, `r${seq++}`, (1 + Math.floor(rng() * 5)) as Criticality, now);
  };
  const dispatchAll = (): void => {
    for (const d of scheduler.dispatch(now))
      inFlight.push({ workloadId: d.workloadId, requestId: d.requestId });
  };
  const completeOldest = (): void => {
    const r = inFlight[inFlightHead++];
    if (!r) throw new Error('bench: nothing in flight');
    scheduler.complete(r.workloadId, r.requestId, ENDED.completed, now);
    if (inFlightHead > 4096) {
      inFlight.splice(0, inFlightHead);
      inFlightHead = 0;
    }
  };
  // A standing backlog, so every dispatch chooses among (about) `workloads` ready heads.
  for (let i = 0; i < workloads * BACKLOG_PER_WORKLOAD + SCHEDULER_SLOTS; i++) admitOne();
  dispatchAll();

  // Steady state: one completion frees a slot, one arrival, one dispatch.
  const cycle = (): number => {
    for (let i = 0; i < CHUNK; i++) {
      now += 1;
      completeOldest();
      admitOne();
      dispatchAll();
    }
    return CHUNK;
  };
  const fullUs = medianOfRepeats(
    () => runFor(WARMUP_MS, cycle),
    () => {
      const r = runFor(REPEAT_MS, cycle);
      return (r.elapsedMs / r.iterations) * 1000;
    },
  );

  let admitDispatchMs = 0;
  const admitDispatchOnly = (): number => {
    for (let i = 0; i < CHUNK; i++) {
      now += 1;
      completeOldest();
      const t0 = performance.now();
      admitOne();
      dispatchAll();
      admitDispatchMs += performance.now() - t0 - overheadMs;
    }
    return CHUNK;
  };
  const admitDispatchUs = medianOfRepeats(
    () => runFor(WARMUP_MS, admitDispatchOnly),
    () => {
      admitDispatchMs = 0;
      const r = runFor(REPEAT_MS, admitDispatchOnly);
      return (Math.max(0, admitDispatchMs) / r.iterations) * 1000;
    },
  );
  const policy = requestFairness ? `${policyName} (request fairness)` : policyName;
  return { policy, workloads, admitDispatchUs, fullUs };
}

const fmt = (value: number, digits = 2): string => value.toFixed(digits);
const grouped = (value: number): string => Math.round(value).toLocaleString('en-US');

/** A markdown table: the first column (a name) left-aligned, the numbers right-aligned. */
function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? ':---' : '---:'))), ...rows.map(line)].join(
    '\n',
  );
}

/** Runs the core benchmarks and returns a markdown report. */
export function runCoreBench(): string {
  const overheadMs = timerOverheadMs();
  const decisions: DecisionRow[] = [];
  for (const policy of POLICY_NAMES)
    for (const ready of READY_SIZES) decisions.push(benchDecisions(policy, ready, overheadMs));
  const throughput: ThroughputRow[] = [];
  for (const policy of POLICY_NAMES) {
    for (const workloads of SCHEDULER_SIZES) throughput.push(benchScheduler(policy, workloads, overheadMs));
  }
  // Request fairness was workload-aware's default until token fairness (issue 11) replaced it: this row
  // compares the core with its earlier self on the same work, the row above includes the token tags.
  for (const workloads of SCHEDULER_SIZES)
    throughput.push(benchScheduler('workload-aware', workloads, overheadMs, false, true));
  // What the router's hosts also do: attach /metrics reports to their messages, applied by the coordinator.
  const withReports = SCHEDULER_SIZES.map((w) => benchScheduler('workload-aware', w, overheadMs, true));

  return [
    `## Core bench (Node ${process.version}, ${process.arch})`,
    '',
    `### Dispatch decision (Dispatcher, one backend; head ages 0–${MAX_AGE_MS / 1000} s)`,
    '',
    table(
      ['policy', 'ready workloads', 'next() (µs)', 'next + re-offer + release (µs)', 'decisions/s (cycle)'],
      decisions.map((r) => [
        r.policy,
        grouped(r.ready),
        fmt(r.nextUs),
        fmt(r.cycleUs),
        grouped(1e6 / r.cycleUs),
      ]),
    ),
    '',
    `### Whole core (LocalScheduler, ${SCHEDULER_SLOTS} slots, backlog ≈ ${BACKLOG_PER_WORKLOAD} requests per workload)`,
    '',
    table(
      [
        'policy',
        'workloads',
        'enqueue + dispatch (µs/req)',
        'enqueue + dispatch + complete (µs/req)',
        'requests/s (full cycle)',
      ],
      throughput.map((r) => [
        r.policy,
        grouped(r.workloads),
        fmt(r.admitDispatchUs),
        fmt(r.fullUs),
        grouped(1e6 / r.fullUs),
      ]),
    ),
    '',
    "The same for `workload-aware` with the /metrics reports the router's hosts attach to each message",
    '(the table above leaves them out, as the policy lab does: nothing there reads them):',
    '',
    table(
      ['workloads', 'requests/s (full cycle)'],
      withReports.map((r) => [grouped(r.workloads), grouped(1e6 / r.fullUs)]),
    ),
    '',
    `Per-call timings subtract the cost of a performance.now() pair (${fmt(overheadMs * 1e6, 0)} ns).`,
  ].join('\n');
}
