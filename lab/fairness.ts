// Service fairness among workloads of equal criticality, per time window. Only equal criticality is
// compared: serving criticality 5 before 1 is the point, not an unfairness.
//
// In each window (default 10 s) and criticality level, a workload's demand is the number of its requests
// that were queued at some point in the window, and what it received is how many of them were dispatched
// in the window. The slots the level actually got are split max-min fairly over the demands; each
// workload scores received / fair share, and Jain's index is taken over those scores. The result is the
// mean over (window, level) pairs with at least two demanding workloads, weighted by dispatches, so a
// tenant that only waits on its own backlog is not counted as treated unfairly.

import { cellJain, FAIRNESS_WINDOW_MS } from '../src/core/metrics/fairness-math.ts';
import type { RequestRecord } from './simulate.ts';

export { FAIRNESS_WINDOW_MS };

interface Tally {
  demand: number;
  received: number;
}

/** Null when no window ever had two workloads of one criticality competing. */
export function windowedJain(
  records: readonly RequestRecord[],
  windowMs = FAIRNESS_WINDOW_MS,
): number | null {
  // window → criticality → workload → tally; Maps keep insertion order, so sums are deterministic.
  const windows = new Map<number, Map<number, Map<string, Tally>>>();
  const tallyOf = (window: number, criticality: number, workloadId: string): Tally => {
    let levels = windows.get(window);
    if (!levels) windows.set(window, (levels = new Map()));
    let workloads = levels.get(criticality);
    if (!workloads) levels.set(criticality, (workloads = new Map()));
    let tally = workloads.get(workloadId);
    if (!tally) workloads.set(workloadId, (tally = { demand: 0, received: 0 }));
    return tally;
  };

  for (const r of records) {
    const leftQueueAt = r.dispatchedAtMs ?? (r.outcome === 'rejected' ? null : r.endedAtMs);
    if (leftQueueAt === null) continue;
    const { workloadId, criticality, arriveAtMs } = r.request;
    const first = Math.floor(arriveAtMs / windowMs);
    const last = Math.floor(leftQueueAt / windowMs);
    for (let w = first; w <= last; w++) tallyOf(w, criticality, workloadId).demand++;
    if (r.dispatchedAtMs !== null) tallyOf(last, criticality, workloadId).received++;
  }

  let weighted = 0;
  let weight = 0;
  for (const levels of windows.values()) {
    for (const workloads of levels.values()) {
      const cell = cellJain([...workloads.values()]);
      if (cell === null) continue;
      weighted += cell.jain * cell.weight;
      weight += cell.weight;
    }
  }
  return weight === 0 ? null : weighted / weight;
}
