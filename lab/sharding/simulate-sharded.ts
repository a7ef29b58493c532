// One scenario on a sharded pool, on a virtual clock: workloads hashed over K shard coordinators (each the
// real core LocalScheduler: workload hosts, CoordinatorHost, Dispatcher), a root that owns the slots and
// lends them in batches (root-lender.ts), and every root↔shard message delivered after a modelled RPC
// latency. Records each dispatch and whether a better head waited on another shard at that moment.
// Does not touch the lab's single-coordinator simulate(); it only reuses its pieces.

import type { ReadyHead } from '../../src/core/dispatcher.ts';
import type { LocalScheduler } from '../../src/core/local-scheduler.ts';
import type { Outcome } from '../../src/core/outcome.ts';
import { isOverdue, type Policy } from '../../src/core/policy/types.ts';
import { hashString } from '../../sim/prng.ts';
import { serviceTimeMs, type BackendModel } from '../backend-model.ts';
import { EventQueue, type TimedEvent } from '../event-queue.ts';
import { admitLabRequest, completeLabRequest, createLabScheduler } from '../lab-scheduler.ts';
import { createLabPolicy, type LabPolicyName } from '../policies.ts';
import { generateRequests, type SimRequest } from '../requests.ts';
import { validateScenario, type Scenario } from '../scenario.ts';
import { bestHead, compareHeads, observeGrants, readyHeadOf, type ReadyHeadParts } from './rank.ts';
import { REPORT_TOP, RootLender, type Loan, type ShardReport } from './root-lender.ts';
import {
  validateShardingConfig,
  type RootCalls,
  type ShardedResult,
  type ShardingConfig,
} from './sharded-run.ts';

/** The policy every shard and the root run (with its defaults): the study compares it with the lab's. */
export const SHARDED_POLICY: LabPolicyName = 'workload-aware';
/** Slots a shard has not been lent are held by reserve leases that never expire (and wake nobody). */
const RESERVE_EXPIRES_MS = 1e15;
const ROOT = '#root';

interface Arrival extends TimedEvent {
  readonly kind: 'arrival';
  readonly request: SimRequest;
}
interface Completion extends TimedEvent {
  readonly kind: 'completion';
  readonly request: SimRequest;
}
interface Message extends TimedEvent {
  readonly kind: 'message';
  readonly deliver: (now: number) => void;
}
type SimEvent = Arrival | Completion | Message;

// Messages due at an instant are delivered before that instant's completions and arrivals, so with zero
// latency a borrow is answered before the next event, as a direct call would be.
const MESSAGE_RANK = -1;
const COMPLETION_RANK = 0;
const ARRIVAL_RANK = 1;

interface MutableRecord {
  request: SimRequest;
  shard: number;
  outcome: Outcome | null;
  dispatchedAtMs: number | null;
  endedAtMs: number | null;
  backend: string | null;
  inverted: boolean;
  inversionGapMs: number;
  skippedOverdue: boolean;
  skippedRequestId: string | null;
}

interface Shard {
  readonly index: number;
  readonly scheduler: LocalScheduler;
  readonly scored: Map<string, ReadyHeadParts>;
  /** Reserve lease IDs per backend: slots of this shard's view that the root has not lent it. */
  readonly reserves: Map<string, string[]>;
  /** Workloads with something queued (their deadlines can fire). */
  readonly waiting: Set<string>;
  /** The head reported with the borrow in flight, or null when none is. */
  borrowedFor: ReadyHead | null;
  /** The best head waiting at the root on another shard, as last heard. */
  pressure: ReadyHead | null;
  /** The root's waterline (a rankKey), as last heard. */
  waterline: number;
  /** Requests finished here since the last check-in. */
  completions: number;
  checkInArmed: boolean;
}

export function shardOf(workloadId: string, shards: number): number {
  return hashString(workloadId) % shards;
}

export function simulateSharded(
  scenario: Scenario,
  config: ShardingConfig,
  requests?: readonly SimRequest[],
): ShardedResult {
  validateScenario(scenario);
  validateShardingConfig(config);

  const policy: Policy = createLabPolicy(SHARDED_POLICY);
  const models = new Map<string, BackendModel>(scenario.backends.map((b) => [b.name, b]));
  const root = new RootLender(policy, scenario.backends);
  const agenda = new EventQueue<SimEvent>();
  const records = new Map<string, MutableRecord>();
  const order: Array<readonly [string, number]> = [];
  const rootCalls: RootCalls = { borrow: 0, giveBack: 0, checkIn: 0, loan: 0 };
  let reserveSeq = 0;

  const shards: Shard[] = Array.from({ length: config.shards }, (_, index) => {
    const observed = observeGrants(policy);
    const scheduler = createLabScheduler(scenario, SHARDED_POLICY, observed.policy);
    const shard: Shard = {
      index,
      scheduler,
      scored: observed.scored,
      reserves: new Map(),
      waiting: new Set(),
      borrowedFor: null,
      pressure: null,
      waterline: Infinity,
      completions: 0,
      checkInArmed: false,
    };
    // Every slot starts at the root.
    for (const b of scenario.backends) for (let i = 0; i < b.slots; i++) reserve(shard, b.name, 0);
    return shard;
  });

  for (const request of requests ?? generateRequests(scenario)) {
    records.set(request.id, {
      request,
      shard: shardOf(request.workloadId, config.shards),
      outcome: null,
      dispatchedAtMs: null,
      endedAtMs: null,
      backend: null,
      inverted: false,
      inversionGapMs: 0,
      skippedOverdue: false,
      skippedRequestId: null,
    });
    agenda.push({ kind: 'arrival', atMs: request.arriveAtMs, rank: ARRIVAL_RANK, request });
  }

  function recordOf(requestId: string): MutableRecord {
    const r = records.get(requestId);
    if (!r) throw new Error(`simulateSharded: the core reported unknown request ${requestId}`);
    return r;
  }

  function end(requestId: string, outcome: Outcome, now: number): void {
    const r = recordOf(requestId);
    r.outcome = outcome;
    r.endedAtMs = now;
  }

  function send(now: number, deliver: (at: number) => void): void {
    agenda.push({ kind: 'message', atMs: now + config.rpcMs, rank: MESSAGE_RANK, deliver });
  }

  /** Takes a free slot of `backend` out of the shard's hands (restore counts it even past the maximum). */
  function reserve(shard: Shard, backend: string, now: number): void {
    const leaseId = `reserve-${shard.index}-${reserveSeq++}`;
    shard.scheduler.dispatcher.restoreLeases([
      { leaseId, workloadId: ROOT, requestId: ROOT, backend, grantedAt: now, expiresAt: RESERVE_EXPIRES_MS },
    ]);
    const list = shard.reserves.get(backend) ?? [];
    list.push(leaseId);
    shard.reserves.set(backend, list);
  }

  /** A lent slot arrives: its reserve lease is released, and the shard's coordinator grants it. */
  function unreserve(shard: Shard, backend: string, now: number): void {
    const leaseId = shard.reserves.get(backend)?.pop();
    if (leaseId === undefined)
      throw new Error(`shard ${shard.index}: lent a slot of ${backend} it already has`);
    collect(shard, now);
    shard.scheduler.coordinator.release(leaseId, null, now);
  }

  function readyHeads(shard: Shard): ReadyHead[] {
    return shard.scheduler.dispatcher.readyHeads();
  }

  /** Records the shard's new dispatches, judging each against the heads waiting on other shards. */
  function collect(shard: Shard, now: number): void {
    const dispatched = shard.scheduler.dispatch(now);
    if (dispatched.length === 0) return;
    let elsewhere: ReadyHead | null | undefined;
    for (const d of dispatched) {
      const r = recordOf(d.requestId);
      const model = models.get(d.backend);
      if (!model) throw new Error(`simulateSharded: the core chose unknown backend ${d.backend}`);
      if (r.dispatchedAtMs !== null) throw new Error(`simulateSharded: ${d.requestId} dispatched twice`);
      r.dispatchedAtMs = now;
      r.backend = d.backend;
      order.push([d.requestId, now]);
      const parts = shard.scored.get(d.requestId);
      shard.scored.delete(d.requestId);
      if (shards.length > 1 && parts) {
        elsewhere ??= bestHead(policy, shards.filter((s) => s !== shard).flatMap(readyHeads), now);
        const granted = readyHeadOf(policy, d.workloadId, parts.head, parts.signals);
        if (elsewhere !== null && compareHeads(policy, elsewhere, granted, now) > 0) {
          r.inverted = true;
          r.inversionGapMs =
            policy.score(elsewhere.head, elsewhere.signals, now) -
            policy.score(parts.head, parts.signals, now);
          r.skippedOverdue = isOverdue(policy, elsewhere.head, now) && !isOverdue(policy, parts.head, now);
          r.skippedRequestId = elsewhere.head.requestId;
        }
      }
      agenda.push({
        kind: 'completion',
        atMs: now + serviceTimeMs(model, r.request.tokens),
        rank: COMPLETION_RANK,
        request: r.request,
      });
      if (shard.scheduler.workload(d.workloadId).queueSize === 0) shard.waiting.delete(d.workloadId);
    }
  }

  /** Each loan carries the news of the best head waiting at the root on another shard. */
  function deliverLoans(loans: readonly Loan[], now: number): void {
    for (const loan of loans) {
      rootCalls.loan++;
      const shard = shards[loan.shard] as Shard;
      const pressure = root.pressureFor(loan.shard, now);
      const waterline = root.waterline();
      send(now, (at) => {
        shard.borrowedFor = null;
        hearPressure(shard, pressure, waterline);
        // The root chose this shard by the head it reported when it asked; that head may have been served
        // here since. A slot its heads should not have goes straight back (the rule of completeOn).
        const bounced: string[] = [];
        for (const backend of loan.slots) {
          const local = bestHead(policy, readyHeads(shard), at);
          if (pressure !== null && local !== null && yields(shard, pressure, local, at))
            bounced.push(backend);
          else unreserve(shard, backend, at);
        }
        if (bounced.length > 0) giveBackSlots(bounced, at);
        settle(shard, at);
      });
    }
  }

  function hearPressure(shard: Shard, pressure: ReadyHead | null, waterline: number): void {
    shard.pressure = pressure;
    shard.waterline = waterline;
  }

  /** What a shard reports at a check-in: its best heads' keys, its overdue count, its completions. */
  function reportOf(shard: Shard, now: number): ShardReport {
    const keys: number[] = [];
    let overdue = 0;
    for (const h of readyHeads(shard)) {
      if (isOverdue(policy, h.head, now)) overdue++;
      else keys.push(h.rankKey);
    }
    keys.sort((a, b) => b - a);
    const completions = shard.completions;
    shard.completions = 0;
    const best = bestHead(policy, readyHeads(shard), now);
    if (shard.borrowedFor !== null && best !== null) shard.borrowedFor = best;
    return { topRankKeys: keys.slice(0, REPORT_TOP), overdue, completions, best };
  }

  /** A busy shard's periodic call to the root: its report goes up, the pressure and waterline come back. */
  function armCheckIn(shard: Shard, now: number): void {
    if (shard.checkInArmed || !Number.isFinite(config.checkInMs) || !busy(shard)) return;
    shard.checkInArmed = true;
    agenda.push({
      kind: 'message',
      atMs: now + config.checkInMs,
      rank: MESSAGE_RANK,
      deliver: (at) => {
        shard.checkInArmed = false;
        const report = reportOf(shard, at);
        send(at, (rootAt) => {
          rootCalls.checkIn++;
          root.report(shard.index, report);
          const pressure = root.pressureFor(shard.index, rootAt);
          const waterline = root.waterline();
          send(rootAt, (back) => {
            hearPressure(shard, pressure, waterline);
            settle(shard, back);
          });
        });
        armCheckIn(shard, at);
      },
    });
  }

  /** Running requests or waiting heads: a shard with neither has nothing to yield or to ask. */
  function busy(shard: Shard): boolean {
    const d = shard.scheduler.dispatcher;
    let reserved = 0;
    for (const list of shard.reserves.values()) reserved += list.length;
    return d.leaseCount > reserved || d.readyCount > 0;
  }

  function giveBack(shard: Shard, count: number, now: number): void {
    const slots: string[] = [];
    for (const b of shard.scheduler.dispatcher.backends(now)) {
      for (let free = b.maxConcurrency - b.inFlight; free > 0 && slots.length < count; free--) {
        reserve(shard, b.name, now);
        slots.push(b.name);
      }
    }
    if (slots.length > 0) giveBackSlots(slots, now);
  }

  /** Slots already reserved on a shard go back to the root, in one call. */
  function giveBackSlots(slots: readonly string[], now: number): void {
    send(now, (at) => {
      rootCalls.giveBack++;
      deliverLoans(root.giveBack(slots, at), at);
    });
  }

  /**
   * A shard's rules after anything happened to it: idle slots go back to the root when another shard is
   * waiting there (or beyond a batch kept for local bursts); waiting heads ask the root for a batch.
   */
  function settle(shard: Shard, now: number): void {
    collect(shard, now);
    armCheckIn(shard, now);
    const idle = shard.scheduler.dispatcher.freeSlots(now);
    if (idle > 0) {
      const keep = shard.pressure !== null ? 0 : config.batch;
      if (idle > keep) giveBack(shard, idle - keep, now);
    }
    if (shard.scheduler.dispatcher.readyCount === 0) return;
    const best = bestHead(policy, readyHeads(shard), now);
    if (best === null) return;
    // A better head than the one the root knows travels with the next check-in, unless it has just
    // become overdue: the starvation bound does not wait for the check-in beat.
    if (
      shard.borrowedFor !== null &&
      !(isOverdue(policy, best.head, now) && !isOverdue(policy, shard.borrowedFor.head, now))
    ) {
      return;
    }
    shard.borrowedFor = best;
    send(now, (at) => {
      rootCalls.borrow++;
      deliverLoans(root.borrow({ shard: shard.index, want: config.batch, best }, at), at);
    });
  }

  /**
   * A request ends. Its slot stays with its shard for the next local head unless the shard has heard of
   * a head waiting on another shard that beats it (see yields): then the slot is reserved before the
   * release, so the shard's coordinator cannot grant it locally, and goes back to the root at once. One
   * piece of news moves at most a batch of slots.
   */
  function completeOn(shard: Shard, request: SimRequest, now: number): void {
    const backend = recordOf(request.id).backend;
    const local = bestHead(policy, readyHeads(shard), now);
    const yieldSlot =
      backend !== null && shard.pressure !== null && yields(shard, shard.pressure, local, now);
    if (yieldSlot) reserve(shard, backend, now);
    collect(shard, now);
    if (completeLabRequest(shard.scheduler, request, SHARDED_POLICY, now)) {
      end(request.id, 'success', now);
    }
    shard.completions++;
    if (yieldSlot) giveBackSlots([backend], now);
    settle(shard, now);
  }

  /** Whether a slot should leave for the head waiting elsewhere rather than serve `local` (yieldRule). */
  function yields(shard: Shard, elsewhere: ReadyHead, local: ReadyHead | null, now: number): boolean {
    if (local === null) return true;
    if (compareHeads(policy, elsewhere, local, now) <= 0) return false;
    // The overdue tier is the starvation bound: it crosses shards under either rule.
    if (config.yieldRule === 'strict' || isOverdue(policy, elsewhere.head, now)) return true;
    return !isOverdue(policy, local.head, now) && local.rankKey < shard.waterline;
  }

  let now = 0;
  let lastSweepMs = -Infinity;
  for (;;) {
    const nextEventMs = agenda.peekTime();
    const wakeMs = nextWakeMs(shards, now);
    if (nextEventMs === null && wakeMs === null) break;
    if (wakeMs !== null && (nextEventMs === null || wakeMs <= nextEventMs)) {
      if (wakeMs < now || wakeMs === lastSweepMs) {
        throw new Error(`simulateSharded: asked to wake at ${wakeMs} ms after sweeping at ${lastSweepMs} ms`);
      }
      now = wakeMs;
      lastSweepMs = now;
      for (const shard of shards) {
        collect(shard, now);
        const swept = shard.scheduler.sweep(now);
        for (const id of swept.evicted) end(id, 'evicted', now);
        for (const id of swept.lost) end(id, 'lost', now);
        for (const id of [...shard.waiting]) {
          if (shard.scheduler.workload(id).queueSize === 0) shard.waiting.delete(id);
        }
        settle(shard, now);
      }
      continue;
    }
    const event = agenda.pop() as SimEvent;
    now = event.atMs;
    if (event.kind === 'message') {
      event.deliver(now);
      continue;
    }
    const { request } = event;
    const shard = shards[recordOf(request.id).shard] as Shard;
    if (event.kind === 'completion') {
      completeOn(shard, request, now);
      continue;
    }
    collect(shard, now);
    const admitted = admitLabRequest(shard.scheduler, request, now);
    if (admitted.kind === 'rejected') end(request.id, admitted.end.outcome, now);
    else shard.waiting.add(request.workloadId);
    settle(shard, now);
  }

  const out = [...records.values()];
  const live = out.find((r) => r.outcome === null);
  if (live) throw new Error(`simulateSharded: ${scenario.name} ended with ${live.request.id} still live`);
  return { scenario: scenario.name, config, records: out, endMs: now, rootCalls, order };
}

/** As the lab's simulate(): the dispatchers' deadlines and those of workloads with something queued. */
function nextWakeMs(shards: readonly Shard[], now: number): number | null {
  let next = Infinity;
  for (const shard of shards) {
    const d = shard.scheduler.dispatcher.nextDeadline(now);
    if (d !== null && d < RESERVE_EXPIRES_MS) next = Math.min(next, d);
    for (const id of shard.waiting) {
      next = Math.min(next, shard.scheduler.workload(id).nextDeadline(now) ?? Infinity);
    }
  }
  return Number.isFinite(next) ? next : null;
}
