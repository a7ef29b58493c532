// What a scenario is: backends, load and queue settings, plus the prose the report prints about it.
// Definitions live in scenarios.ts; this file holds only the shape and its validation.

import type { ArrivalPattern } from './arrivals.ts';
import type { BackendModel } from './backend-model.ts';
import type { TokenLengths } from './token-lengths.ts';

export interface WorkloadSpec {
  readonly id: string;
  /** 1..5, 5 most urgent; every request of the workload carries it. */
  readonly criticality: number;
  readonly arrivals: ArrivalPattern;
  /** Overrides the scenario's completion lengths for this workload. */
  readonly tokens?: TokenLengths;
  /** Report row; defaults to the workload ID. Every workload in a group has the same criticality. */
  readonly group?: string;
  /** Chart series; defaults to the group. */
  readonly series?: string;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** The property the scenario exists to show, in a sentence or two. */
  readonly purpose: string;
  /** Seeds every random draw (arrivals, lengths); the requests are identical under every policy. */
  readonly seed: number;
  readonly backends: readonly BackendModel[];
  readonly tokens: TokenLengths;
  readonly queueTtlMs: number;
  readonly maxQueuePerWorkload?: number;
  readonly workloads: readonly WorkloadSpec[];
  /** Replaces the generated per-workload load lines when there are too many workloads to list. */
  readonly loadSummary?: readonly string[];
  /** Why the parameters are what they are, for the report. */
  readonly notes: readonly string[];
}

export function groupOf(w: WorkloadSpec): string {
  return w.group ?? w.id;
}

export function seriesOf(w: WorkloadSpec): string {
  return w.series ?? groupOf(w);
}

/** Throws a TypeError naming the field: a bad scenario is a bug in the lab, not a result. */
export function validateScenario(s: Scenario): void {
  const fail = (what: string): never => {
    throw new TypeError(`scenario ${s.name}: ${what}`);
  };
  if (s.backends.length === 0) fail('needs at least one backend');
  if (!(s.queueTtlMs > 0)) fail(`queueTtlMs must be > 0, got ${s.queueTtlMs}`);
  const ids = new Set<string>();
  const groupCriticality = new Map<string, number>();
  for (const w of s.workloads) {
    if (ids.has(w.id)) fail(`workload ${w.id} is listed twice`);
    ids.add(w.id);
    if (!Number.isInteger(w.criticality) || w.criticality < 1 || w.criticality > 5) {
      fail(`workload ${w.id}: criticality must be an integer in 1..5, got ${w.criticality}`);
    }
    const seen = groupCriticality.get(groupOf(w));
    if (seen !== undefined && seen !== w.criticality) fail(`group ${groupOf(w)} mixes criticalities`);
    groupCriticality.set(groupOf(w), w.criticality);
  }
}
