// What a scenario is: backends, load and queue settings, and the prose the report prints about its runs.
// Each scenario lives in lab/scenarios/ with its group IDs as a type, so findings that name a group the
// scenario does not have fail to compile. This file holds only the shape and its validation.

import type { ArrivalPattern } from './arrivals.ts';
import type { BackendModel } from './backend-model.ts';
import type { LabPolicyName } from './policies.ts';
import type { RunSummary } from './summarize.ts';
import type { MaxTokensModel, TokenLengths } from './token-lengths.ts';

interface WorkloadFields {
  /** 1..5, 5 most urgent; every request of the workload carries it. */
  readonly criticality: number;
  readonly arrivals: ArrivalPattern;
  /** Overrides the scenario's completion lengths for this workload. */
  readonly tokens?: TokenLengths;
  /** What its client asks for as max_tokens; DEFAULT_MAX_TOKENS_MODEL (the cap) when absent. */
  readonly maxTokens?: MaxTokensModel;
  /** Its share weight under token fairness (WORKLOAD_WEIGHTS); the core's default when absent. */
  readonly weight?: number;
  /** Chart series; defaults to the group. */
  readonly series?: string;
}

/**
 * A workload and its report row (group), one of the scenario's group IDs G: its own ID by default, or a
 * named group. Every workload in a group has the same criticality.
 */
export type WorkloadSpec<G extends string = string> = WorkloadFields &
  ({ readonly id: G; readonly group?: undefined } | { readonly id: string; readonly group: G });

/** One run of a scenario per policy. */
export type Runs<G extends string = string> = ReadonlyMap<LabPolicyName, RunSummary<G>>;

export interface Scenario<G extends string = string> {
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
  readonly workloads: readonly WorkloadSpec<G>[];
  /** Replaces the generated per-workload load lines when there are too many workloads to list. */
  readonly loadSummary?: readonly string[];
  /** Why the parameters are what they are, for the report. */
  readonly notes: readonly string[];
  /** The one figure per run the summary table shows. */
  keyMetric(run: RunSummary<G>): string;
  /**
   * What the runs' numbers say, in sentences built from those numbers. Claims that could flip with the
   * numbers are conditional, so the prose cannot contradict the tables it sits above.
   */
  findings(runs: Runs<G>): string[];
}

export function groupOf<G extends string>(w: WorkloadSpec<G>): G {
  // A workload without a group is typed with an ID in G (see WorkloadSpec); TypeScript cannot narrow on it.
  return w.group ?? (w.id as G);
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
    if (w.weight !== undefined && !(w.weight > 0 && Number.isFinite(w.weight))) {
      fail(`workload ${w.id}: weight must be a positive number, got ${w.weight}`);
    }
    if (w.maxTokens?.kind === 'multiple' && !(w.maxTokens.factor >= 1)) {
      fail(`workload ${w.id}: maxTokens factor must be ≥ 1, got ${w.maxTokens.factor}`);
    }
    const seen = groupCriticality.get(groupOf(w));
    if (seen !== undefined && seen !== w.criticality) fail(`group ${groupOf(w)} mixes criticalities`);
    groupCriticality.set(groupOf(w), w.criticality);
  }
}
