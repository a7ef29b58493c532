// Runs one scenario under one policy on a virtual clock, driving the real core (LocalScheduler) the way
// the Durable Objects do: admit on arrival, dispatch after every event, sweep when a deadline is due,
// complete when a modelled backend finishes. Schedules nothing itself; it only records what happened.

import type { Outcome } from '../src/core/outcome.ts';
import type { LocalScheduler } from '../src/core/local-scheduler.ts';
import { serviceTimeMs, type BackendModel } from './backend-model.ts';
import { EventQueue, type TimedEvent } from './event-queue.ts';
import { admitLabRequest, completeLabRequest, createLabScheduler } from './lab-scheduler.ts';
import type { LabPolicyName } from './policies.ts';
import { generateRequests, type SimRequest } from './requests.ts';
import { validateScenario, type Scenario } from './scenario.ts';

export interface RequestRecord {
  readonly request: SimRequest;
  /** Null only if the run ended with the request still live, which simulate() treats as a bug. */
  readonly outcome: Outcome | null;
  readonly dispatchedAtMs: number | null;
  /** When the request left the system: completed, evicted, rejected. */
  readonly endedAtMs: number | null;
  readonly backend: string | null;
  /** 1-based rank among successful completions of the run. */
  readonly completionPosition: number | null;
}

/** Wall-clock cost of the core's decisions. Varies run to run: never part of the deterministic output. */
export interface DecisionCost {
  readonly dispatchCalls: number;
  readonly grants: number;
  readonly wallMs: number;
}

export interface SimResult {
  readonly scenario: string;
  readonly policy: LabPolicyName;
  readonly records: readonly RequestRecord[];
  /** Virtual time of the last event. */
  readonly endMs: number;
  readonly sweeps: number;
  /** Most workloads waiting for a slot at one decision: the size the dispatcher's heaps reached. */
  readonly peakReadyWorkloads: number;
  readonly decisionCost: DecisionCost;
}

interface Arrival extends TimedEvent {
  readonly kind: 'arrival';
  readonly request: SimRequest;
}

interface Completion extends TimedEvent {
  readonly kind: 'completion';
  readonly request: SimRequest;
}

// A slot freed at t is free for a request arriving at t.
const COMPLETION_RANK = 0;
const ARRIVAL_RANK = 1;

interface MutableRecord {
  request: SimRequest;
  outcome: Outcome | null;
  dispatchedAtMs: number | null;
  endedAtMs: number | null;
  backend: string | null;
  completionPosition: number | null;
}

export function simulate(
  scenario: Scenario,
  policyName: LabPolicyName,
  requests?: readonly SimRequest[],
): SimResult {
  validateScenario(scenario);
  const scheduler = createLabScheduler(scenario, policyName);
  const models = new Map<string, BackendModel>(scenario.backends.map((b) => [b.name, b]));
  const agenda = new EventQueue<Arrival | Completion>();
  const records = new Map<string, MutableRecord>();
  for (const request of requests ?? generateRequests(scenario)) {
    records.set(request.id, {
      request,
      outcome: null,
      dispatchedAtMs: null,
      endedAtMs: null,
      backend: null,
      completionPosition: null,
    });
    agenda.push({ kind: 'arrival', atMs: request.arriveAtMs, rank: ARRIVAL_RANK, request });
  }
  const recordOf = (requestId: string): MutableRecord => {
    const r = records.get(requestId);
    if (!r) throw new Error(`simulate: the core reported unknown request ${requestId}`);
    return r;
  };
  const end = (requestId: string, outcome: Outcome, now: number): void => {
    const r = recordOf(requestId);
    r.outcome = outcome;
    r.endedAtMs = now;
  };

  // Workloads with queued requests: the only ones whose deadlines can fire (see nextWakeMs).
  const waiting = new Set<string>();
  const forgetIfDrained = (workloadId: string): void => {
    if (scheduler.workload(workloadId).queueSize === 0) waiting.delete(workloadId);
  };

  let now = 0;
  let sweeps = 0;
  let lastSweepMs = -Infinity;
  let completions = 0;
  let peakReadyWorkloads = 0;
  const cost = { dispatchCalls: 0, grants: 0, wallMs: 0 };

  for (;;) {
    const nextEventMs = agenda.peekTime();
    const wakeMs = nextWakeMs(scheduler, waiting, now);
    if (nextEventMs === null && wakeMs === null) break;
    if (wakeMs !== null && (nextEventMs === null || wakeMs <= nextEventMs)) {
      // A deadline must move past a sweep at its instant, or the loop would never advance.
      if (wakeMs < now || wakeMs === lastSweepMs) {
        throw new Error(
          `simulate: the core asked to wake at ${wakeMs} ms after sweeping at ${lastSweepMs} ms`,
        );
      }
      now = wakeMs;
      lastSweepMs = now;
      sweeps++;
      const swept = scheduler.sweep(now);
      for (const id of swept.evicted) end(id, 'evicted', now);
      for (const id of swept.lost) end(id, 'lost', now);
      for (const id of [...waiting]) forgetIfDrained(id);
    } else {
      const event = agenda.pop() as Arrival | Completion;
      now = event.atMs;
      const { request } = event;
      if (event.kind === 'arrival') {
        const admitted = admitLabRequest(scheduler, request, now);
        if (admitted.kind === 'rejected') end(request.id, admitted.end.outcome, now);
        else waiting.add(request.workloadId);
      } else if (completeLabRequest(scheduler, request, policyName, now)) {
        end(request.id, 'success', now);
        recordOf(request.id).completionPosition = ++completions;
      }
    }

    peakReadyWorkloads = Math.max(peakReadyWorkloads, scheduler.dispatcher.readyCount);
    const started = performance.now();
    const dispatched = scheduler.dispatch(now);
    cost.wallMs += performance.now() - started;
    cost.dispatchCalls++;
    cost.grants += dispatched.length;
    for (const d of dispatched) {
      const r = recordOf(d.requestId);
      const model = models.get(d.backend);
      if (!model) throw new Error(`simulate: the core chose unknown backend ${d.backend}`);
      r.dispatchedAtMs = now;
      r.backend = d.backend;
      agenda.push({
        kind: 'completion',
        atMs: now + serviceTimeMs(model, r.request.tokens),
        rank: COMPLETION_RANK,
        request: r.request,
      });
      forgetIfDrained(d.workloadId);
    }
  }

  const out = [...records.values()];
  const live = out.find((r) => r.outcome === null);
  if (live) {
    throw new Error(`simulate: ${scenario.name}/${policyName} ended with ${live.request.id} still live`);
  }
  return {
    scenario: scenario.name,
    policy: policyName,
    records: out,
    endMs: now,
    sweeps,
    peakReadyWorkloads,
    decisionCost: cost,
  };
}

/**
 * When a host would next wake on its own: the dispatcher's deadlines (lease expiry, backend cooldown) and
 * the deadlines (TTL, aging head change) of workloads that have something queued. Workloads with nothing
 * queued are skipped: their only other deadline is idle eviction, which LocalScheduler never performs, so
 * LocalScheduler.nextDeadline() would keep returning that past instant and hide every real deadline.
 * In-flight requests' own expiries coincide with their leases (same TTL, same start).
 */
function nextWakeMs(scheduler: LocalScheduler, waiting: ReadonlySet<string>, now: number): number | null {
  let next = scheduler.dispatcher.nextDeadline(now) ?? Infinity;
  for (const id of waiting) next = Math.min(next, scheduler.workload(id).nextDeadline(now) ?? Infinity);
  return Number.isFinite(next) ? next : null;
}
