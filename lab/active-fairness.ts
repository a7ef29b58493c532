// Active-window fairness: how evenly tokens are served among tenants while they are all backlogged, the
// situation the token bound (src/core/policy/workload-aware.ts) speaks about. Windows as in fairness.ts.
//
// In each window (FAIRNESS_WINDOW_MS) and criticality level, the tenants backlogged throughout the window
// (some request of theirs queued at every instant of it) are compared: each scores the tokens of its
// requests dispatched in the window divided by its weight. Jain's index over those scores is averaged
// over windows with at least two such tenants, weighted by the tokens dispatched to them. Each group's
// active share is its part of those tokens, summed over the same windows.

import { FAIRNESS_WINDOW_MS } from './fairness.ts';
import { jainIndex } from './metrics.ts';
import type { RequestRecord } from './simulate.ts';

export interface ActiveFairness {
  /** Null when no window had two tenants of one criticality backlogged throughout. */
  readonly jain: number | null;
  /** Group → its share of the tokens dispatched to backlogged tenants in those windows (sums to 1). */
  readonly groupShares: ReadonlyMap<string, number>;
}

interface TenantInfo {
  readonly group: string;
  readonly criticality: number;
  readonly weight: number;
  /** Merged [from, to) queueing intervals, in time order. */
  readonly queued: Array<[number, number]>;
  /** Window index → tokens dispatched in it. */
  readonly served: Map<number, number>;
}

export function activeFairness(
  records: readonly RequestRecord[],
  windowMs = FAIRNESS_WINDOW_MS,
): ActiveFairness {
  const tenants = new Map<string, TenantInfo>();
  const intervals = new Map<string, Array<[number, number]>>();
  for (const r of records) {
    const { workloadId, group, criticality, weight, arriveAtMs, tokens } = r.request;
    let t = tenants.get(workloadId);
    if (!t) {
      t = { group, criticality, weight: weight ?? 1, queued: [], served: new Map() };
      tenants.set(workloadId, t);
      intervals.set(workloadId, []);
    }
    const leftQueueAt = r.dispatchedAtMs ?? (r.outcome === 'rejected' ? null : r.endedAtMs);
    if (leftQueueAt !== null && leftQueueAt > arriveAtMs)
      intervals.get(workloadId)?.push([arriveAtMs, leftQueueAt]);
    if (r.dispatchedAtMs !== null) {
      const w = Math.floor(r.dispatchedAtMs / windowMs);
      t.served.set(w, (t.served.get(w) ?? 0) + tokens);
    }
  }
  for (const [id, list] of intervals) {
    list.sort((a, b) => a[0] - b[0]);
    const merged = (tenants.get(id) as TenantInfo).queued;
    for (const [from, to] of list) {
      const last = merged.at(-1);
      if (last && from <= last[1]) last[1] = Math.max(last[1], to);
      else merged.push([from, to]);
    }
  }

  // window → criticality → backlogged tenants
  const backlogged = new Map<number, Map<number, TenantInfo[]>>();
  for (const t of tenants.values()) {
    for (const [from, to] of t.queued) {
      // Windows lying entirely inside [from, to).
      for (let w = Math.ceil(from / windowMs); (w + 1) * windowMs <= to; w++) {
        let levels = backlogged.get(w);
        if (!levels) backlogged.set(w, (levels = new Map()));
        let list = levels.get(t.criticality);
        if (!list) levels.set(t.criticality, (list = []));
        list.push(t);
      }
    }
  }

  let weighted = 0;
  let total = 0;
  const groupTokens = new Map<string, number>();
  for (const [w, levels] of [...backlogged].sort((a, b) => a[0] - b[0])) {
    for (const list of levels.values()) {
      if (list.length < 2) continue;
      const tokens = list.map((t) => t.served.get(w) ?? 0);
      const sum = tokens.reduce((a, b) => a + b, 0);
      if (sum === 0) continue;
      weighted += jainIndex(list.map((t, i) => (tokens[i] as number) / t.weight)) * sum;
      total += sum;
      list.forEach((t, i) =>
        groupTokens.set(t.group, (groupTokens.get(t.group) ?? 0) + (tokens[i] as number)),
      );
    }
  }
  const groupShares = new Map([...groupTokens].map(([g, tokens]) => [g, tokens / total]));
  return { jain: total === 0 ? null : weighted / total, groupShares };
}
