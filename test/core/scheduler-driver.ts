// Test helper, not a test: drives a LocalScheduler the way the Durable Object hosts would, event by event
// (arrivals, completions after a service time, alarms at nextDeadline), with time as a plain number.

import type { LocalScheduler } from '../../src/core/index.ts';
import { ENDED } from '../../src/core/outcome.ts';
import type { Criticality } from '../../src/core/workload-context.ts';

export interface Arrival {
  readonly at: number;
  readonly workloadId: string;
  readonly requestId: string;
  readonly criticality: Criticality;
  readonly serviceMs: number;
}

export interface DispatchRecord {
  readonly requestId: string;
  readonly workloadId: string;
  readonly criticality: number;
  readonly enqueuedAt: number;
  readonly dispatchedAt: number;
  readonly waitMs: number;
  readonly backend: string;
}

export interface DriveResult {
  readonly dispatched: readonly DispatchRecord[];
  readonly rejected: readonly string[];
  readonly evicted: readonly string[];
  readonly endMs: number;
}

/**
 * Runs until every arrival has been admitted and nothing is queued or in flight, or until `untilMs`.
 * At each event time: completions first (they free slots), then arrivals, then the alarm if it is due,
 * then dispatch. The alarm is the nextDeadline() computed after the previous event, as a host would set
 * it; it is not re-read at wake-up, because an aging transition is reported only while it is in the future.
 */
export function driveEventLoop(
  scheduler: LocalScheduler,
  arrivals: readonly Arrival[],
  untilMs = Infinity,
): DriveResult {
  const pending = [...arrivals].sort((a, b) => a.at - b.at);
  const meta = new Map<string, Arrival>();
  const inFlight = new Map<string, { readonly workloadId: string; readonly finishAt: number }>();
  const dispatched: DispatchRecord[] = [];
  const rejected: string[] = [];
  const evicted: string[] = [];
  let next = 0;
  let queued = 0;
  let now = pending[0]?.at ?? 0;
  let alarm: number | null = null;

  for (;;) {
    const due = [...inFlight.entries()]
      .filter(([, f]) => f.finishAt <= now)
      .sort((a, b) => a[1].finishAt - b[1].finishAt);
    for (const [id, f] of due) {
      scheduler.complete(f.workloadId, id, ENDED.completed, now);
      inFlight.delete(id);
    }
    for (let a = pending[next]; a && a.at <= now; a = pending[++next]) {
      meta.set(a.requestId, a);
      const result = scheduler.admit(a.workloadId, a.requestId, a.criticality, now);
      if (result.kind === 'rejected') rejected.push(a.requestId);
      else queued++;
    }
    if (alarm !== null && alarm <= now) {
      const swept = scheduler.sweep(now);
      evicted.push(...swept.evicted);
      queued -= swept.evicted.length;
    }
    for (const d of scheduler.dispatch(now)) {
      const a = meta.get(d.requestId);
      if (!a) throw new Error(`dispatched unknown request ${d.requestId}`);
      queued--;
      inFlight.set(d.requestId, { workloadId: d.workloadId, finishAt: now + a.serviceMs });
      dispatched.push({
        requestId: d.requestId,
        workloadId: d.workloadId,
        criticality: a.criticality,
        enqueuedAt: now - d.waitMs,
        dispatchedAt: now,
        waitMs: d.waitMs,
        backend: d.backend,
      });
    }

    if (next >= pending.length && inFlight.size === 0 && queued === 0) break;
    let wake = pending[next]?.at ?? Infinity;
    for (const f of inFlight.values()) wake = Math.min(wake, f.finishAt);
    alarm = scheduler.nextDeadline(now);
    // A deadline not after `now` was handled by this event's sweep, or is one no sweep clears (an idle
    // workload's, see local-scheduler.test.ts): either way it is no reason to wake up.
    if (alarm !== null && alarm > now) wake = Math.min(wake, alarm);
    if (!Number.isFinite(wake) || wake > untilMs) break;
    now = wake;
  }
  return { dispatched, rejected, evicted, endMs: now };
}
