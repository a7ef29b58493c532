// The protocol between workload hosts and the coordinator host, under random interleavings: messages
// delivered out of order, lost before or after the receiver ran, hosts restarting from what they
// persisted, Workers crashing mid-request. Safety (no backend over-booked, every request completed exactly
// once, no slot leaked) must hold in every run; in runs without loss, the coordinator's view of every
// workload's head is current whenever the network is quiet. Each rule of the protocol is also broken on
// purpose below, and the property that must catch it is shown to fail.
//
// Renewals are delivered reliably here: a lease whose renewals are all lost for a whole TTL is presumed
// lost by design (README, "Leases"), which is the one way a running request can lose its slot.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSparse,
  ENDED,
  ended,
  IX,
  REASONS,
  type Criticality,
  type PolicyName,
  type WorkloadLimits,
} from '../../src/core/index.ts';
import {
  Cluster,
  LEASE_TTL_MS,
  MAX_QUEUE,
  REOFFER_MS,
  type Message,
  type Mutations,
} from './protocol-harness.ts';

const RELEASES: ReadonlySet<Message['kind']> = new Set(['release', 'release-reply']);

type Step =
  | { readonly k: 'admit'; readonly w: number; readonly c: Criticality }
  | { readonly k: 'deliver'; readonly i: number }
  | { readonly k: 'dropRequest'; readonly i: number }
  | { readonly k: 'dropReply'; readonly i: number }
  | { readonly k: 'complete'; readonly i: number; readonly ok: boolean }
  | { readonly k: 'abort'; readonly i: number }
  | { readonly k: 'crash'; readonly i: number }
  | { readonly k: 'failover'; readonly i: number }
  | { readonly k: 'tick'; readonly dt: number }
  | { readonly k: 'settle' }
  | { readonly k: 'restartWorkload'; readonly w: number }
  | { readonly k: 'restartCoordinator' };

interface Faults {
  /** true: any call or reply may be lost; 'releases': only releases and their replies. */
  readonly loss: boolean | 'releases';
  readonly restarts: boolean;
  readonly crashes: boolean;
}

function stepArb(f: Faults): fc.Arbitrary<Step> {
  const i = fc.nat();
  const arbs: Array<{ weight: number; arbitrary: fc.Arbitrary<Step> }> = [
    {
      weight: 6,
      arbitrary: fc.record({
        k: fc.constant('admit' as const),
        w: fc.integer({ min: 0, max: 2 }),
        c: fc.constantFrom<Criticality>(1, 3, 5),
      }),
    },
    { weight: 10, arbitrary: fc.record({ k: fc.constant('deliver' as const), i }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('complete' as const), i, ok: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('abort' as const), i }) },
    {
      weight: 2,
      arbitrary: fc.record({ k: fc.constant('tick' as const), dt: fc.integer({ min: 1, max: 3_000 }) }),
    },
    { weight: 1, arbitrary: fc.constant({ k: 'settle' as const }) },
  ];
  if (f.loss) {
    arbs.push({ weight: 1, arbitrary: fc.record({ k: fc.constant('dropRequest' as const), i }) });
    arbs.push({ weight: 1, arbitrary: fc.record({ k: fc.constant('dropReply' as const), i }) });
  }
  if (f.crashes) arbs.push({ weight: 1, arbitrary: fc.record({ k: fc.constant('crash' as const), i }) });
  arbs.push({ weight: 1, arbitrary: fc.record({ k: fc.constant('failover' as const), i }) });
  if (f.restarts) {
    arbs.push({
      weight: 1,
      arbitrary: fc.record({ k: fc.constant('restartWorkload' as const), w: fc.integer({ min: 0, max: 2 }) }),
    });
    arbs.push({ weight: 1, arbitrary: fc.constant({ k: 'restartCoordinator' as const }) });
  }
  return fc.oneof(...arbs);
}

const pick = <T>(xs: readonly T[], i: number): T | undefined => xs[i % Math.max(1, xs.length)];

/** Checked whenever the network is quiet in a run without loss: the coordinator knows every head. */
function expectHeadsCurrent(cluster: Cluster): void {
  let waiting = false;
  for (const id of cluster.workloadIds()) {
    // The head it offers: none while the workload is at its maxInFlight (then it is not really waiting).
    const head = cluster.workloadHost(id)?.offeredHead(cluster.now) ?? null;
    if (head) waiting = true;
    expect(cluster.coordinator.dispatcher.peekReady(id)?.head.requestId ?? null, `head of ${id}`).toBe(
      head?.requestId ?? null,
    );
  }
  // Every waiting head has been offered, so a free slot cannot sit next to a waiting request.
  if (waiting) expect(cluster.coordinator.dispatcher.freeSlots(cluster.now)).toBe(0);
}

function apply(cluster: Cluster, step: Step, o: RunOptions): void {
  const dropAt = (i: number): number => (o.faults.loss === 'releases' ? cluster.indexAmong(i, RELEASES) : i);
  switch (step.k) {
    case 'admit':
      cluster.admit(`w${step.w}`, step.c);
      break;
    case 'deliver':
      cluster.deliver(step.i);
      break;
    case 'dropRequest':
      if (dropAt(step.i) >= 0) cluster.dropRequest(dropAt(step.i));
      break;
    case 'dropReply':
      if (dropAt(step.i) >= 0) cluster.dropReply(dropAt(step.i));
      break;
    case 'complete': {
      const r = pick(cluster.ofState('running'), step.i);
      if (r) cluster.complete(r.id, step.ok ? ENDED.completed : ended('upstream_5xx'));
      break;
    }
    case 'abort': {
      const r = pick(cluster.ofState('waiting'), step.i);
      if (r) cluster.complete(r.id, ENDED.clientClosed);
      break;
    }
    case 'failover': {
      const r = pick(cluster.ofState('running'), step.i);
      if (r) cluster.failover(r.id);
      break;
    }
    case 'crash': {
      const r = pick(cluster.ofState('running'), step.i);
      if (r) cluster.crashWorker(r.id);
      break;
    }
    case 'tick':
      cluster.tick(step.dt);
      break;
    case 'settle':
      cluster.settle();
      if (o.checkHeads) expectHeadsCurrent(cluster);
      break;
    case 'restartWorkload':
      cluster.restartWorkload(`w${step.w}`);
      break;
    case 'restartCoordinator':
      cluster.restartCoordinator();
      break;
  }
}

/**
 * Completes what the live Workers run and lets time pass until every request has ended. With
 * `promptLeases`, leases must be gone within two re-offer beats of the last request ending, well before
 * any lease TTL: a slot must come back by release, not by expiry.
 */
function drain(cluster: Cluster, promptLeases: boolean): void {
  let quietBeats = 0;
  for (let guard = 0; ; guard++) {
    if (guard > 400) throw new Error('drain: requests still live after 400 beats');
    cluster.settle();
    for (const r of cluster.ofState('running')) cluster.complete(r.id);
    cluster.settle();
    const live = cluster
      .workloadIds()
      .some((id) => (cluster.workloadHost(id)?.state?.metrics(cluster.now).activeRequests ?? 0) > 0);
    const leases = cluster.coordinator.dispatcher.leaseCount;
    // Counts that no message has carried yet (a restored workload's queue_lost ends, say) ride on the
    // next alarm's re-offer: /metrics is eventually consistent, so the end waits for them too.
    const unreported = cluster
      .workloadIds()
      .some((id) => cluster.workloadHost(id)?.state?.tally.hasUnreported() ?? false);
    if (!live && cluster.ofState('waiting').length === 0) {
      if (leases === 0 && !unreported) return;
      if (promptLeases && ++quietBeats > 2) expect(leases, 'leases left after every request ended').toBe(0);
    }
    cluster.tick(REOFFER_MS);
  }
}

function expectSafeEnd(cluster: Cluster): void {
  expect(cluster.violations).toEqual([]);
  for (const r of cluster.requests.values()) {
    expect(['ended', 'crashed'], `state of ${r.id}`).toContain(r.state);
    expect(r.replies, `admit replies to ${r.id}`).toBeLessThanOrEqual(1);
    expect(r.recorded, `completions recorded for ${r.id}`).toBeLessThanOrEqual(1);
  }
  // Exactly once: every admitted request is counted once as new and once as completed.
  const admitted = new Map<string, number>();
  for (const r of cluster.requests.values())
    admitted.set(r.workloadId, (admitted.get(r.workloadId) ?? 0) + 1);
  for (const [id, n] of admitted) {
    const m = cluster.workloadHost(id)?.state?.metrics(cluster.now);
    expect(m, `registry of ${id}`).toBeDefined();
    expect(m?.totalRequests).toBe(n);
    expect(m?.completedCount).toBe(n);
    expect(m?.activeRequests).toBe(0);
    expect(Object.values(m?.outcomes ?? {}).reduce((a, b) => a + b, 0)).toBe(n);
  }
  // No slot leaked.
  expect(cluster.coordinator.dispatcher.leaseCount).toBe(0);
  for (const b of cluster.coordinator.dispatcher.backends(cluster.now)) expect(b.inFlight).toBe(0);
}

/**
 * /metrics: once everything has ended, the coordinator's summary of each workload equals its registry,
 * however the reports riding on the messages were lost, repeated, reordered or resent after a restart.
 */
function expectMetricsMatch(cluster: Cluster): void {
  const rows = cluster.coordinator.metrics.snapshot(cluster.now, 1_000).top;
  for (const id of cluster.workloadIds()) {
    const m = cluster.workloadHost(id)?.state?.metrics(cluster.now);
    if (!m) continue;
    const c = decodeSparse(rows.find((r) => r.workloadId === id)?.counters ?? []);
    expect(c[IX.requests], `requests of ${id} in the summary`).toBe(m.totalRequests);
    for (const reason of REASONS) expect(c[IX.ended(reason)], `${reason} of ${id}`).toBe(m.reasons[reason]);
    expect(c[IX.inFlight], `in flight of ${id}`).toBe(0);
  }
}

interface RunOptions {
  readonly limits?: WorkloadLimits;
  readonly policy: PolicyName;
  readonly faults: Faults;
  readonly mutations?: Mutations;
  readonly checkHeads: boolean;
  /** A restarted coordinator's asks out at once (its default, more than any run has workloads, if absent). */
  readonly recoveryAsksInFlight?: number;
}

function property(o: RunOptions) {
  return fc.property(
    fc.array(stepArb(o.faults), { minLength: 10, maxLength: 150, size: 'max' }),
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
    (steps, slots) => {
      const cluster = new Cluster(o.policy, slots, o.mutations, o.limits, o.recoveryAsksInFlight);
      for (const step of steps) {
        apply(cluster, step, o);
        expect(cluster.violations).toEqual([]);
        if (o.limits?.maxInFlight !== undefined) expectWithinMaxInFlight(cluster, o.limits.maxInFlight);
      }
      drain(cluster, o.faults.loss !== true && !o.faults.restarts && !o.faults.crashes);
      expectSafeEnd(cluster);
      // The coordinator keeps its metrics summary in memory (README, "Metrics"): a restart loses it.
      if (!steps.some((s) => s.k === 'restartCoordinator')) expectMetricsMatch(cluster);
    },
  );
}

/** No workload ever runs more than its maxInFlight requests at once (its Workers' view). */
function expectWithinMaxInFlight(cluster: Cluster, max: number): void {
  const running = new Map<string, number>();
  for (const r of cluster.ofState('running')) running.set(r.workloadId, (running.get(r.workloadId) ?? 0) + 1);
  for (const [id, n] of running) expect(n, `running requests of ${id}`).toBeLessThanOrEqual(max);
}

const SAFETY: Faults = { loss: true, restarts: true, crashes: true };
const QUIET: Faults = { loss: false, restarts: false, crashes: false };

describe.each<PolicyName>(['workload-aware', 'fcfs'])(
  'protocol under random interleavings (%s)',
  (policy) => {
    it('with loss, restarts and crashed Workers: never over-books, completes each request once, leaks nothing', () => {
      fc.assert(property({ policy, faults: SAFETY, checkHeads: false }), { seed: 7, numRuns: 300 });
    });

    it('without loss: whenever the network is quiet, the coordinator holds every workload’s latest head', () => {
      fc.assert(property({ policy, faults: { ...QUIET, crashes: true }, checkHeads: true }), {
        seed: 11,
        numRuns: 300,
      });
    });
  },
);

// A restarted coordinator asks its workloads RECOVERY_ASKS_IN_FLIGHT at a time; every run above has fewer
// workloads than that, so all are asked at once. Asked one at a time, workloads renew before their turn,
// answers arrive one by one, and the same guarantees must hold.
describe('protocol under random interleavings, a restarted coordinator asking one workload at a time', () => {
  it.each<PolicyName>(['fcfs', 'workload-aware'])(
    '%s, with loss, restarts and crashed Workers: never over-books, completes each request once, leaks nothing',
    (policy) => {
      fc.assert(property({ policy, faults: SAFETY, checkHeads: false, recoveryAsksInFlight: 1 }), {
        seed: 19,
        numRuns: 200,
      });
    },
  );
});

// Found by random runs with seeds the suite did not use: a grant the coordinator issued before a
// failover, delivered after the coordinator acknowledged the failed lease (calls are reordered), sent the
// request back to the backend it had just failed on. The acknowledgement now says from which grant on the
// coordinator knew (Informed). Replayed here as it was found, and with a seed that found it.
describe('failover avoidance when a grant from before the failure arrives after the acknowledgement', () => {
  it('the replayed run: the stale grant goes back', () => {
    const steps: Step[] = [
      { k: 'admit', w: 0, c: 1 },
      { k: 'admit', w: 0, c: 1 },
      { k: 'admit', w: 0, c: 1 },
      { k: 'settle' },
      { k: 'complete', i: 0, ok: false },
      { k: 'deliver', i: 0 },
      { k: 'failover', i: 0 },
      { k: 'tick', dt: 1000 },
      { k: 'admit', w: 1, c: 1 },
      { k: 'deliver', i: 333157818 },
      { k: 'deliver', i: 411205347 },
      { k: 'admit', w: 0, c: 1 },
      { k: 'tick', dt: 1 },
      { k: 'deliver', i: 0 },
      { k: 'settle' },
    ];
    const o: RunOptions = { policy: 'fcfs', faults: SAFETY, checkHeads: false };
    const cluster = new Cluster(o.policy, [2]);
    for (const step of steps) apply(cluster, step, o);
    expect(cluster.violations).toEqual([]);
    drain(cluster, false);
    expectSafeEnd(cluster);
  });

  it.each([303])('random runs with seed %d', (seed) => {
    fc.assert(property({ policy: 'fcfs', faults: SAFETY, checkHeads: false }), { seed, numRuns: 400 });
  });

  // Also found by new seeds: a failed lease queued to ride on the pool's next offer, after the offer
  // before it failed, waits for the alarm (up to REOFFER_INTERVAL_MS). Until the coordinator has it, it
  // may grant the failed backend to the same head again at once, and the workload refuses every time:
  // a tight loop of grants and refusals. A refusal now sends that offer.
  it('a refusal sends the offer its failed lease waits for, instead of refusing grant after grant', () => {
    const steps: Step[] = [
      { k: 'admit', w: 0, c: 1 },
      { k: 'admit', w: 0, c: 1 },
      { k: 'tick', dt: 250 },
      { k: 'admit', w: 0, c: 1 },
      { k: 'admit', w: 2, c: 1 },
      { k: 'admit', w: 1, c: 1 },
      { k: 'deliver', i: 0 },
      { k: 'settle' },
      { k: 'tick', dt: 1750 },
      { k: 'admit', w: 1, c: 1 },
      { k: 'complete', i: 412248842, ok: false },
      { k: 'deliver', i: 8 },
      { k: 'failover', i: 315447061 },
      { k: 'complete', i: 0, ok: false },
      { k: 'dropReply', i: 0 },
    ];
    const o: RunOptions = { policy: 'workload-aware', faults: SAFETY, checkHeads: false };
    const cluster = new Cluster(o.policy, [2, 2]);
    for (const step of steps) apply(cluster, step, o);
    // Without the fix this never ends (settle gives up after 100,000 messages).
    cluster.settle();
    expect(cluster.violations).toEqual([]);
    drain(cluster, false);
    expectSafeEnd(cluster);
  });
});

// Found by random runs with new seeds: a restored workload host waited a whole renewal interval from its
// start before renewing, although the coordinator's expiry had kept running through the restart. Two
// restarts in a row, before the first renewal of a lease granted late in its life, pushed the renewal
// to the expiry itself: the coordinator freed the slot and granted it again while the request still ran.
// A restored host now renews at once. Replayed as it was found (one backend with one slot).
describe('renewal after a workload restart', () => {
  it('a workload restarted twice before its first renewal still renews before the lease expires', () => {
    const steps: Step[] = [
      { k: 'admit', w: 0, c: 1 },
      { k: 'deliver', i: 0 },
      { k: 'tick', dt: 873 },
      { k: 'tick', dt: 2255 },
      { k: 'deliver', i: 0 },
      { k: 'tick', dt: 1893 },
      { k: 'restartWorkload', w: 0 },
      { k: 'tick', dt: 619 },
      { k: 'tick', dt: 358 },
      { k: 'restartWorkload', w: 0 },
      { k: 'tick', dt: 2000 },
      { k: 'settle' },
      { k: 'admit', w: 0, c: 1 },
      { k: 'deliver', i: 0 },
      { k: 'restartWorkload', w: 1 },
      { k: 'deliver', i: 0 },
    ];
    const o: RunOptions = { policy: 'fcfs', faults: SAFETY, checkHeads: false };
    const cluster = new Cluster(o.policy, [1]);
    for (const step of steps) {
      apply(cluster, step, o);
      expect(cluster.violations).toEqual([]);
    }
    drain(cluster, false);
    expectSafeEnd(cluster);
  });
});

// maxInFlight holds a workload's head back from its coordinator while it is at the limit: the same
// guarantees must hold (no over-booking, exactly-once, no leaked slot), the limit is never exceeded,
// and a held head is offered again as soon as one of the workload's requests ends (heads stay current).
describe('protocol under random interleavings with maxInFlight 1 per workload', () => {
  it('with loss, restarts and crashed Workers: never over the limit, never over-books, leaks nothing', () => {
    fc.assert(
      property({ policy: 'workload-aware', faults: SAFETY, checkHeads: false, limits: { maxInFlight: 1 } }),
      {
        seed: 13,
        numRuns: 200,
      },
    );
  });

  it('without loss: a held head is offered again as soon as a slot of its workload is free', () => {
    fc.assert(
      property({
        policy: 'workload-aware',
        faults: { ...QUIET, crashes: true },
        checkHeads: true,
        limits: { maxInFlight: 1 },
      }),
      { seed: 17, numRuns: 200 },
    );
  });
});

/**
 * Each protocol rule, broken on purpose, and the property that catches it. A rule whose breakage no
 * property notices would be a rule the tests do not guard.
 */
// Whole-run properties take seconds each; the budget is generous so a loaded CI machine does not time out.
const BUDGET_MS = 120_000;

describe('each broken rule is caught', { timeout: BUDGET_MS }, () => {
  const fails = (o: RunOptions, numRuns = 300): void => {
    const run = fc.check(property(o), { seed: 3, numRuns });
    expect(run.failed, 'the broken rule went unnoticed').toBe(true);
  };

  it('stale grant replies: a reply’s head must not replace a newer offer', () => {
    fails({
      policy: 'workload-aware',
      faults: QUIET,
      checkHeads: true,
      mutations: { ignoreStaleReplyRule: true },
    });
  });

  it('release retries: a release that failed must be retried, or its slot leaks', () => {
    const faults = { loss: 'releases', restarts: false, crashes: false } as const;
    // Unbroken, the same runs pass: lost releases come back by retry, long before any lease expires.
    fc.assert(property({ policy: 'fcfs', faults, checkHeads: false }), { seed: 3, numRuns: 300 });
    fails({ policy: 'fcfs', faults, checkHeads: false, mutations: { noReleaseRetry: true } });
  });

  it('restart: a coordinator grants nothing until the workloads have declared their leases, or over-books', () => {
    // The coordinator keeps leases in memory only; the workloads keep theirs durably. A runs (past its
    // lease TTL, on renewals), B waits, the coordinator restarts: the slot looks free until w0 declares A.
    const run = (mutations: Mutations): Cluster => {
      const cluster = new Cluster('fcfs', [1], mutations);
      const a = cluster.admit('w0', 3);
      cluster.settle();
      cluster.tick(LEASE_TTL_MS * 2);
      cluster.admit('w1', 3);
      cluster.settle();
      expect(cluster.requests.get(a)?.state).toBe('running');
      cluster.restartCoordinator();
      // A new request reaches the restarted coordinator before w0 has said what it holds.
      cluster.admit('w1', 3);
      cluster.settle();
      cluster.tick(REOFFER_MS * 2);
      cluster.settle();
      return cluster;
    };
    const safe = run({});
    expect(safe.violations).toEqual([]);
    expect(safe.coordinator.stats(safe.now)).toMatchObject({ leases: 1, recovering: 0 });
    expect(run({ grantBeforeDeclared: true }).violations).not.toEqual([]);
  });

  it('restart: random runs with restarts find both recovery rules broken', () => {
    const faults = { loss: true, restarts: true, crashes: false } as const;
    fails({ policy: 'fcfs', faults, checkHeads: false, mutations: { grantBeforeDeclared: true } });
    fails({ policy: 'fcfs', faults, checkHeads: false, mutations: { ignoreGrantFence: true } });
  });

  it('restart: a grant sent before it and delivered after the workload declared is refused, or over-books', () => {
    const run = (mutations: Mutations): { cluster: Cluster; a: string; b: string } => {
      const cluster = new Cluster('fcfs', [1], mutations);
      const only = (kinds: readonly Message['kind'][]): void => {
        const set = new Set(kinds);
        for (let i = cluster.indexAmong(0, set); i >= 0; i = cluster.indexAmong(0, set)) cluster.deliver(i);
      };
      const x = cluster.admit('w1', 3);
      cluster.settle();
      const a = cluster.admit('w0', 3);
      cluster.settle();
      cluster.complete(x);
      // The release frees the slot and the coordinator grants it to w0's A; then it restarts, with that
      // grant still on its way.
      only(['release']);
      expect(cluster.pending.some((m) => m.kind === 'grant')).toBe(true);
      cluster.restartCoordinator();
      only(['ask-leases', 'ask-leases-reply', 'release-reply']);
      // Recovered (nobody held anything): the slot goes to the next offer, B's.
      const b = cluster.admit('w1', 3);
      only(['offer', 'offer-reply']);
      cluster.settle(); // the old grant lands
      return { cluster, a, b };
    };
    const safe = run({});
    expect(safe.cluster.requests.get(safe.b)?.state).toBe('running');
    expect(safe.cluster.requests.get(safe.a)?.state).toBe('waiting');
    expect(safe.cluster.violations).toEqual([]);
    expect(run({ ignoreGrantFence: true }).cluster.violations).not.toEqual([]);
  });

  it('restart: a workload that cannot be reached holds grants back for one lease TTL at most', () => {
    const cluster = new Cluster('fcfs', [1]);
    cluster.admit('w0', 3);
    cluster.settle();
    cluster.restartCoordinator();
    // The question to w0 is lost; w0 keeps renewing, which declares its lease too.
    cluster.dropRequest(cluster.indexAmong(0, new Set(['ask-leases'])));
    expect(cluster.coordinator.recovering).toBe(true);
    expect(cluster.coordinator.metricsSnapshot(cluster.now, 5).recovering).toBe(1);
    cluster.tick(LEASE_TTL_MS / 2);
    cluster.settle();
    expect(cluster.coordinator.recovering).toBe(false);
    expect(cluster.coordinator.stats(cluster.now).leases).toBe(1);
    // A workload that is never heard from: the deadline ends the wait.
    const quiet = new Cluster('fcfs', [1]);
    const q = quiet.admit('w0', 3);
    quiet.settle();
    quiet.complete(q);
    quiet.settle();
    quiet.restartCoordinator();
    quiet.dropRequest(quiet.indexAmong(0, new Set(['ask-leases'])));
    quiet.tick(LEASE_TTL_MS - 1_000);
    expect(quiet.coordinator.recovering).toBe(true);
    quiet.tick(2_000);
    expect(quiet.coordinator.recovering).toBe(false);
    const next = quiet.admit('w1', 3);
    quiet.settle();
    expect(quiet.requests.get(next)?.state).toBe('running');
  });

  it('lost grant replies: the lease must be kept, or the backend is over-booked', () => {
    fails({
      policy: 'fcfs',
      faults: { loss: true, restarts: false, crashes: false },
      checkHeads: false,
      mutations: { releaseOnGrantFailure: true },
    });
  });
});

describe('held admissions', () => {
  it('a burst into free slots is admitted whole: only requests really waiting count against the queue', () => {
    // 3 free slots, a queue of MAX_QUEUE = 3: six requests arrive before any offer is answered.
    const cluster = new Cluster('workload-aware', [3]);
    const burst = Array.from({ length: 2 * MAX_QUEUE }, () => cluster.admit('w0', 3));
    cluster.settle();
    const states = burst.map((id) => cluster.requests.get(id)?.state);
    expect(states.filter((s) => s === 'running')).toHaveLength(3);
    expect(states.filter((s) => s === 'waiting')).toHaveLength(3);
    // Now the queue really is full: the next one is turned away at once.
    const late = cluster.admit('w0', 3);
    expect(cluster.requests.get(late)?.end).toEqual(ENDED.queueFull);
  });

  it('held requests beyond what the grants made room for are rejected once the pool is full', () => {
    const cluster = new Cluster('workload-aware', [1]);
    const burst = Array.from({ length: MAX_QUEUE + 3 }, () => cluster.admit('w0', 3));
    cluster.settle();
    const ends = burst.map((id) => cluster.requests.get(id)?.end?.reason ?? cluster.requests.get(id)?.state);
    // One slot runs, MAX_QUEUE wait, and the two newest are refused.
    expect(ends).toEqual(['running', 'waiting', 'waiting', 'waiting', 'queue_full', 'queue_full']);
  });
});

describe('crash recovery', () => {
  it('a whole router killed mid-load and restarted on its state gets every slot back within one lease TTL', () => {
    // Every slot taken, more waiting; then the process holding them dies: Workers gone, both kinds of
    // host restarted from storage. Nobody will ever complete the running requests.
    const cluster = new Cluster('workload-aware', [2, 2]);
    const running = Array.from({ length: 4 }, (_, i) => cluster.admit(`w${i % 2}`, 3));
    cluster.settle();
    cluster.tick(LEASE_TTL_MS / 2);
    for (const id of running) cluster.crashWorker(id);
    const crashedAt = cluster.now;
    cluster.restartCoordinator();
    cluster.restartWorkload('w0');
    cluster.restartWorkload('w1');
    // Clients retry after the restart.
    const retried = Array.from({ length: 4 }, (_, i) => cluster.admit(`w${i % 2}`, 3));
    cluster.settle();
    expect(retried.map((id) => cluster.requests.get(id)?.state)).toEqual(Array(4).fill('waiting'));
    // The crashed requests' last heartbeat was at crashedAt: their slots stay taken (a restart alone
    // cannot tell a crash from a slow stream) until one lease TTL later, then come back.
    const waitUntil = (t: number): void => {
      while (cluster.now < t) {
        cluster.tick(Math.min(500, t - cluster.now));
        cluster.settle();
      }
    };
    waitUntil(crashedAt + LEASE_TTL_MS / 2);
    expect(retried.map((id) => cluster.requests.get(id)?.state)).toEqual(Array(4).fill('waiting'));
    waitUntil(crashedAt + LEASE_TTL_MS * 1.25);
    expect(retried.map((id) => cluster.requests.get(id)?.state)).toEqual(Array(4).fill('running'));
    expect(cluster.violations).toEqual([]);
    for (const id of ['w0', 'w1']) {
      expect(cluster.workloadHost(id)?.state?.metrics(cluster.now).outcomes.lost).toBe(2);
    }
  });
});

// Exploration: the runs above use fixed seeds so the suite is repeatable, and a fixed seed never finds
// anything new. New seeds have found real bugs (the two failover fixes above, the renewal after a
// restart), so `npm run test:explore` runs every property with fresh ones: PROTOCOL_EXPLORE_SEEDS of
// them (20 by default) from PROTOCOL_EXPLORE_FROM (random if unset). A failure names its seed and
// variant, and fast-check prints the counterexample to replay. Off in `npm test`.
function exploreSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number ≥ 0, got "${raw}"`);
  return value;
}
const EXPLORE_SEEDS = exploreSetting('PROTOCOL_EXPLORE_SEEDS', 0);
const EXPLORE_FROM = exploreSetting('PROTOCOL_EXPLORE_FROM', Math.floor(Math.random() * 1e9));
const EXPLORED: ReadonlyArray<readonly [string, RunOptions]> = [
  ['fcfs, safety', { policy: 'fcfs', faults: SAFETY, checkHeads: false }],
  ['workload-aware, safety', { policy: 'workload-aware', faults: SAFETY, checkHeads: false }],
  ['seed, safety', { policy: 'seed', faults: SAFETY, checkHeads: false }],
  [
    'workload-aware, one recovery ask at a time',
    { policy: 'workload-aware', faults: SAFETY, checkHeads: false, recoveryAsksInFlight: 1 },
  ],
  [
    'workload-aware, maxInFlight 1',
    { policy: 'workload-aware', faults: SAFETY, checkHeads: false, limits: { maxInFlight: 1 } },
  ],
  [
    'workload-aware, heads current without loss',
    { policy: 'workload-aware', faults: { ...QUIET, crashes: true }, checkHeads: true },
  ],
];

// A seed that fails spends its time shrinking: seconds, more on a busy machine.
describe.runIf(EXPLORE_SEEDS > 0)(
  'exploration with fresh seeds (npm run test:explore)',
  { timeout: BUDGET_MS },
  () => {
    const seeds = Array.from({ length: EXPLORE_SEEDS }, (_, i) => EXPLORE_FROM + i);
    describe.each(EXPLORED)('%s', (_name, o) => {
      it.each(seeds)('seed %d', (seed) => {
        fc.assert(property(o), { seed, numRuns: 300 });
      });
    });
  },
);
